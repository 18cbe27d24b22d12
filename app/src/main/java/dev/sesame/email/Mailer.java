package dev.sesame.email;

/** Delivers one message. Implementations throw {@link MailException} when the message must be tried again later. */
public interface Mailer {
  void send(OutgoingEmail email) throws MailException;

  /** Sends the outbox message {@code outboxId}; a mailer that hands messages on keys them by it (retries dedupe). */
  default void send(long outboxId, OutgoingEmail email) throws MailException {
    send(email);
  }

  record OutgoingEmail(String recipient, String subject, String textBody, String htmlBody) {}

  final class MailException extends Exception {
    public MailException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
