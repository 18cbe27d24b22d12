package dev.sesame.email;

/**
 * Development mailbox: with no SMTP server configured, messages are printed to the console (and kept for
 * {@code /dev/mail}). Never use it in production: the console then holds live sign-in links.
 */
public final class ConsoleMailer implements Mailer {
  @Override
  public void send(OutgoingEmail email) {
    System.out.println("""
        ---- development mailbox (no SESAME_SMTP_HOST) ----
        To: %s
        Subject: %s

        %s
        ---------------------------------------------------""".formatted(email.recipient(), email.subject(),
        email.textBody()));
  }
}
