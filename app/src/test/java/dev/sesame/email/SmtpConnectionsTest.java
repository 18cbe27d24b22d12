package dev.sesame.email;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.config.Config;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The outbox sends a batch over one SMTP connection (Angus Mail against an SMTP server on loopback that counts
 * connections): a connection the server ends after some messages, or closes while idle, is replaced without losing or
 * delaying a message; a refused recipient fails only its own message.
 */
class SmtpConnectionsTest {
  @Test
  void a_batch_goes_over_one_connection() throws Exception {
    try (CountingSmtp server = new CountingSmtp(0)) {
      sendFive(server);
      assertEquals(1, server.connections.get());
      assertEquals(5, server.recipients.size());
    }
  }

  @Test
  void a_server_limiting_messages_per_connection_gets_every_message_on_new_ones() throws Exception {
    try (CountingSmtp server = new CountingSmtp(2)) {
      sendFive(server);
      assertEquals(List.of("a0@example.com", "a1@example.com", "a2@example.com", "a3@example.com",
          "a4@example.com"), server.recipients);
      assertEquals(3, server.connections.get(), "two messages per connection");
    }
  }

  @Test
  void a_refused_recipient_fails_its_message_only() throws Exception {
    try (CountingSmtp server = new CountingSmtp(0)) {
      SmtpMailer mailer = new SmtpMailer(smtp(server));
      try (Mailer.Batch batch = mailer.batch()) {
        batch.send(1, email("first@example.com"));
        Mailer.MailException refused = assertThrows(Mailer.MailException.class,
            () -> batch.send(2, email("refused@example.com")));
        assertTrue(refused.getMessage().contains("550"), refused.getMessage());
        batch.send(3, email("third@example.com"));
      }
      assertEquals(List.of("first@example.com", "third@example.com"), server.recipients);
    }
  }

  @Test
  void a_single_message_opens_and_closes_its_own_connection() throws Exception {
    try (CountingSmtp server = new CountingSmtp(0)) {
      SmtpMailer mailer = new SmtpMailer(smtp(server));
      mailer.send(email("one@example.com"));
      mailer.send(email("two@example.com"));
      assertEquals(2, server.connections.get());
      assertEquals(List.of("one@example.com", "two@example.com"), server.recipients);
    }
  }

  private static void sendFive(CountingSmtp server) throws Exception {
    SmtpMailer mailer = new SmtpMailer(smtp(server));
    try (Mailer.Batch batch = mailer.batch()) {
      for (int i = 0; i < 5; i++) {
        batch.send(i, email("a" + i + "@example.com"));
      }
    }
  }

  private static Config.Smtp smtp(CountingSmtp server) {
    return new Config.Smtp("127.0.0.1", server.port(), Optional.empty(), Optional.empty(), "sesame@example.com",
        Config.SmtpTls.NONE);
  }

  private static Mailer.OutgoingEmail email(String to) {
    return new Mailer.OutgoingEmail(to, "Your code", "Code 123456", "<p>Code 123456</p>");
  }

  /**
   * An SMTP server (RFC 5321's commands as Angus Mail uses them) that records accepted recipients, counts
   * connections, ends a connection with 421 after {@code perConnection} messages (0: never) and refuses recipients
   * whose address starts with "refused".
   */
  static final class CountingSmtp implements AutoCloseable {
    final AtomicInteger connections = new AtomicInteger();
    final List<String> recipients = new CopyOnWriteArrayList<>();
    private final int perConnection;
    private final ServerSocket socket;
    private final Thread thread;

    CountingSmtp(int perConnection) throws IOException {
      this.perConnection = perConnection;
      this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      this.thread = new Thread(this::serve, "counting-smtp");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    private void serve() {
      while (!socket.isClosed()) {
        try (Socket client = socket.accept()) {
          connections.incrementAndGet();
          converse(client);
        } catch (IOException e) {
          // closed, or the client went away
        }
      }
    }

    private void converse(Socket client) throws IOException {
      BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(),
          StandardCharsets.US_ASCII));
      OutputStream out = client.getOutputStream();
      reply(out, "220 counting-smtp ready");
      int messages = 0;
      String recipient = null;
      String line;
      while ((line = in.readLine()) != null) {
        String command = line.length() >= 4 ? line.substring(0, 4).toUpperCase(java.util.Locale.ROOT) : line;
        switch (command) {
          case "EHLO", "HELO" -> reply(out, "250 counting-smtp");
          case "MAIL" -> {
            if (perConnection > 0 && messages == perConnection) {
              reply(out, "421 too many messages on this connection");
              return;
            }
            reply(out, "250 OK");
          }
          case "RCPT" -> {
            recipient = line.replaceAll(".*<(.*)>.*", "$1");
            reply(out, recipient.startsWith("refused") ? "550 no such mailbox" : "250 OK");
          }
          case "DATA" -> {
            reply(out, "354 go on");
            while ((line = in.readLine()) != null && !line.equals(".")) {
              // the message
            }
            recipients.add(recipient);
            messages++;
            reply(out, "250 OK queued");
          }
          case "RSET", "NOOP" -> reply(out, "250 OK");
          case "QUIT" -> {
            reply(out, "221 bye");
            return;
          }
          default -> reply(out, "502 not implemented");
        }
      }
    }

    private static void reply(OutputStream out, String line) throws IOException {
      out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
