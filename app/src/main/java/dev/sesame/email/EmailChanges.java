package dev.sesame.email;

import dev.sesame.audit.AuditLog;
import dev.sesame.common.ApiException;
import dev.sesame.common.ClientInfo;
import dev.sesame.common.Secrets;
import dev.sesame.config.Config;
import dev.sesame.db.Sql;
import dev.sesame.users.EmailAddresses;
import dev.sesame.users.Users;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * Changing a person's address. The new address gets a link; the change takes effect only when that link's page is
 * confirmed (so nobody's account moves to an address its owner cannot read). Then the old address is told, and its
 * pending sign-in emails stop working (they would otherwise sign in to, and create, an account for the old address).
 * A newer request replaces an older pending one.
 */
public final class EmailChanges {
  /** How long the link to the new address works. */
  public static final Duration TTL = Duration.ofHours(24);

  private final Jdbi jdbi;
  private final Outbox outbox;
  private final EmailTemplates templates;
  private final AuditLog audit;
  private final MailDomains mailDomains;
  private final String issuer;

  public EmailChanges(Jdbi jdbi, Outbox outbox, EmailTemplates templates, AuditLog audit, MailDomains mailDomains,
                      Config config) {
    this.jdbi = jdbi;
    this.outbox = outbox;
    this.templates = templates;
    this.audit = audit;
    this.mailDomains = mailDomains;
    this.issuer = config.issuer();
  }

  public record Requested(String email, Instant expiresAt) {}

  /** Sends the confirmation link to {@code rawEmail}; 409 {@code email_taken} when another account has it. */
  public Requested request(UUID userId, String rawEmail, ClientInfo client, String language) {
    String email = EmailAddresses.normalize(rawEmail);
    mailDomains.check(email);
    String token = Secrets.randomToken(32);
    Instant expiresAt = Instant.now().plus(TTL);
    String link = issuer + "/email/change?token=" + URLEncoder.encode(token, StandardCharsets.UTF_8);
    Mailer.OutgoingEmail message = templates.confirmNewAddress(language, email, link, expiresAt);
    jdbi.useTransaction(h -> {
      String current = Users.lock(h, userId)
          .orElseThrow(() -> new ApiException(404, "user_not_found", "There is no such user."));
      if (current.equalsIgnoreCase(email)) {
        throw ApiException.badRequest("same_email", "This is already the person's address.");
      }
      if (Users.findByEmail(h, email).isPresent()) {
        throw new ApiException(409, "email_taken", "Another account has this address.");
      }
      h.createUpdate("UPDATE email_changes SET consumed_at = now() WHERE user_id = :userId AND consumed_at IS NULL")
          .bind("userId", userId).execute();
      long sent = Outbox.queue(h, message, expiresAt);
      h.createUpdate("""
              INSERT INTO email_changes (id, user_id, new_email, token_hash, expires_at, outbox_id)
              VALUES (:id, :userId, :email, :hash, :expiresAt, :sent)""")
          .bind("id", UUID.randomUUID()).bind("userId", userId).bind("email", email)
          .bind("hash", Secrets.sha256(token)).bind("expiresAt", expiresAt).bind("sent", sent).execute();
      audit.record(h, AuditLog.Type.USER_EMAIL_CHANGE_REQUESTED, userId, null, client.ip(), Map.of());
    });
    outbox.nudge();
    return new Requested(email, expiresAt);
  }

  /**
   * Forgets the person's address changes (erasing them): the changes and the messages they sent, to the new address
   * and the notice to the old one, within the caller's transaction.
   */
  public void forget(org.jdbi.v3.core.Handle h, UUID userId) {
    h.createUpdate("""
            WITH changes AS (DELETE FROM email_changes WHERE user_id = :userId RETURNING outbox_id, notice_outbox_id)
            DELETE FROM email_outbox
            WHERE id IN (SELECT outbox_id FROM changes UNION SELECT notice_outbox_id FROM changes)""")
        .bind("userId", userId).execute();
  }

  /** What the link's page shows: the new address, if the link can still be used. Consumes nothing. */
  public Optional<Requested> peek(String token) {
    if (token == null || token.isBlank() || token.length() > 200) {
      return Optional.empty();
    }
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT new_email, expires_at FROM email_changes
            WHERE token_hash = :hash AND consumed_at IS NULL AND expires_at > now()""")
        .bind("hash", Secrets.sha256(token))
        .map((rs, ctx) -> new Requested(rs.getString("new_email"), Sql.instant(rs, "expires_at"))).findOne());
  }

  /**
   * Makes the change the link was sent for; returns the new address. 410 {@code link_expired} for a used, replaced
   * or expired link; 409 {@code email_taken} when another account took the address meanwhile. The notice to the old
   * address goes out in {@code language}, the confirming page's.
   */
  public String confirm(String token, ClientInfo client, String language) {
    if (token == null || token.length() > 200) {
      throw new ApiException(410, "link_expired", "This link has expired or was already used.");
    }
    String email;
    try {
      email = confirmIn(token, client, language);
    } catch (org.jdbi.v3.core.statement.UnableToExecuteStatementException e) {
      if (e.getCause() instanceof java.sql.SQLException sql && "23505".equals(sql.getSQLState())) {
        // Someone signed up with the address between the check and the update.
        throw new ApiException(409, "email_taken", "Another account has this address now.");
      }
      throw e;
    }
    outbox.nudge();
    return email;
  }

  private String confirmIn(String token, ClientInfo client, String language) {
    return jdbi.inTransaction(h -> {
      Optional<Map<String, Object>> row = h.createQuery("""
              SELECT c.id, c.user_id, c.new_email, u.email AS old_email FROM email_changes c
              JOIN users u ON u.id = c.user_id
              WHERE c.token_hash = :hash AND c.consumed_at IS NULL AND c.expires_at > now()
              FOR UPDATE OF c, u""")
          .bind("hash", Secrets.sha256(token)).mapToMap().findOne();
      if (row.isEmpty()) {
        throw new ApiException(410, "link_expired", "This link has expired or was already used.");
      }
      UUID userId = (UUID) row.get().get("user_id");
      String newEmail = (String) row.get().get("new_email");
      String oldEmail = (String) row.get().get("old_email");
      if (!Users.changeEmail(h, userId, newEmail)) {
        throw new ApiException(409, "email_taken", "Another account has this address now.");
      }
      // Sign-in emails to the old address must not sign in (or create an account) any more, and what Sesame kept
      // about them (flows, messages) goes: the old address is no longer the person's account. Then it is told.
      EmailSignInService.forgetAddress(h, oldEmail);
      long notice = Outbox.queue(h, templates.addressChanged(language, oldEmail, newEmail),
          Instant.now().plus(Duration.ofDays(1)));
      h.createUpdate("UPDATE email_changes SET consumed_at = now(), notice_outbox_id = :notice WHERE id = :id")
          .bind("id", row.get().get("id")).bind("notice", notice).execute();
      audit.record(h, AuditLog.Type.USER_EMAIL_CHANGED, userId, null, client.ip(), Map.of());
      return newEmail;
    });
  }
}
