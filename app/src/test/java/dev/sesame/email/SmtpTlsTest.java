package dev.sesame.email;

import static dev.sesame.email.OutboxDeliveryTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.sesame.support.SmtpServers;
import dev.sesame.support.TestServer;
import dev.sesame.support.UntrustedTlsServer;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Mail carries live sign-in links: Sesame must not send it to a server it can't authenticate, nor in plain text. */
class SmtpTlsTest {
  @Test
  void implicit_tls_refuses_a_server_with_an_untrusted_certificate(@TempDir Path dir) throws Exception {
    try (UntrustedTlsServer smtps = new UntrustedTlsServer(dir);
         TestServer server = TestServer.start(Map.of("SESAME_SMTP_HOST", "127.0.0.1",
             "SESAME_SMTP_PORT", Integer.toString(smtps.port()), "SESAME_SMTP_TLS", "tls"))) {
      assertEquals(202, server.http().post("/v1/email/start", Map.of("email", "tls@example.com")).status());
      awaitTrue(() -> lastError(server) != null, Duration.ofSeconds(20));
      assertTrue(lastError(server).toLowerCase().matches(".*(certif|pkix|trust anchor).*"), lastError(server));
      assertEquals("pending", server.jdbi().withHandle(h -> h.createQuery("SELECT status FROM email_outbox")
          .mapTo(String.class).one()), "kept for a later retry, not sent");
    }
  }

  @Test
  void starttls_never_falls_back_to_plain_text() throws Exception {
    GreenMail plain = SmtpServers.start(0, ServerSetup.PROTOCOL_SMTP);
    try (TestServer server = TestServer.start(Map.of("SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(plain.getSmtp().getPort()), "SESAME_SMTP_TLS", "starttls"))) {
      assertEquals(202, server.http().post("/v1/email/start", Map.of("email", "starttls@example.com")).status());
      awaitTrue(() -> lastError(server) != null, Duration.ofSeconds(20));
      assertTrue(lastError(server).toLowerCase().contains("starttls"), lastError(server));
      Thread.sleep(500);
      assertEquals(0, plain.getReceivedMessages().length, "nothing was sent in plain text");
    } finally {
      plain.stop();
    }
  }

  private static String lastError(TestServer server) {
    return server.jdbi().withHandle(h -> h.createQuery("SELECT last_error FROM email_outbox")
        .mapTo(String.class).one());
  }
}
