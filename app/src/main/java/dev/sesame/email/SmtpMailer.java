package dev.sesame.email;

import dev.sesame.config.Config;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.Properties;

/** Sends over SMTP with Jakarta Mail (Angus): multipart/alternative, plain text first, then HTML. */
public final class SmtpMailer implements Mailer {
  private final Config.Smtp smtp;
  private final Session session;
  private final InternetAddress from;

  public SmtpMailer(Config.Smtp smtp) {
    this.smtp = smtp;
    Properties props = new Properties();
    String protocol = smtp.tls() == Config.SmtpTls.TLS ? "smtps" : "smtp";
    props.put("mail.transport.protocol", protocol);
    props.put("mail." + protocol + ".host", smtp.host());
    props.put("mail." + protocol + ".port", Integer.toString(smtp.port()));
    props.put("mail." + protocol + ".auth", Boolean.toString(smtp.username().isPresent()));
    props.put("mail." + protocol + ".connectiontimeout", "10000");
    props.put("mail." + protocol + ".timeout", "20000");
    props.put("mail." + protocol + ".writetimeout", "20000");
    if (smtp.tls() == Config.SmtpTls.STARTTLS) {
      props.put("mail.smtp.starttls.enable", "true");
      props.put("mail.smtp.starttls.required", "true"); // never fall back to plain text silently
    }
    if (smtp.tls() != Config.SmtpTls.NONE) {
      props.put("mail." + protocol + ".ssl.checkserveridentity", "true");
    }
    this.session = Session.getInstance(props);
    try {
      this.from = new InternetAddress(smtp.from(), true);
    } catch (MessagingException e) {
      throw new dev.sesame.config.ConfigException("SESAME_SMTP_FROM", "is not an email address: " + e.getMessage());
    }
  }

  /** The underlying reason (a refused certificate, a timeout), which Jakarta Mail's own message often hides. */
  private static String rootCause(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == e ? "" : " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
  }

  @Override
  public void send(OutgoingEmail email) throws MailException {
    try (Batch one = batch()) {
      one.send(0, email);
    }
  }

  /**
   * One SMTP connection for the messages of a batch, opened at the first. A message refused on a connection that
   * already carried others is tried once more on a new one (the server may have closed it, or limits messages per
   * connection); any failure closes the connection, so the next message starts afresh.
   */
  @Override
  public Batch batch() {
    return new Batch() {
      private Transport transport;

      @Override
      public void send(long outboxId, OutgoingEmail email) throws MailException {
        MimeMessage message = message(email);
        boolean reused = transport != null && transport.isConnected();
        try {
          deliver(message);
        } catch (MessagingException first) {
          close();
          if (!reused) {
            throw failed(first);
          }
          try {
            deliver(message);
          } catch (MessagingException again) {
            close();
            throw failed(again);
          }
        }
      }

      private void deliver(MimeMessage message) throws MessagingException {
        if (transport == null || !transport.isConnected()) {
          transport = session.getTransport();
          transport.connect(smtp.host(), smtp.port(), smtp.username().orElse(null),
              smtp.password().map(p -> p.reveal()).orElse(null));
        }
        transport.sendMessage(message, message.getAllRecipients());
      }

      @Override
      public void close() {
        if (transport != null) {
          try {
            transport.close();
          } catch (MessagingException ignored) {
            // the connection is gone either way
          }
          transport = null;
        }
      }
    };
  }

  private MimeMessage message(OutgoingEmail email) throws MailException {
    try {
      MimeMessage message = new MimeMessage(session);
      message.setFrom(from);
      message.setRecipient(Message.RecipientType.TO, new InternetAddress(email.recipient(), true));
      message.setSubject(email.subject(), StandardCharsets.UTF_8.name());
      message.setSentDate(new Date());
      MimeBodyPart text = new MimeBodyPart();
      text.setText(email.textBody(), StandardCharsets.UTF_8.name(), "plain");
      MimeBodyPart html = new MimeBodyPart();
      html.setText(email.htmlBody(), StandardCharsets.UTF_8.name(), "html");
      message.setContent(new MimeMultipart("alternative", text, html));
      message.saveChanges();
      return message;
    } catch (MessagingException e) {
      throw failed(e);
    }
  }

  private MailException failed(MessagingException e) {
    return new MailException("SMTP delivery to " + smtp.host() + ":" + smtp.port() + " failed: " + e.getMessage()
        + rootCause(e), e);
  }
}
