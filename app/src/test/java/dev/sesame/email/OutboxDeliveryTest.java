package dev.sesame.email;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.sesame.support.Http;
import dev.sesame.support.SmtpServers;
import dev.sesame.support.TestServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutboxDeliveryTest {
  @Test
  void mail_queued_while_smtp_is_down_is_delivered_when_it_comes_back() throws Exception {
    int smtpPort = TestServer.freePort();
    try (TestServer server = TestServer.start(Map.of("SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(smtpPort), "SESAME_SMTP_TLS", "none"))) {
      Http http = server.http();
      // The request succeeds although no mail server is reachable: the message waits in the outbox.
      assertEquals(202, http.post("/v1/email/start", Map.of("email", "patient@example.com")).status());
      assertEquals(202, http.post("/v1/email/start", Map.of("email", "patient2@example.com")).status());
      awaitTrue(() -> server.jdbi().withHandle(h -> h.createQuery(
          "SELECT count(*) FROM email_outbox WHERE attempts >= 1 AND last_error IS NOT NULL AND status = 'pending'")
          .mapTo(Integer.class).one()) == 2, Duration.ofSeconds(20));

      GreenMail smtp = SmtpServers.start(smtpPort, ServerSetup.PROTOCOL_SMTP);
      try {
        assertTrue(smtp.waitForIncomingEmail(Duration.ofSeconds(30).toMillis(), 2), "both queued emails arrive");
        assertEquals(2, smtp.getReceivedMessages().length);
        awaitTrue(() -> server.jdbi().withHandle(h -> h.createQuery(
            "SELECT count(*) FROM email_outbox WHERE status = 'sent'").mapTo(Integer.class).one()) == 2,
            Duration.ofSeconds(10));
        String subject = smtp.getReceivedMessages()[0].getSubject();
        assertNotNull(subject);
      } finally {
        smtp.stop();
      }
    }
  }

  @Test
  void mail_that_expired_while_waiting_is_dropped_not_sent() throws Exception {
    int smtpPort = TestServer.freePort();
    try (TestServer server = TestServer.start(Map.of("SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(smtpPort), "SESAME_SMTP_TLS", "none",
        "SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true"))) {
      // Someone listens for failed deliveries (the endpoint is down: its delivery waits in the table).
      assertEquals(0, TestServer.cli(server, "webhook", "create", "http://127.0.0.1:" + TestServer.freePort()
          + "/h", "--events", "email.delivery_failed").status());
      assertEquals(202, server.http().post("/v1/email/start", Map.of("email", "late@example.com")).status());
      server.jdbi().useHandle(h -> h.execute(
          "UPDATE email_outbox SET expires_at = now() - interval '1 second', next_attempt_at = now()"));
      awaitTrue(() -> "expired".equals(server.jdbi().withHandle(h -> h.createQuery(
          "SELECT status FROM email_outbox").mapTo(String.class).one())), Duration.ofSeconds(10));
      String body = server.jdbi().withHandle(h -> h.createQuery("SELECT text_body FROM email_outbox")
          .mapTo(String.class).one());
      assertEquals(null, body, "an expired message keeps no live link");
      // Recorded, and queued for the webhook, in the statement that dropped it: ids only, no address.
      String payload = server.jdbi().withHandle(h -> h.createQuery("""
          SELECT payload::text FROM webhook_deliveries WHERE event_type = 'email.delivery_failed'""")
          .mapTo(String.class).one());
      assertTrue(payload.contains("outboxId") && payload.contains("expired_"), payload);
      assertFalse(payload.contains("late@example.com"), payload);
      assertEquals(1, (long) server.jdbi().withHandle(h -> h.createQuery(
          "SELECT count(*) FROM audit_events WHERE type = 'email.delivery_failed'").mapTo(Long.class).one()));
    }
  }

  @Test
  void two_nodes_sharing_a_database_deliver_each_message_exactly_once() throws Exception {
    GreenMail smtp = SmtpServers.start(0, ServerSetup.PROTOCOL_SMTP);
    String db = dev.sesame.support.TestDatabase.create();
    Map<String, String> env = Map.of("SESAME_DATABASE_URL", db, "SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(smtp.getSmtp().getPort()), "SESAME_SMTP_TLS", "none",
        "SESAME_PUBLIC_URL", "http://localhost:18080");
    try (TestServer a = TestServer.start(env); TestServer b = TestServer.start(env)) {
      for (int i = 0; i < 20; i++) {
        TestServer node = i % 2 == 0 ? a : b;
        assertEquals(202, node.http().post("/v1/email/start", Map.of("email", "n" + i + "@example.com")).status());
      }
      assertTrue(smtp.waitForIncomingEmail(Duration.ofSeconds(30).toMillis(), 20));
      Thread.sleep(1500); // a duplicate would arrive within the senders' next round
      assertEquals(20, smtp.getReceivedMessages().length);
      java.util.Set<String> recipients = new java.util.HashSet<>();
      for (var m : smtp.getReceivedMessages()) {
        recipients.add(m.getAllRecipients()[0].toString());
      }
      assertEquals(20, recipients.size());
    } finally {
      smtp.stop();
    }
  }

  @Test
  void when_writing_an_outcome_fails_the_rest_of_the_batch_is_still_sent_and_nothing_twice() throws Exception {
    GreenMail smtp = SmtpServers.start(0, ServerSetup.PROTOCOL_SMTP);
    try (TestServer server = TestServer.start(Map.of("SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(smtp.getSmtp().getPort()), "SESAME_SMTP_TLS", "none"))) {
      // The fault: while a row is in outbox_fault, marking a message delivered fails in the database.
      server.jdbi().useHandle(h -> {
        h.execute("CREATE TABLE outbox_fault (on_ boolean)");
        h.execute("INSERT INTO outbox_fault VALUES (true)");
        h.execute("""
            CREATE FUNCTION outbox_fault() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.status <> 'pending' AND EXISTS (SELECT 1 FROM outbox_fault) THEN
                RAISE EXCEPTION 'injected fault: the database is away';
              END IF;
              RETURN NEW;
            END $$""");
        h.execute("CREATE TRIGGER outbox_fault BEFORE UPDATE ON email_outbox FOR EACH ROW EXECUTE FUNCTION outbox_fault()");
        // Eight messages queued at once: the sender claims them in one batch.
        h.execute("""
            INSERT INTO email_outbox (recipient, subject, text_body, html_body, expires_at)
            SELECT 'batch' || i || '@example.com', 'Message ' || i, 'text', '<p>html</p>', now() + interval '10 minutes'
            FROM generate_series(1, 8) i""");
      });
      // All eight arrive long before the claim's 2-minute lease would have released them.
      assertTrue(smtp.waitForIncomingEmail(Duration.ofSeconds(30).toMillis(), 8), "the whole batch is sent");
      int written = server.jdbi().withHandle(h -> h.createQuery(
          "SELECT count(*) FROM email_outbox WHERE status = 'sent'").mapTo(Integer.class).one());
      assertEquals(0, written, "the outcomes could not be written yet");

      server.jdbi().useHandle(h -> h.execute("DELETE FROM outbox_fault")); // the database is back
      awaitTrue(() -> server.jdbi().withHandle(h -> h.createQuery(
          "SELECT count(*) FROM email_outbox WHERE status = 'sent'").mapTo(Integer.class).one()) == 8,
          Duration.ofSeconds(20));
      Thread.sleep(1500); // a duplicate would come with the sender's next rounds
      assertEquals(8, smtp.getReceivedMessages().length, "each message exactly once");
    } finally {
      smtp.stop();
    }
  }

  @Test
  void backoff_grows_and_is_capped() {
    assertTrue(Outbox.backoff(1).toMillis() <= 1200);
    assertTrue(Outbox.backoff(5).toMillis() >= 16 * 800);
    assertTrue(Outbox.backoff(40).toMillis() <= Duration.ofMinutes(12).toMillis());
  }

  static void awaitTrue(java.util.function.BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("condition not met within " + timeout);
  }
}
