package dev.sesame.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.sesame.support.Http;
import dev.sesame.support.LogCapture;
import dev.sesame.support.MailInbox;
import dev.sesame.support.SmtpServers;
import dev.sesame.support.TestServer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A database error must not carry the statement's bound values (codes, link tokens, addresses) into the log. */
class SecretsInLogsTest {
  @Test
  void a_failing_insert_logs_neither_the_code_nor_the_link_nor_the_address() {
    GreenMail smtp = SmtpServers.start(0, ServerSetup.PROTOCOL_SMTP);
    try (TestServer server = TestServer.start(Map.of("SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(smtp.getSmtp().getPort()), "SESAME_SMTP_TLS", "none"));
         LogCapture log = new LogCapture()) {
      Http http = server.http();
      String email = "victim-logs@example.com";
      assertEquals(202, http.post("/v1/email/start", Map.of("email", email)).status());
      MailInbox.SignInMail first = new MailInbox(smtp).next(email);
      // Force the next email start to fail in the database: a unique violation whose server detail quotes the row.
      server.jdbi().useHandle(h -> h.execute("CREATE UNIQUE INDEX outbox_one_per_recipient ON email_outbox (recipient)"));

      Http.Response failed = http.post("/v1/email/start", Map.of("email", email));
      assertEquals(500, failed.status(), failed.body());
      assertTrue(failed.body().contains("Reference"), failed.body());

      // Sesame's log only: GreenMail, the test's mail server, runs in this JVM and logs the addresses it receives.
      String text = log.text().lines().filter(l -> !l.contains("UserManager - "))
          .collect(java.util.stream.Collectors.joining("\n"));
      assertTrue(text.contains("Unhandled error on POST /v1/email/start"), "the error is logged: " + text);
      assertTrue(text.contains("outbox_one_per_recipient"), "the log says what failed: " + text);
      assertFalse(text.contains(email), "no address in the log: " + text);
      assertFalse(text.contains("confirm?token="), "no sign-in link in the log: " + text);
      assertFalse(text.contains("sign-in code"), "no email subject or body in the log: " + text);
      assertFalse(text.contains(first.code()) || text.contains(first.token()), "not even the earlier ones: " + text);
      assertFalse(text.contains("arguments:"), "no bound arguments: " + text);
    } finally {
      smtp.stop();
    }
  }
}
