package dev.sesame.email;

import dev.sesame.db.Sql;
import dev.sesame.audit.AuditLog;
import dev.sesame.common.ApiException;
import dev.sesame.common.ClientInfo;
import dev.sesame.common.Outcome;
import dev.sesame.common.Secrets;
import dev.sesame.config.Config;
import dev.sesame.config.RateLimit;
import dev.sesame.ratelimit.RateLimiter;
import dev.sesame.sessions.SessionService;
import dev.sesame.sessions.TokenResponse;
import dev.sesame.users.EmailAddresses;
import dev.sesame.users.Users;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Email sign-in, which is also sign-up: {@link #start} sends one email with a link and a 6-digit code; either one,
 * used once before it expires, signs the person in via {@link #verifyToken} or {@link #verifyCode}. The account is
 * created at the first verified sign-in. Starting never reads the users table, so it does the same work for every
 * address and reveals nothing about which ones have accounts.
 *
 * <p>Starting a new flow leaves older flows of the same address usable until they expire or are used: mail can
 * arrive out of order, and the person should be able to use whichever email they open. Once one is used, the
 * address's other pending flows end with it.
 *
 * <p>Codes are short, so the codes tried for one address are limited ({@code SESAME_RATE_LIMIT_CODE}, 10 an hour and
 * 30 a day by default) across all its flows and all client addresses; past the limit, codes for that address are
 * refused for a while, while the link in the email still works: the person who has the email cannot be locked out.
 */
public final class EmailSignInService {
  public static final int MAX_CODE_ATTEMPTS = 5;
  private static final Pattern CODE = Pattern.compile("\\d{6}");

  private final Jdbi jdbi;
  private final Outbox outbox;
  private final EmailTemplates templates;
  private final SessionService sessions;
  private final RateLimiter rateLimiter;
  private final AuditLog audit;
  private final Config config;
  private final MailDomains mailDomains;

  public EmailSignInService(Jdbi jdbi, Outbox outbox, EmailTemplates templates, SessionService sessions,
                            RateLimiter rateLimiter, AuditLog audit, MailDomains mailDomains, Config config) {
    this.jdbi = jdbi;
    this.outbox = outbox;
    this.templates = templates;
    this.sessions = sessions;
    this.rateLimiter = rateLimiter;
    this.audit = audit;
    this.mailDomains = mailDomains;
    this.config = config;
  }

  public record Started(UUID flowId, long expiresIn) {}

  /**
   * A verified email sign-in, and the authorization request its flow carried, if any (sealed by
   * {@code oauth.AuthorizationRequests}: the page that finishes the sign-in continues with it to the app).
   */
  public record Verified(TokenResponse tokens, Optional<String> authorizationRequest) {}

  /** A flow as the confirm page shows it, before anything is consumed. */
  /** A flow the link's page may still finish; {@code authorizationRequest} is the sealed request it is for, or null. */
  public record Pending(String email, Instant expiresAt, String authorizationRequest) {}

  private record Flow(UUID id, String email, byte[] codeHash, Instant expiresAt, Instant consumedAt,
                      int failedAttempts, String authorizationRequest, byte[] agentHash) {}

  /**
   * Starts an email sign-in: a flow and its email, written in one statement.
   *
   * @param authorizationRequest a sealed, checked authorization request the sign-in is for, or null
   * @param language the email's language (the page's that asked for it)
   */
  public Started start(String rawEmail, String authorizationRequest, ClientInfo client, String language) {
    return start(rawEmail, authorizationRequest, null, client, language);
  }

  /**
   * {@link #start}, for a sign-in into the app called {@code appName} (what the sign-in page called it; null: this
   * server itself): the email says where the person is signing in, so a sign-in somebody else started for an app
   * is recognisable as such.
   */
  public Started start(String rawEmail, String authorizationRequest, String appName, ClientInfo client,
                       String language) {
    String email = EmailAddresses.normalize(rawEmail);
    rateLimiter.hit(
        new RateLimiter.Hit("email-start:email:" + Secrets.sha256Hex(email), config.emailStartLimit()),
        new RateLimiter.Hit("email-start:ip:" + client.ip(), config.ipLimit()));
    mailDomains.check(email); // after the limits: DNS lookups are not free to trigger

    UUID flowId = UUID.randomUUID();
    String token = Secrets.randomToken(32);
    String code = Secrets.randomDigits(6);
    Instant expiresAt = Instant.now().plus(config.emailTtl());
    String link = config.issuer() + "/email/confirm?token=" + URLEncoder.encode(token, StandardCharsets.UTF_8);
    Mailer.OutgoingEmail message = templates.signIn(language, email, link, code, config.emailTtl(), appName);
    // The flow and its email in one statement (atomic without a transaction, one round trip); both expire at
    // :expiresAt, which Outbox.bind sets. A disabled account gets neither, and the same answer as anyone.
    jdbi.useHandle(h -> Outbox.bind(h.createUpdate("""
              WITH allowed AS (""" + Users.MAY_SIGN_IN_BY_EMAIL + """
              ),
              flow AS (
                INSERT INTO email_flows (id, email, token_hash, code_hash, authorization_request, expires_at, ip,
                                         agent_hash)
                SELECT :id, :email, :tokenHash, :codeHash, :request, :expiresAt, :ip, :agentHash FROM allowed WHERE ok)
              """ + Outbox.INSERT_IF_ALLOWED), message, expiresAt)
        .bind("id", flowId).bind("email", email).bind("tokenHash", Secrets.sha256(token))
        .bind("codeHash", codeHash(flowId, code))
        .bind("request", authorizationRequest)
        .bind("ip", client.ip())
        .bind("agentHash", agentHash(client))
        .execute());
    outbox.nudge();
    return new Started(flowId, config.emailTtl().getSeconds());
  }

  /**
   * Forgets an address (erasing an account): its sign-in flows and every email to it, pending or sent, within the
   * caller's transaction.
   */
  public void forget(org.jdbi.v3.core.Handle h, String email) {
    forgetAddress(h, email);
  }

  /** {@link #forget}, for this package (an address change forgets the old address). */
  static void forgetAddress(org.jdbi.v3.core.Handle h, String email) {
    h.createUpdate("""
            WITH flows AS (DELETE FROM email_flows WHERE email = lower(:email))
            DELETE FROM email_outbox WHERE lower(recipient) = lower(:email)
            """)
        .bind("email", email).execute();
  }

  /** Where a sign-in by email stands, for the page that asked for it and waits for the code. */
  public enum FlowStatus { PENDING, FINISHED, ENDED }

  /**
   * The status of flow {@code flowId}: pending (the code or link still works), finished (used: the link was opened,
   * perhaps on another device, or the code typed), or ended (expired, locked by wrong codes); empty for an unknown id.
   * It says nothing the asking page does not know already, and nothing about the account.
   */
  public Optional<FlowStatus> status(UUID flowId) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT CASE WHEN consumed_at IS NOT NULL THEN 'FINISHED'
                        WHEN expires_at <= now() OR failed_attempts >= :max THEN 'ENDED'
                        ELSE 'PENDING' END
            FROM email_flows WHERE id = :id""")
        .bind("id", flowId).bind("max", MAX_CODE_ATTEMPTS).mapTo(String.class).findOne().map(FlowStatus::valueOf));
  }

  /** What the link's confirm page shows; never consumes the flow (mail scanners open links too). */
  public Optional<Pending> peek(String token) {
    if (token == null || token.isBlank() || token.length() > 200) {
      return Optional.empty();
    }
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT email, expires_at, authorization_request FROM email_flows
            WHERE token_hash = :hash AND consumed_at IS NULL AND expires_at > now() AND failed_attempts < :max
            """)
        .bind("hash", Secrets.sha256(token)).bind("max", MAX_CODE_ATTEMPTS)
        .map((rs, ctx) -> new Pending(rs.getString("email"),
            Sql.instant(rs, "expires_at"), rs.getString("authorization_request")))
        .findOne());
  }

  /** Signs in with the link's token. */
  public Verified verifyToken(String token, ClientInfo client) {
    rateLimiter.hit(new RateLimiter.Hit("email-verify:ip:" + client.ip(), config.ipLimit()));
    byte[] hash = Secrets.sha256(token);
    return finish(client, h -> h.createQuery(FLOW_SELECT + " WHERE token_hash = :hash FOR UPDATE")
        .bind("hash", hash).map(EmailSignInService::mapFlow).findOne(), null);
  }

  /** Signs in with the flow id from {@link #start} and the code from the email. */
  public Verified verifyCode(String flowId, String code, ClientInfo client) {
    rateLimiter.hit(new RateLimiter.Hit("email-verify:ip:" + client.ip(), config.ipLimit()));
    if (!CODE.matcher(code).matches()) {
      throw ApiException.badRequest("invalid_code", "The code is the 6 digits from the email.");
    }
    UUID id;
    try {
      id = UUID.fromString(flowId);
    } catch (IllegalArgumentException e) {
      throw flowNotFound();
    }
    String email = jdbi.withHandle(h -> h.createQuery("SELECT email FROM email_flows WHERE id = :id").bind("id", id)
        .mapTo(String.class).findOne()).orElseThrow(EmailSignInService::flowNotFound);
    limitCodeGuesses(email, id, client);
    return finish(client, h -> h.createQuery(FLOW_SELECT + " WHERE id = :id FOR UPDATE")
        .bind("id", id).map(EmailSignInService::mapFlow).findOne(), code);
  }

  /**
   * Counts this code attempt against the address's limits before it is checked (so concurrent guesses cannot slip
   * past the count); refuses it when a limit is reached, with an audit event.
   */
  private void limitCodeGuesses(String email, UUID flowId, ClientInfo client) {
    String address = Secrets.sha256Hex(email);
    List<RateLimit> limits = config.codeGuessLimits();
    RateLimiter.Hit[] hits = new RateLimiter.Hit[limits.size()];
    for (int i = 0; i < hits.length; i++) {
      hits[i] = new RateLimiter.Hit("email-code:" + limits.get(i) + ":email:" + address, limits.get(i));
    }
    long retryAfter = rateLimiter.check(hits);
    if (retryAfter > 0) {
      jdbi.useHandle(h -> audit.record(h, AuditLog.Type.EMAIL_CODE_GUESSES_LIMITED,
          Users.findByEmail(h, email).map(u -> u.id()).orElse(null), null, client.ip(),
          Map.of("flowId", flowId.toString(), "retryAfter", retryAfter)));
      throw new ApiException(429, "code_attempts_limited", "Too many codes were tried for this address. Use the "
          + "link in the email, or try a code again in " + Math.max(1, (retryAfter + 59) / 60) + " minutes.",
          Map.of("Retry-After", Long.toString(retryAfter)));
    }
  }

  private static final String FLOW_SELECT = """
      SELECT id, email, code_hash, expires_at, consumed_at, failed_attempts, authorization_request, agent_hash
      FROM email_flows""";

  /**
   * The browser that asked for an email, as a hash of its user agent (null when none: an operator sent it), to tell
   * a link opened on another device from one opened where it was asked for (the dashboard's sign-in methods).
   */
  private static byte[] agentHash(ClientInfo client) {
    return client.userAgent() == null ? null
        : Secrets.sha256(client.userAgent().getBytes(StandardCharsets.UTF_8));
  }

  /** How this sign-in was finished, for the audit log and the dashboard. */
  private static String method(Flow flow, String code, ClientInfo client) {
    if (code != null) {
      return "code";
    }
    byte[] here = agentHash(client);
    return flow.agentHash() != null && here != null && !java.util.Arrays.equals(flow.agentHash(), here)
        ? "link_other_device" : "link";
  }

  private interface FlowLookup {
    Optional<Flow> find(Handle h);
  }

  /**
   * Checks and consumes a flow in one transaction. Failures that change state (a wrong code) commit before the error
   * is thrown, so the attempt counts.
   */
  private Verified finish(ClientInfo client, FlowLookup lookup, String code) {
    Outcome<Verified> outcome = jdbi.inTransaction(h -> {
      Optional<Flow> found = lookup.find(h);
      if (found.isEmpty()) {
        return Outcome.refused(flowNotFound());
      }
      Flow flow = found.get();
      ApiException refusal = null;
      if (flow.consumedAt() != null) {
        refusal = new ApiException(410, "flow_used", "This sign-in link or code was already used. Request a new email.");
      } else if (flow.failedAttempts() >= MAX_CODE_ATTEMPTS) {
        refusal = new ApiException(410, "flow_locked", "Too many wrong codes for this email. Request a new email.");
      } else if (flow.expiresAt().isBefore(Instant.now())) {
        refusal = new ApiException(410, "flow_expired", "This sign-in link or code has expired. Request a new email.");
      }
      if (refusal != null) {
        auditFailure(h, flow, refusal.code(), code != null, client);
        return Outcome.refused(refusal);
      }
      if (code != null && !Secrets.constantTimeEquals(codeHash(flow.id(), code), flow.codeHash())) {
        int failed = flow.failedAttempts() + 1;
        h.createUpdate("UPDATE email_flows SET failed_attempts = :failed WHERE id = :id")
            .bind("failed", failed).bind("id", flow.id()).execute();
        auditFailure(h, flow, "wrong_code", true, client);
        int left = MAX_CODE_ATTEMPTS - failed;
        return Outcome.refused(left > 0
            ? ApiException.badRequest("wrong_code", "That code is not right. " + left + " attempt"
                + (left == 1 ? "" : "s") + " left.").with(Map.of("attemptsLeft", left))
            : new ApiException(410, "flow_locked", "Too many wrong codes for this email. Request a new email."));
      }
      // This flow is used, and the address's other pending ones end with it (an older email's code or link no longer
      // signs in). Flows another request holds right now are skipped rather than waited for: no deadlock between
      // two flows of one address verified at once.
      h.createUpdate("""
              UPDATE email_flows SET consumed_at = now()
              WHERE id = :id
                 OR id IN (SELECT id FROM email_flows WHERE email = :email AND consumed_at IS NULL AND id <> :id
                           FOR UPDATE SKIP LOCKED)
              """)
          .bind("id", flow.id()).bind("email", flow.email()).execute();
      Optional<Users.SignedIn> verified = Users.signInVerifiedEmail(h, UUID.randomUUID(), flow.email());
      if (verified.isEmpty()) {
        // Disabled (after this email was sent): the same answer as an expired link, nothing more.
        auditFailure(h, flow, "account_disabled", code != null, client);
        return Outcome.refused(new ApiException(410, "flow_expired",
            "This sign-in link or code has expired. Request a new email."));
      }
      Users.SignedIn signedIn = verified.get();
      if (signedIn.created()) {
        audit.record(h, AuditLog.Type.USER_CREATED, signedIn.user().id(), null, client.ip(), Map.of("via", "email"));
      }
      // passkeyOffer: the sign-in page offers this person a passkey (they have none), the dashboard's acceptance.
      TokenResponse tokens = sessions.start(h, signedIn.user(), "email", List.of("otp"), client,
          new AuditLog.Event(AuditLog.Type.EMAIL_SIGN_IN_SUCCEEDED, Map.of("method", method(flow, code, client),
              "passkeyOffer", !signedIn.hasPasskey())));
      return Outcome.ok(new Verified(tokens, Optional.ofNullable(flow.authorizationRequest())));
    });
    return outcome.get();
  }

  private void auditFailure(Handle h, Flow flow, String reason, boolean viaCode, ClientInfo client) {
    UUID userId = Users.findByEmail(h, flow.email()).map(u -> u.id()).orElse(null);
    audit.record(h, AuditLog.Type.EMAIL_SIGN_IN_FAILED, userId, null, client.ip(),
        Map.of("reason", reason, "flowId", flow.id().toString(), "method", viaCode ? "code" : "link"));
  }

  private static Flow mapFlow(java.sql.ResultSet rs, org.jdbi.v3.core.statement.StatementContext ctx)
      throws java.sql.SQLException {
    return new Flow(rs.getObject("id", UUID.class), rs.getString("email"), rs.getBytes("code_hash"),
        Sql.instant(rs, "expires_at"),
        Sql.instant(rs, "consumed_at"), rs.getInt("failed_attempts"), rs.getString("authorization_request"),
        rs.getBytes("agent_hash"));
  }

  /** The code is bound to its flow, so equal codes of different flows have different hashes. */
  private static byte[] codeHash(UUID flowId, String code) {
    byte[] codeBytes = code.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer buf = ByteBuffer.allocate(16 + codeBytes.length);
    buf.putLong(flowId.getMostSignificantBits()).putLong(flowId.getLeastSignificantBits()).put(codeBytes);
    return Secrets.sha256(buf.array());
  }

  private static ApiException flowNotFound() {
    return ApiException.badRequest("flow_not_found", "This sign-in link or flow is not known.");
  }
}
