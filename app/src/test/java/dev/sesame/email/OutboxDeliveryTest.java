package dev.sesame.email;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        "SESAME_SMTP_PORT", Integer.toString(smtpPort), "SESAME_SMTP_TLS", "none"))) {
      assertEquals(202, server.http().post("/v1/email/start", Map.of("email", "late@example.com")).status());
      server.jdbi().useHandle(h -> h.execute(
          "UPDATE email_outbox SET expires_at = now() - interval '1 second', next_attempt_at = now()"));
      awaitTrue(() -> "expired".equals(server.jdbi().withHandle(h -> h.createQuery(
          "SELECT status FROM email_outbox").mapTo(String.class).one())), Duration.ofSeconds(10));
      String body = server.jdbi().withHandle(h -> h.createQuery("SELECT text_body FROM email_outbox")
          .mapTo(String.class).one());
      assertEquals(null, body, "an expired message keeps no live link");
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
