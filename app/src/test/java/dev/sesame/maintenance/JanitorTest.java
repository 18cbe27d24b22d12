package dev.sesame.maintenance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.support.DevMailbox;
import dev.sesame.support.TestServer;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

class JanitorTest {
  @Test
  void spent_rows_are_deleted_and_live_ones_kept() {
    try (TestServer server = TestServer.start()) {
      DevMailbox.signIn(server.http(), "live@example.com");
      DevMailbox.signIn(server.http(), "old@example.com");
      Jdbi db = server.jdbi();
      db.useHandle(h -> {
        h.execute("UPDATE rate_limits SET tat = now() - interval '1 second'"); // the buckets are empty again
        h.execute("""
            INSERT INTO used_challenges (challenge, expires_at)
            VALUES ('\\x01', now() - interval '1 second'), ('\\x02', now() + interval '5 minutes')""");
        h.execute("UPDATE email_flows SET expires_at = now() - interval '2 days' WHERE email = 'old@example.com'");
        h.execute("UPDATE email_outbox SET created_at = now() - interval '8 days' WHERE recipient = 'old@example.com'");
        h.execute("""
            UPDATE sessions SET revoked_at = now() - interval '31 days'
            WHERE user_id = (SELECT id FROM users WHERE email = 'old@example.com')""");
      });
      int deleted = new Janitor(db, java.time.Duration.ofDays(365)).run();
      assertEquals(0, count(db, "rate_limits"));
      assertEquals(1, count(db, "used_challenges"), "a challenge is remembered until it expires");
      assertEquals(1, count(db, "email_flows"));
      assertEquals(1, count(db, "email_outbox"));
      assertEquals(1, count(db, "sessions"));
      assertEquals(1, count(db, "refresh_tokens"), "the old session's refresh token went with it");
      assertEquals(2, count(db, "users"), "accounts are never cleaned up");
      assertEquals(true, deleted >= 4);
    }
  }

  private static int count(Jdbi db, String table) {
    return db.withHandle(h -> h.createQuery("SELECT count(*) FROM " + table).mapTo(Integer.class).one());
  }

  @Test
  void running_twice_is_harmless() {
    try (TestServer server = TestServer.start(Map.of())) {
      Janitor janitor = new Janitor(server.jdbi(), java.time.Duration.ofDays(365));
      janitor.run();
      assertEquals(0, janitor.run());
    }
  }

  @Test
  void audit_events_older_than_the_retention_go_in_batches_and_newer_ones_stay() {
    try (TestServer server = TestServer.start(Map.of())) {
      Jdbi db = server.jdbi();
      int old = Janitor.BATCH + 5; // more than one batch
      db.useHandle(h -> {
        h.execute("INSERT INTO audit_events (occurred_at, type) SELECT now() - interval '40 days', 'test.old' "
            + "FROM generate_series(1, " + old + ")");
        h.execute("INSERT INTO audit_events (occurred_at, type) VALUES (now() - interval '20 days', 'test.new')");
      });
      new Janitor(db, java.time.Duration.ofDays(30)).run();
      assertEquals(0, count(db, "audit_events WHERE type = 'test.old'"));
      assertEquals(1, count(db, "audit_events WHERE type = 'test.new'"));
    }
  }

  @Test
  void the_clean_up_command_runs_a_pass_with_the_configured_retention() {
    try (TestServer server = TestServer.start(Map.of("SESAME_AUDIT_RETENTION", "30d"))) {
      Jdbi db = server.jdbi();
      db.useHandle(h -> h.execute("""
          INSERT INTO audit_events (occurred_at, type)
          VALUES (now() - interval '40 days', 'passkey.sign_in.succeeded'),
                 (now() - interval '40 days', 'passkey.sign_in.succeeded'),
                 (now() - interval '20 days', 'email.sign_in.succeeded')"""));
      TestServer.CliResult result = TestServer.cli(server, "clean-up");
      assertEquals(0, result.status(), result.stderr());
      assertEquals(0, count(db, "audit_events WHERE type = 'passkey.sign_in.succeeded'"));
      assertEquals(1, count(db, "audit_events WHERE type = 'email.sign_in.succeeded'"));
      assertTrue(result.stdout().matches("Deleted [2-9]\\d* rows\\.\\s*"), result.stdout());
      assertEquals(2, (int) db.withHandle(h -> h.createQuery("SELECT sum(value) FROM stats_daily WHERE day = :day")
          .bind("day", java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(40)).mapTo(Integer.class).one()),
          "the dashboard's days were rolled up before the events went");
      assertEquals(2, TestServer.cli(server, "clean-up", "now").status(), "no arguments");
    }
  }
}
