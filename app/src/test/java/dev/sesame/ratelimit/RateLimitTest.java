package dev.sesame.ratelimit;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.support.Http;
import dev.sesame.support.TestServer;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RateLimitTest {
  @Test
  void starts_per_email_are_limited_the_same_for_unknown_emails() {
    try (TestServer server = TestServer.start(Map.of("SESAME_RATE_LIMIT_EMAIL", "3/15m"))) {
      Http http = server.http();
      for (String email : new String[] {"never-seen@example.com", "other@example.com"}) {
        for (int i = 0; i < 3; i++) {
          assertEquals(202, http.post("/v1/email/start", Map.of("email", email)).status());
        }
        Http.Response limited = http.post("/v1/email/start", Map.of("email", email.toUpperCase()));
        assertProblem(limited, 429, "rate_limited");
        long retryAfter = Long.parseLong(limited.header("Retry-After"));
        assertTrue(retryAfter >= 1 && retryAfter <= 900, "Retry-After " + retryAfter);
      }
      int flows = server.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM email_flows")
          .mapTo(Integer.class).one());
      assertEquals(6, flows, "a limited start creates no flow and sends no mail");
    }
  }

  @Test
  void a_window_boundary_lets_nothing_extra_through() throws InterruptedException {
    // The finding: with fixed 10 s windows, 5 starts just before a boundary and 5 just after all passed.
    try (TestServer server = TestServer.start(Map.of("SESAME_RATE_LIMIT_EMAIL", "5/10s"))) {
      Http http = server.http();
      long boundary = (System.currentTimeMillis() / 10_000 + 1) * 10_000;
      if (boundary - System.currentTimeMillis() < 600) {
        boundary += 10_000;
      }
      Thread.sleep(boundary - System.currentTimeMillis() - 400);
      long began = System.nanoTime();
      int accepted = 0;
      for (int i = 0; i < 5; i++) {
        accepted += http.post("/v1/email/start", Map.of("email", "edge@example.com")).status() == 202 ? 1 : 0;
      }
      Thread.sleep(Math.max(0, boundary - System.currentTimeMillis() + 100));
      Http.Response last = null;
      for (int i = 0; i < 5; i++) {
        last = http.post("/v1/email/start", Map.of("email", "edge@example.com"));
        accepted += last.status() == 202 ? 1 : 0;
      }
      double elapsed = (System.nanoTime() - began) / 1e9;
      // GCRA: a burst of 5, then one every 2 s; never 10 within a second or so.
      assertTrue(accepted <= 5 + (int) (elapsed / 2), accepted + " accepted in " + elapsed + " s");
      assertProblem(last, 429, "rate_limited");
      long retryAfter = Long.parseLong(last.header("Retry-After"));
      assertTrue(retryAfter >= 1 && retryAfter <= 2, "the next start is due within one interval: " + retryAfter);
    }
  }

  @Test
  void a_refused_hit_does_not_push_the_wait_further_out() throws InterruptedException {
    try (TestServer server = TestServer.start(Map.of("SESAME_RATE_LIMIT_EMAIL", "2/2s"))) {
      Http http = server.http();
      assertEquals(202, http.post("/v1/email/start", Map.of("email", "flood@example.com")).status());
      assertEquals(202, http.post("/v1/email/start", Map.of("email", "flood@example.com")).status());
      for (int i = 0; i < 20; i++) {
        assertProblem(http.post("/v1/email/start", Map.of("email", "flood@example.com")), 429, "rate_limited");
      }
      Thread.sleep(1_100); // one emission interval: the victim may try again, however many refusals came between
      assertEquals(202, http.post("/v1/email/start", Map.of("email", "flood@example.com")).status());
    }
  }

  @Test
  void requests_per_client_ip_are_limited() {
    try (TestServer server = TestServer.start(Map.of("SESAME_RATE_LIMIT_IP", "4/1h"))) {
      Http http = server.http();
      for (int i = 0; i < 4; i++) {
        assertEquals(202, http.post("/v1/email/start", Map.of("email", "u" + i + "@example.com")).status());
      }
      assertProblem(http.post("/v1/email/start", Map.of("email", "u9@example.com")), 429, "rate_limited");
    }
  }

  @Test
  void forwarded_for_is_believed_only_from_trusted_proxies() {
    try (TestServer trusting = TestServer.start(Map.of("SESAME_RATE_LIMIT_IP", "2/1h",
        "SESAME_TRUSTED_PROXIES", "127.0.0.1/32"))) {
      Http http = trusting.http();
      // Behind a trusted proxy every client has its own budget...
      for (String client : new String[] {"203.0.113.7", "203.0.113.8"}) {
        for (int i = 0; i < 2; i++) {
          assertEquals(202, http.post("/v1/email/start", Map.of("email", client + "-" + i + "@example.com"),
              "X-Forwarded-For", "198.51.100.1, " + client).status());
        }
      }
      // ...and the left-most, client-written entries change nothing.
      assertProblem(http.post("/v1/email/start", Map.of("email", "x@example.com"),
          "X-Forwarded-For", "10.9.9.9, 203.0.113.7"), 429, "rate_limited");
      String ip = trusting.jdbi().withHandle(h -> h.createQuery(
          "SELECT ip FROM email_flows ORDER BY created_at LIMIT 1").mapTo(String.class).one());
      assertEquals("203.0.113.7", ip);
    }
    try (TestServer untrusting = TestServer.start(Map.of("SESAME_RATE_LIMIT_IP", "2/1h"))) {
      Http http = untrusting.http();
      for (int i = 0; i < 2; i++) {
        assertEquals(202, http.post("/v1/email/start", Map.of("email", "n" + i + "@example.com"),
            "X-Forwarded-For", "203.0.113." + i).status());
      }
      assertProblem(http.post("/v1/email/start", Map.of("email", "n9@example.com"),
          "X-Forwarded-For", "203.0.113.99"), 429, "rate_limited");
    }
  }
}
