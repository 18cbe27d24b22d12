package dev.sesame.db;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.Main;
import dev.sesame.config.Config;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad days for the database: the embedded server killed, every connection terminated, the database read-only. */
class DatabaseFaultTest {
  @Test
  void a_killed_embedded_postgres_is_started_again_and_meanwhile_requests_get_503(@TempDir Path data)
      throws Exception {
    int port = TestServer.freePort();
    Map<String, String> env = Map.of("SESAME_PORT", Integer.toString(port), "SESAME_BIND_HOST", "127.0.0.1",
        "SESAME_DATA_DIR", data.toString(), "SESAME_EMAIL_DOMAIN_CHECK", "off", // no DNS in tests
        "SESAME_METRICS_TOKEN", "fault-test-metrics-token");
    try (Main main = new Main(Config.load(env)).start()) {
      Http http = new Http("http://127.0.0.1:" + port);
      assertTrue(http.get("/metrics", "Authorization", "Bearer fault-test-metrics-token").body()
          .contains("sesame_database_embedded_restarts_total 0.0"));
      String userId = DevMailbox.signIn(http, "survivor@example.com").get("user").get("id").asText();

      long pid = Long.parseLong(Files.readAllLines(data.resolve("postgres/postmaster.pid")).get(0).strip());
      ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
      postmaster.destroyForcibly(); // SIGKILL, as the OOM killer would
      postmaster.onExit().get();

      // Readiness turns within a probe or two; liveness stays up, since the process is recovering by itself.
      await(() -> http.get("/ready").status() == 503, Duration.ofSeconds(10), "/ready never turned 503");
      // Requests that need the database get a quick 503 with Retry-After, never a 500. (Sampled until the restart.)
      List<Integer> statuses = new ArrayList<>();
      boolean saw503 = false;
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < deadline) {
        long began = System.nanoTime();
        Http.Response r = http.post("/v1/email/start", Map.of("email", "during@example.com"));
        long tookMs = (System.nanoTime() - began) / 1_000_000;
        statuses.add(r.status());
        if (r.status() == 202) {
          break; // the database is back
        }
        assertProblem(r, 503, "database_unavailable");
        assertEquals("2", r.header("Retry-After"));
        assertTrue(tookMs < 8_000, "a 503 must not wait out the pool (took " + tookMs + " ms)");
        saw503 = true;
        assertEquals(200, http.get("/health").status(), "alive while recovering");
        Thread.sleep(200);
      }
      assertTrue(saw503, "the outage was seen: " + statuses);
      assertTrue(statuses.stream().allMatch(s -> s == 503 || s == 202), statuses.toString());

      await(() -> http.get("/ready").status() == 200, Duration.ofSeconds(60), "never ready again");
      assertEquals(userId, DevMailbox.signIn(http, "survivor@example.com").get("user").get("id").asText(),
          "the same data, after the restart");
      long newPid = Long.parseLong(Files.readAllLines(data.resolve("postgres/postmaster.pid")).get(0).strip());
      assertTrue(newPid != pid, "a new postmaster");
      String metrics = http.get("/metrics", "Authorization", "Bearer fault-test-metrics-token").body();
      assertTrue(metrics.contains("sesame_database_embedded_restarts_total 1.0"), "the restart is counted");
    }
  }

  @Test
  void a_request_waiting_for_a_connection_when_the_database_dies_is_let_go_at_once(@TempDir Path data)
      throws Exception {
    Config config = Config.load(Map.of("SESAME_DATA_DIR", data.toString(), "SESAME_DATABASE_POOL_SIZE", "1",
        "SESAME_EMAIL_DOMAIN_CHECK", "off"));
    try (Database database = Database.open(config)) {
      // The pool's only connection is busy: the next request waits for it (up to the pool's 5 s).
      java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      Thread holder = new Thread(() -> {
        try {
          database.jdbi().useHandle(h -> {
            h.createQuery("SELECT 1").mapTo(Integer.class).one();
            holding.countDown();
            release.await();
          });
        } catch (InterruptedException | RuntimeException ignored) {
          // the connection died under it: expected
        }
      });
      holder.start();
      holding.await();
      java.util.concurrent.CompletableFuture<Throwable> waiter = java.util.concurrent.CompletableFuture.supplyAsync(
          () -> {
            try {
              database.jdbi().withHandle(h -> h.createQuery("SELECT 1").mapTo(Integer.class).one());
              return null;
            } catch (RuntimeException e) {
              return e;
            }
          });
      Thread.sleep(200); // it is waiting now
      long pid = Long.parseLong(Files.readAllLines(data.resolve("postgres/postmaster.pid")).get(0).strip());
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      Throwable failed = waiter.get(30, java.util.concurrent.TimeUnit.SECONDS);
      release.countDown();
      holder.join();
      assertTrue(failed != null, "the waiting request failed");
      String message = String.valueOf(failed.getMessage()) + " " + failed.getCause();
      // Let go by the probe that found the database gone, not by the pool giving up after its timeout.
      assertTrue(message.contains("became unreachable"), message);
      assertTrue(Database.unavailable(failed), "and it is answered as 503: " + message);
      assertTrue(!Thread.currentThread().isInterrupted());
    }
  }

  @Test
  void after_every_connection_is_terminated_the_next_requests_still_succeed() throws Exception {
    try (TestServer server = TestServer.start()) {
      Http http = server.http();
      String token = DevMailbox.signIn(http, "terminated@example.com").get("access_token").asText();
      for (int round = 0; round < 3; round++) {
        server.jdbi().useHandle(h -> h.execute("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()"""));
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          statuses.add(i % 2 == 0
              ? http.get("/v1/sessions", "Authorization", "Bearer " + token).status()
              : http.post("/v1/email/start", Map.of("email", "t" + round + "-" + i + "@example.com")).status());
        }
        assertTrue(statuses.stream().allMatch(s -> s == 200 || s == 202), "round " + round + ": " + statuses);
      }
    }
  }

  @Test
  void a_read_only_database_makes_the_node_not_ready_and_writes_503() throws Exception {
    try (TestServer server = TestServer.start()) {
      Http http = server.http();
      String database = server.jdbi().withHandle(h -> h.createQuery("SELECT current_database()")
          .mapTo(String.class).one());
      assertEquals(200, http.get("/ready").status());
      setReadOnly(server, database, true);
      try {
        await(() -> http.get("/ready").status() == 503, Duration.ofSeconds(10), "/ready never turned 503");
        Http.Response ready = http.get("/ready");
        assertTrue(ready.json().get("detail").asText().contains("read-only"), ready.body());
        Http.Response start = http.post("/v1/email/start", Map.of("email", "ro@example.com"));
        assertProblem(start, 503, "database_unavailable");
        assertEquals("2", start.header("Retry-After"));
        assertEquals(200, http.get("/health").status());
      } finally {
        setReadOnly(server, database, false);
      }
      await(() -> http.get("/ready").status() == 200, Duration.ofSeconds(10), "never ready again");
      assertEquals(202, http.post("/v1/email/start", Map.of("email", "rw@example.com")).status());
    }
  }

  /** Makes new connections read-only (or writable again) and ends the existing ones so they reconnect. */
  private static void setReadOnly(TestServer server, String database, boolean readOnly) {
    server.jdbi().useHandle(h -> {
      h.execute("SET default_transaction_read_only = off"); // this connection may be one of the read-only ones
      h.execute("ALTER DATABASE " + database + (readOnly ? " SET default_transaction_read_only = on"
          : " RESET default_transaction_read_only"));
      h.execute("""
          SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()""");
    });
  }

  private static void await(BooleanSupplier condition, Duration timeout, String message) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, message);
      Thread.sleep(100);
    }
  }
}
