package dev.sesame.support;

import com.icegreen.greenmail.base.GreenMailOperations;
import jakarta.mail.BodyPart;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the sign-in emails Sesame really sent over SMTP to GreenMail. */
public final class MailInbox {
  private static final Pattern TOKEN = Pattern.compile("token=([A-Za-z0-9_-]+)");
  /** The code ends its line in the plain-text part, in every language ("Or enter this code: 123456"). */
  private static final Pattern CODE = Pattern.compile("(?m) (\\d{6})\\s*$");

  private final GreenMailOperations greenMail;
  private final Set<MimeMessage> seen = new HashSet<>();

  public MailInbox(GreenMailOperations greenMail) {
    this.greenMail = greenMail;
  }

  /** One sign-in email as it arrived: its link's token, its code and both bodies. */
  public record SignInMail(String to, String subject, String token, String code, String link, String text,
                           String html) {}

  /** Waits for the next not yet read message to {@code recipient}. */
  public SignInMail next(String recipient, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (MimeMessage m : greenMail.getReceivedMessages()) {
        if (!seen.contains(m) && addressedTo(m, recipient)) {
          seen.add(m);
          return parse(m);
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError("no email to " + recipient + " within " + timeout);
  }

  public SignInMail next(String recipient) {
    return next(recipient, Duration.ofSeconds(15));
  }

  public int count(String recipient) {
    int n = 0;
    for (MimeMessage m : greenMail.getReceivedMessages()) {
      if (addressedTo(m, recipient)) {
        n++;
      }
    }
    return n;
  }

  private static boolean addressedTo(MimeMessage m, String recipient) {
    try {
      return m.getRecipients(Message.RecipientType.TO)[0].toString().equalsIgnoreCase(recipient);
    } catch (MessagingException e) {
      return false;
    }
  }

  private static SignInMail parse(MimeMessage m) {
    try {
      MimeMultipart multipart = (MimeMultipart) m.getContent();
      String text = null;
      String html = null;
      for (int i = 0; i < multipart.getCount(); i++) {
        BodyPart part = multipart.getBodyPart(i);
        if (part.isMimeType("text/plain")) {
          text = (String) part.getContent();
        } else if (part.isMimeType("text/html")) {
          html = (String) part.getContent();
        }
      }
      if (text == null || html == null) {
        throw new AssertionError("expected a text and an HTML part");
      }
      Matcher token = TOKEN.matcher(text);
      Matcher code = CODE.matcher(text);
      if (!token.find() || !code.find()) {
        throw new AssertionError("no link or code in: " + text);
      }
      String link = text.lines().filter(l -> l.contains("token=")).findFirst().orElseThrow().strip();
      return new SignInMail(m.getRecipients(Message.RecipientType.TO)[0].toString(), m.getSubject(), token.group(1),
          code.group(1), link, text, html);
    } catch (MessagingException | IOException e) {
      throw new AssertionError("unreadable email", e);
    }
  }
}
