package dev.sesame.email;

/** Delivers one message. Implementations throw {@link MailException} when the message must be tried again later. */
public interface Mailer {
  void send(OutgoingEmail email) throws MailException;

  /** Sends the outbox message {@code outboxId}; a mailer that hands messages on keys them by it (retries dedupe). */
  default void send(long outboxId, OutgoingEmail email) throws MailException {
    send(email);
  }

  /**
   * Several messages one after another, as the outbox sends a batch: over one connection where the mailer has
   * connections (SMTP), so each message does not pay for its own connect, greeting, authentication and quit.
   */
  default Batch batch() {
    return new Batch() {
      @Override
      public void send(long outboxId, OutgoingEmail email) throws MailException {
        Mailer.this.send(outboxId, email);
      }

      @Override
      public void close() {
      }
    };
  }

  /** See {@link #batch}; {@link #close} ends the connection. */
  interface Batch extends AutoCloseable {
    void send(long outboxId, OutgoingEmail email) throws MailException;

    @Override
    void close();
  }

  record OutgoingEmail(String recipient, String subject, String textBody, String htmlBody) {}

  final class MailException extends Exception {
    public MailException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
