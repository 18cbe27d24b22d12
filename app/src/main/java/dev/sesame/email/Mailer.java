package dev.sesame.email;

/** Delivers one message. Implementations throw {@link MailException} when the message must be tried again later. */
public interface Mailer {
  void send(OutgoingEmail email) throws MailException;

  record OutgoingEmail(String recipient, String subject, String textBody, String htmlBody) {}

  final class MailException extends Exception {
    public MailException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
