package dev.sesame.email;

import dev.sesame.common.Html;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The one sign-in email: a link and a 6-digit code, branded with the relying party's name. The same text goes to
 * new and existing accounts, so the message itself reveals nothing either.
 */
final class EmailTemplates {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm 'UTC'").withZone(ZoneOffset.UTC);

  private final String rpName;

  EmailTemplates(String rpName) {
    this.rpName = rpName;
  }

  Mailer.OutgoingEmail signIn(String recipient, String link, String code, Instant expiresAt, Duration ttl) {
    String minutes = ttl.toMinutes() + " minutes";
    String until = TIME.format(expiresAt);
    String subject = code + " is your " + rpName + " sign-in code";
    String text = """
        Sign in to %1$s

        Open this link to sign in:
        %2$s

        Or enter this code: %3$s

        The link and the code work once and expire in %4$s (at %5$s).
        If you did not ask to sign in, you can ignore this email.
        """.formatted(rpName, link, code, minutes, until);
    String name = Html.escape(rpName);
    String html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Sign in to %1$s</title></head>
        <body style="margin:0;padding:24px;background:#f5f5f7;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif;color:#1d1d1f">
          <table role="presentation" width="100%%" cellspacing="0" cellpadding="0"><tr><td align="center">
            <table role="presentation" width="100%%" style="max-width:480px;background:#fff;border-radius:12px;padding:32px" cellspacing="0" cellpadding="0">
              <tr><td>
                <h1 style="margin:0 0 16px;font-size:22px">Sign in to %1$s</h1>
                <p style="margin:0 0 24px;font-size:16px;line-height:1.5">Click the button to sign in on this device.</p>
                <p style="margin:0 0 24px"><a href="%2$s" style="display:inline-block;background:#0b57d0;color:#fff;text-decoration:none;padding:12px 24px;border-radius:8px;font-size:16px;font-weight:600">Sign in</a></p>
                <p style="margin:0 0 8px;font-size:16px">Or enter this code:</p>
                <p style="margin:0 0 24px;font-size:32px;font-weight:700;letter-spacing:6px;font-family:ui-monospace,Menlo,Consolas,monospace">%3$s</p>
                <p style="margin:0;font-size:13px;color:#6e6e73;line-height:1.5">The link and the code work once and expire in %4$s (at %5$s). If you did not ask to sign in, you can ignore this email.</p>
              </td></tr>
            </table>
          </td></tr></table>
        </body></html>
        """.formatted(name, Html.escape(link), code, minutes, until);
    return new Mailer.OutgoingEmail(recipient, subject, text, html);
  }

  /** The link that confirms a new address (an operator changed it); the change waits for it. */
  Mailer.OutgoingEmail confirmNewAddress(String recipient, String link, Instant expiresAt) {
    String subject = "Confirm your new " + rpName + " email address";
    String text = """
        Confirm your new email address for %1$s

        Your %1$s account is moving to this address. Open this link to confirm:
        %2$s

        The link works once and expires at %3$s on %4$s.
        If you don't expect this, ignore this email: nothing changes without it.
        """.formatted(rpName, link, TIME.format(expiresAt), DAY.format(expiresAt));
    String html = layout("Confirm your new email address", """
        <p style="margin:0 0 24px;font-size:16px;line-height:1.5">Your %1$s account is moving to this address.</p>
        <p style="margin:0 0 24px"><a href="%2$s" style="display:inline-block;background:#0b57d0;color:#fff;text-decoration:none;padding:12px 24px;border-radius:8px;font-size:16px;font-weight:600">Confirm this address</a></p>
        <p style="margin:0;font-size:13px;color:#6e6e73;line-height:1.5">The link works once and expires at %3$s on %4$s. If you don't expect this, ignore this email: nothing changes without it.</p>
        """.formatted(Html.escape(rpName), Html.escape(link), TIME.format(expiresAt), DAY.format(expiresAt)));
    return new Mailer.OutgoingEmail(recipient, subject, text, html);
  }

  /** The notice to the old address once the change is made. */
  Mailer.OutgoingEmail addressChanged(String recipient, String newEmail) {
    String subject = "Your " + rpName + " email address was changed";
    String text = """
        Your %1$s account now uses %2$s to sign in; this address no longer does.

        If you did not ask for this, contact %1$s's support.
        """.formatted(rpName, newEmail);
    String html = layout(subject, """
        <p style="margin:0 0 16px;font-size:16px;line-height:1.5">Your %1$s account now uses <strong>%2$s</strong> to sign in; this address no longer does.</p>
        <p style="margin:0;font-size:13px;color:#6e6e73;line-height:1.5">If you did not ask for this, contact %1$s's support.</p>
        """.formatted(Html.escape(rpName), Html.escape(newEmail)));
    return new Mailer.OutgoingEmail(recipient, subject, text, html);
  }

  private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("d MMM uuuu", java.util.Locale.ENGLISH)
      .withZone(ZoneOffset.UTC);

  /** The frame of a message: a card with a heading; {@code bodyHtml} is already escaped. */
  private static String layout(String title, String bodyHtml) {
    return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>%1$s</title></head>
        <body style="margin:0;padding:24px;background:#f5f5f7;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif;color:#1d1d1f">
          <table role="presentation" width="100%%" cellspacing="0" cellpadding="0"><tr><td align="center">
            <table role="presentation" width="100%%" style="max-width:480px;background:#fff;border-radius:12px;padding:32px" cellspacing="0" cellpadding="0">
              <tr><td>
                <h1 style="margin:0 0 16px;font-size:22px">%1$s</h1>
                %2$s
              </td></tr>
            </table>
          </td></tr></table>
        </body></html>
        """.formatted(Html.escape(title), bodyHtml);
  }
}
