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
