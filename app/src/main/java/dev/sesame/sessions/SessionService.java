package dev.sesame.sessions;

import dev.sesame.audit.AuditLog;
import dev.sesame.common.ApiException;
import dev.sesame.common.ClientInfo;
import dev.sesame.common.Outcome;
import dev.sesame.common.Secrets;
import dev.sesame.config.RateLimit;
import dev.sesame.db.Sql;
import dev.sesame.ratelimit.RateLimiter;
import dev.sesame.tokens.AccessTokens;
import dev.sesame.users.User;
import dev.sesame.users.Users;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * Server-side sessions and their rotating refresh tokens. A session starts at sign-in; each refresh exchanges the
 * refresh token for a new one; presenting an exchanged token again means it leaked, so the whole session ends.
 */
public final class SessionService {
  private final Jdbi jdbi;
  private final AccessTokens accessTokens;
  private final AuditLog audit;
  private final Duration refreshTtl;
  private final Duration idleTtl;
  private final Duration maxTtl;
  private final Duration reuseGrace;
  private final RateLimiter rateLimiter;
  /** Refreshes per session ({@code SESAME_RATE_LIMIT_REFRESH}): each one writes a refresh token. */
  private final RateLimit refreshLimit;

  /**
   * @param idleTtl a session not refreshed for this long ends ({@code SESAME_SESSION_IDLE_TTL})
   * @param maxTtl no session outlives this, however active ({@code SESAME_SESSION_MAX_TTL})
   * @param reuseGrace how long after its exchange a refresh token may be exchanged again without counting as reuse
   *     ({@code SESAME_REFRESH_REUSE_GRACE})
   */
  public SessionService(Jdbi jdbi, AccessTokens accessTokens, AuditLog audit, Duration refreshTtl,
                        Duration idleTtl, Duration maxTtl, Duration reuseGrace, EndListener ended,
                        RateLimiter rateLimiter, RateLimit refreshLimit) {
    this.rateLimiter = rateLimiter;
    this.refreshLimit = refreshLimit;
    this.ended = ended;
    this.jdbi = jdbi;
    this.accessTokens = accessTokens;
    this.audit = audit;
    this.refreshTtl = refreshTtl;
    this.idleTtl = idleTtl;
    this.maxTtl = maxTtl;
    this.reuseGrace = reuseGrace;
  }

  /**
   * Told of every session that ends (signed out, revoked, reuse detected), inside the transaction that ends it: so
   * whatever it writes (a back-channel logout notice) commits with the end, or not at all.
   */
  public interface EndListener {
    /** {@code clientId} null: the first-party client's session. */
    void ended(Handle h, UUID sessionId, UUID userId, String clientId);
  }

  private final EndListener ended;

  /** A session as its owner sees it in a list of their devices. */
  public record SessionView(UUID id, Instant createdAt, Instant lastUsedAt, String authMethod, String ip,
                            String device, boolean current) {}

  /**
   * A session that is neither revoked nor expired, with its user; {@code clientId} is the app it was started for
   * (null: Sesame's own first-party client).
   */
  public record ActiveSession(UUID sessionId, User user, String authMethod, Instant createdAt, Instant authTime,
                              List<String> amr, String clientId) {
    /** A session of Sesame's own pages, console or {@code <sesame-auth>}, not one an app was given. */
    public boolean firstParty() {
      return clientId == null;
    }
  }

  /** A presented refresh token with its session and user, as one locked read returns them. */
  private record Presented(Instant rotatedAt, boolean superseded, byte[] successorHash, Instant tokenExpiresAt,
                           SessionRow session, User user) {}

  /** {@code clientId} is null for the built-in first-party client. */
  private record SessionRow(UUID id, UUID userId, String authMethod, String[] amr, Instant authTime,
                            Instant createdAt, Instant expiresAt, Instant revokedAt, String clientId,
                            List<String> scope) {}

  /** Idle expiry from now, capped by the absolute maximum from the session's creation. */
  private Instant expiry(Instant createdAt, Instant now) {
    Instant idle = now.plus(idleTtl);
    Instant cap = createdAt.plus(maxTtl);
    return idle.isBefore(cap) ? idle : cap;
  }

  /**
   * Starts a session for a user who just proved who they are, within the caller's transaction so the session exists
   * only if the sign-in commits, and records the sign-in's audit event with it.
   */
  public TokenResponse start(Handle h, User user, String authMethod, List<String> amr, ClientInfo client,
                             AuditLog.Event event) {
    UUID sessionId = UUID.randomUUID();
    Instant now = Instant.now();
    Instant sessionExpiry = expiry(now, now);
    IssuedRefresh refresh = insertSession(h, sessionId, user.id(), authMethod, amr, now, now, sessionExpiry, client,
        event, null, null);
    return respond(user, sessionId, now, authMethod, amr, refresh, now, null, null);
  }

  /**
   * Exchanges a refresh token for a new token response (RFC 6749 §6 with rotation, RFC 9700 §4.14.2). A token
   * presented again within the reuse grace of its first exchange gets an answer for the same session; later, it is
   * reuse, and the whole session ends. It works only for the client it was issued to ({@code clientId} null: the
   * first-party client).
   */
  public TokenResponse refresh(String refreshToken, String clientId, ClientInfo client) {
    byte[] hash = Secrets.sha256(refreshToken);
    Optional<TokenResponse> rotated = rotateLive(hash, clientId);
    if (rotated.isPresent()) {
      return rotated.get();
    }
    // The rare path, in a transaction of its own: the token is unknown, another client's, reused, or its session
    // ended or expired (and the answer says which; reuse ends the session). A token that became live again in
    // between (a concurrent exchange within the grace) is rotated here as before.
    Outcome<TokenResponse> outcome = jdbi.inTransaction(h -> {
      // The token's successor first, locked before the session (the successor's own exchange locks it, then the
      // session: the same order, so the two never wait for each other). Used, or gone: the successor was received.
      Optional<byte[]> successor = h.createQuery("SELECT successor_hash FROM refresh_tokens WHERE token_hash = :hash")
          .bind("hash", hash).map((rs, ctx) -> rs.getBytes(1)).findOne().filter(java.util.Objects::nonNull);
      // No single successor on record (exchanged twice within the grace: two tabs), or it is gone: assume used.
      // Issued within the grace (a retry moments ago): like two tabs, both stay valid and none is superseded.
      // Issued longer ago than an access token lives: the app that lost that answer would have retried by then
      // (a network drop, a restart), so a presenter this late is treated as a second holder, as before.
      record Successor(boolean used, boolean recent) {}
      Instant asked = Instant.now();
      Duration retryWindow = accessTokens.ttl().compareTo(reuseGrace) > 0 ? accessTokens.ttl() : reuseGrace;
      Successor next = successor.flatMap(nextHash -> h.createQuery("""
              SELECT (rotated_at IS NOT NULL AND NOT superseded) OR created_at < :retryStart AS used,
                     created_at >= :graceStart AS recent
              FROM refresh_tokens WHERE token_hash = :next FOR UPDATE""")
          .bind("next", nextHash).bind("graceStart", asked.minus(reuseGrace))
          .bind("retryStart", asked.minus(retryWindow))
          .map((rs, ctx) -> new Successor(rs.getBoolean("used"), rs.getBoolean("recent"))).findOne())
          .orElse(new Successor(true, false));
      // One round trip reads and locks the token, its session and the user.
      Optional<Presented> found = h.createQuery("""
              SELECT rt.rotated_at, rt.superseded, rt.successor_hash, rt.expires_at AS token_expires_at,
                     s.id AS session_id, s.user_id, s.auth_method, s.amr, s.auth_time,
                     s.created_at AS session_created_at, s.expires_at AS session_expires_at, s.revoked_at,
                     s.client_id, s.scope, u.id, u.email, u.email_verified, u.created_at, u.last_sign_in_at
              FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id JOIN users u ON u.id = s.user_id
              WHERE rt.token_hash = :hash
              FOR UPDATE OF rt, s
              """)
          .bind("hash", hash)
          .map((rs, ctx) -> new Presented(
              Sql.instant(rs, "rotated_at"), rs.getBoolean("superseded"), rs.getBytes("successor_hash"),
              Sql.instant(rs, "token_expires_at"),
              new SessionRow(rs.getObject("session_id", UUID.class), rs.getObject("user_id", UUID.class),
                  rs.getString("auth_method"), (String[]) rs.getArray("amr").getArray(),
                  Sql.instant(rs, "auth_time"),
                  Sql.instant(rs, "session_created_at"),
                  Sql.instant(rs, "session_expires_at"),
                  Sql.instant(rs, "revoked_at"), rs.getString("client_id"), Sql.strings(rs, "scope")),
              Users.map(rs)))
          .findOne();
      if (found.isEmpty()) {
        return Outcome.refused(ApiException.unauthorized("invalid_refresh_token", "The refresh token is not known."));
      }
      SessionRow session = found.get().session();
      UUID sessionId = session.id();
      if (!java.util.Objects.equals(session.clientId(), clientId)) {
        // Another client's token: as if unknown, and nothing happens to the session (it may be a mix-up, not theft).
        return Outcome.refused(ApiException.unauthorized("invalid_refresh_token",
            "The refresh token is not known."));
      }
      if (session.revokedAt() != null) {
        return Outcome.refused(ApiException.unauthorized("session_revoked", "This session was signed out."));
      }
      Instant now = Instant.now();
      Instant rotatedAt = found.get().rotatedAt();
      boolean pastGrace = rotatedAt != null && rotatedAt.plus(reuseGrace).isBefore(now);
      // The successor read before the locks may have been replaced meanwhile (a concurrent retry of this token
      // superseded it and issued another moments ago): then this is one of two retries at once, like two tabs.
      if (!java.util.Arrays.equals(successor.orElse(null), found.get().successorHash())
          && found.get().successorHash() != null) {
        next = new Successor(false, true);
      }
      boolean successorUsed = next.used();
      if (found.get().superseded() || pastGrace && successorUsed) {
        // This token was superseded (its predecessor was exchanged again because it never came back), or it was
        // exchanged a while ago and what that exchange issued has been used since: two parties hold this family.
        // End the session for everyone.
        revoke(h, session, "refresh_token_reuse", client);
        audit.record(h, AuditLog.Type.REFRESH_TOKEN_REUSED, session.userId(), sessionId, client.ip(), Map.of());
        return Outcome.refused(ApiException.unauthorized("refresh_token_reused",
            "This refresh token was already used; the session has been revoked. Sign in again."));
      }
      // Exchanged moments ago (two tabs refreshing at once): the same session answers again with a refresh token of
      // its own; the grace counts from the first exchange. Exchanged longer ago but its successor never used (an
      // app retrying after an answer lost to the network or a crash, however long the restart took): answered
      // again too, and the unused successor is superseded, so whoever may hold it is found out when it is used.
      if (found.get().tokenExpiresAt().isBefore(now) || session.expiresAt().isBefore(now)
          || !expiry(session.createdAt(), now).isAfter(now)) { // idle too long, or past the absolute maximum
        return Outcome.refused(ApiException.unauthorized("session_expired", "This session has expired."));
      }
      // One round trip rotates: the old token is spent, the new one issued, the session's expiry moved.
      Instant sessionExpiry = expiry(session.createdAt(), now);
      IssuedRefresh issued = newRefreshToken(now, sessionExpiry);
      // The rare path takes the same per-session limit (its own round trip: this path is not hot).
      long wait = rateLimiter.check(h, new RateLimiter.Hit("refresh:session:" + sessionId, refreshLimit));
      if (wait > 0) {
        return Outcome.refused(RateLimiter.limited(wait));
      }
      boolean retry = pastGrace && !next.recent();
      if (retry) {
        h.createUpdate("UPDATE refresh_tokens SET superseded = true, rotated_at = coalesce(rotated_at, :now) "
            + "WHERE token_hash = :next").bind("now", now).bind("next", successor.orElseThrow()).execute();
      }
      // The successor on record: the one this exchange issues, when it is the token's first exchange or a retry
      // that superseded the one before; none (NULL) after a second exchange within the grace, whose two successors
      // both stay valid (two tabs): such a token gets no retry after the grace.
      h.createUpdate("""
              WITH spent AS (UPDATE refresh_tokens SET rotated_at = coalesce(rotated_at, :now),
                                 successor_hash = CASE WHEN rotated_at IS NULL OR :retry THEN :newHash END
                             WHERE token_hash = :oldHash),
                   issued AS (INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
                              VALUES (:newHash, :sessionId, :now, :tokenExpiresAt))
              UPDATE sessions SET last_used_at = :now, expires_at = :sessionExpiresAt WHERE id = :sessionId
              """)
          .bind("now", now).bind("oldHash", hash).bind("newHash", Secrets.sha256(issued.token()))
          .bind("retry", retry)
          .bind("sessionId", sessionId).bind("tokenExpiresAt", issued.expiresAt())
          .bind("sessionExpiresAt", sessionExpiry)
          .execute();
      return Outcome.ok(respond(found.get().user(), sessionId, session.authTime(), session.authMethod(),
          Arrays.asList(session.amr()), issued, now, session.clientId(), session.scope()));
    });
    return outcome.get(); // throws after the commit: a detected reuse must stay revoked
  }

  /**
   * The hot path of {@link #refresh}: one statement, one round trip, no explicit transaction. It locks the token and
   * its session only when the exchange may go ahead (live session of this client, token unexpired and not exchanged,
   * or exchanged within the reuse grace), spends the token, issues the next one, moves the session's expiry and
   * returns what the access token needs. Empty when the token is anything else (the caller then finds out what).
   * The conditions are the rare path's, in SQL; under READ COMMITTED a concurrent change to either row (a sign-out,
   * another exchange) is waited for and the conditions re-checked on the newest version before anything is written.
   */
  private Optional<TokenResponse> rotateLive(byte[] hash, String clientId) {
    Instant now = Instant.now();
    IssuedRefresh next = newRefreshToken(now, now.plus(refreshTtl));
    record Rotated(SessionRow session, User user, Instant sessionExpiresAt, Instant tokenExpiresAt,
                   boolean allowed) {}
    Optional<Rotated> rotated = jdbi.withHandle(h -> RateLimiter.bindCte(h.createQuery("""
            WITH live AS (
              SELECT s.id AS session_id, s.user_id, s.auth_method, s.amr, s.auth_time,
                     s.created_at AS session_created_at, s.client_id, s.scope,
                     least(:idleExpiry, s.created_at + make_interval(secs => :maxSeconds)) AS session_expiry
              FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
              WHERE rt.token_hash = :hash AND s.client_id IS NOT DISTINCT FROM :clientId AND s.revoked_at IS NULL
                AND NOT rt.superseded AND (rt.rotated_at IS NULL OR rt.rotated_at >= :graceStart)
                AND rt.expires_at >= :now AND s.expires_at >= :now
                AND least(:idleExpiry, s.created_at + make_interval(secs => :maxSeconds)) > :now
              FOR UPDATE OF rt, s),
            """ + RateLimiter.cte("allowed", "'refresh:session:' || session_id", "live") + """
            ,
            spent AS (UPDATE refresh_tokens SET rotated_at = coalesce(rotated_at, :now),
                                                successor_hash = CASE WHEN rotated_at IS NULL THEN :newHash END
                      WHERE token_hash = :hash AND EXISTS (SELECT 1 FROM allowed)),
            issued AS (INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
                       SELECT :newHash, session_id, :now, least(:tokenExpiry, session_expiry) FROM live
                       WHERE EXISTS (SELECT 1 FROM allowed)),
            moved AS (UPDATE sessions SET last_used_at = :now, expires_at = live.session_expiry
                      FROM live WHERE sessions.id = live.session_id AND EXISTS (SELECT 1 FROM allowed))
            SELECT live.*, least(:tokenExpiry, live.session_expiry) AS token_expiry,
                   EXISTS (SELECT 1 FROM allowed) AS allowed,
                   u.id, u.email, u.email_verified, u.created_at, u.last_sign_in_at
            FROM live JOIN users u ON u.id = live.user_id
            """), "allowed", refreshLimit)
        .bind("hash", hash).bind("clientId", clientId).bind("now", now)
        .bind("graceStart", now.minus(reuseGrace)).bind("idleExpiry", now.plus(idleTtl))
        .bind("maxSeconds", maxTtl.toSeconds()).bind("newHash", Secrets.sha256(next.token()))
        .bind("tokenExpiry", next.expiresAt())
        .map((rs, ctx) -> new Rotated(
            new SessionRow(rs.getObject("session_id", UUID.class), rs.getObject("user_id", UUID.class),
                rs.getString("auth_method"), (String[]) rs.getArray("amr").getArray(), Sql.instant(rs, "auth_time"),
                Sql.instant(rs, "session_created_at"), null, null, rs.getString("client_id"),
                Sql.strings(rs, "scope")),
            Users.map(rs), Sql.instant(rs, "session_expiry"), Sql.instant(rs, "token_expiry"),
            rs.getBoolean("allowed")))
        .findOne());
    if (rotated.isPresent() && !rotated.get().allowed()) {
      // A live token of a session refreshing faster than SESAME_RATE_LIMIT_REFRESH: nothing was written.
      throw rateLimiter.refusedInStatement("refresh:session:" + rotated.get().session().id(), refreshLimit);
    }
    return rotated.map(r -> respond(r.user(), r.session().id(), r.session().authTime(), r.session().authMethod(),
        Arrays.asList(r.session().amr()), new IssuedRefresh(next.token(), r.tokenExpiresAt()), now,
        r.session().clientId(), r.session().scope()));
  }

  /** The session behind an access token, if it is still alive. */
  public Optional<ActiveSession> findActive(UUID sessionId) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT s.id AS session_id, s.auth_method, s.created_at AS session_created_at, s.auth_time, s.amr,
                   s.client_id, u.id, u.email, u.email_verified, u.created_at, u.last_sign_in_at
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id = :id AND s.revoked_at IS NULL AND s.expires_at > now()
            """)
        .bind("id", sessionId)
        .map((rs, ctx) -> new ActiveSession(rs.getObject("session_id", UUID.class), Users.map(rs),
            rs.getString("auth_method"), Sql.instant(rs, "session_created_at"), Sql.instant(rs, "auth_time"),
            Sql.strings(rs, "amr"), rs.getString("client_id")))
        .findOne());
  }

  /**
   * A new session for the same person and sign-in as {@code originSessionId} (for an app exchanging an
   * authorization code), if that session is still alive.
   */
  public Optional<TokenResponse> startFrom(Handle h, UUID originSessionId, String clientId, List<String> scope,
                                           ClientInfo client) {
    // FOR SHARE: a sign-out of the origin waits for this exchange, then ends what it created (see revoke).
    Optional<Origin> found = h.createQuery("""
            SELECT s.auth_method, s.amr, s.auth_time, s.expires_at > now() AND s.revoked_at IS NULL AS live,
                   coalesce(s.origin_session_id, s.id) AS root,
                   u.id, u.email, u.email_verified, u.created_at, u.last_sign_in_at
            FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = :id FOR SHARE OF s""")
        .bind("id", originSessionId)
        .map((rs, ctx) -> new Origin(Users.map(rs), rs.getString("auth_method"),
            Arrays.asList((String[]) rs.getArray("amr").getArray()), Sql.instant(rs, "auth_time"),
            rs.getBoolean("live"), rs.getObject("root", UUID.class)))
        .findOne();
    if (found.isEmpty() || !found.get().live()) {
      return Optional.empty();
    }
    Origin origin = found.get();
    Instant now = Instant.now();
    // Single logout: the app's session ends with the sign-in it came from (one level: the hosted-page session).
    Starting starting = new Starting(UUID.randomUUID(), now, expiry(now, now), origin.authMethod(), origin.amr(),
        origin.authTime(), client, null, clientId, scope, origin.root());
    starting.insertFor(h, origin.user().id());
    return Optional.of(starting.respond(origin.user()));
  }

  /** The sign-in an app's session starts from: its person, how they signed in, and the session that is its root. */
  private record Origin(User user, String authMethod, List<String> amr, Instant authTime, boolean live, UUID root) {}

  /**
   * True when {@code sessionId} is {@code firstPartySessionId} or an app's session started from it (the same
   * sign-in, for single logout), ended or not.
   */
  public boolean sameSignIn(UUID sessionId, UUID firstPartySessionId) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT EXISTS (SELECT 1 FROM sessions
                           WHERE id = :id AND (id = :root OR origin_session_id = :root))""")
        .bind("id", sessionId).bind("root", firstPartySessionId).mapTo(Boolean.class).one());
  }

  /**
   * Ends the sign-in {@code sessionId} belongs to, if it is {@code userId}'s: the Sesame session it came from (with
   * every app session started from it) or, for a session without an origin, itself (RP-Initiated Logout: the OP
   * ends the End-User's session the app names).
   */
  public void endSignIn(UUID sessionId, UUID userId, ClientInfo client) {
    jdbi.useTransaction(h -> {
      Optional<UUID> root = h.createQuery("""
              SELECT coalesce(origin_session_id, id) FROM sessions WHERE id = :id AND user_id = :userId""")
          .bind("id", sessionId).bind("userId", userId).mapTo(UUID.class).findOne();
      for (UUID id : root.map(r -> List.of(r, sessionId)).orElse(List.of())) {
        SessionRow session = loadSession(h, id);
        if (session != null && session.revokedAt() == null) {
          revoke(h, session, "logout", client);
        }
      }
    });
  }

  /** Revokes a session within the caller's transaction (e.g. when a code it came from is replayed). */
  public void revoke(Handle h, UUID sessionId, String reason, ClientInfo client) {
    SessionRow session = loadSession(h, sessionId);
    if (session != null && session.revokedAt() == null) {
      revoke(h, session, reason, client);
    }
  }

  /** The user's live sessions, newest use first; {@code current} marks the caller's. */
  public List<SessionView> list(UUID userId, UUID currentSessionId) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, created_at, last_used_at, auth_method, ip, user_agent FROM sessions
            WHERE user_id = :userId AND revoked_at IS NULL AND expires_at > now()
            ORDER BY last_used_at DESC
            """)
        .bind("userId", userId)
        .map((rs, ctx) -> {
          UUID id = rs.getObject("id", UUID.class);
          return new SessionView(id, Sql.instant(rs, "created_at"),
              Sql.instant(rs, "last_used_at"), rs.getString("auth_method"),
              rs.getString("ip"), UserAgents.describe(rs.getString("user_agent")), id.equals(currentSessionId));
        })
        .list());
  }

  /** Ends one of the user's own sessions; another user's is as invisible as a missing one. */
  public void revokeOwn(UUID userId, UUID sessionId, ClientInfo client) {
    jdbi.useTransaction(h -> {
      SessionRow session = loadSession(h, sessionId);
      if (session == null || !session.userId().equals(userId) || session.revokedAt() != null) {
        throw new ApiException(404, "session_not_found", "There is no such session on your account.");
      }
      revoke(h, session, "revoked_by_user", client);
    });
  }

  /** Signs the user out everywhere. */
  public void logoutAll(UUID userId, ClientInfo client) {
    jdbi.useTransaction(h -> endAll(h, userId, "logout_all", client));
  }

  /** Ends every live session of the user within the caller's transaction (apps are told, see EndListener). */
  public void endAll(Handle h, UUID userId, String reason, ClientInfo client) {
    List<UUID> ids = h.createQuery("SELECT id FROM sessions WHERE user_id = :userId AND revoked_at IS NULL")
        .bind("userId", userId).mapTo(UUID.class).list();
    for (UUID id : ids) {
      SessionRow session = loadSession(h, id);
      if (session.revokedAt() == null) { // a child may have ended with its origin just now
        revoke(h, session, reason, client);
      }
    }
  }

  /** Signs a session out: its refresh tokens stop working and Sesame's endpoints refuse its access tokens. */
  public void logout(UUID sessionId, ClientInfo client) {
    jdbi.useTransaction(h -> {
      SessionRow session = loadSession(h, sessionId);
      if (session != null && session.revokedAt() == null) {
        revoke(h, session, "logout", client);
      }
    });
  }

  /**
   * Ends a session and the sessions apps were given from it (single logout), each with its audit event, and tells
   * {@link EndListener} of each, all in the caller's transaction.
   */
  private void revoke(Handle h, SessionRow session, String reason, ClientInfo client) {
    record Ended(UUID id, UUID userId, String clientId, String reason) {}
    // Two statements, on purpose: the first waits for any code exchange holding this session (startFrom locks it),
    // and the second, with a snapshot taken after that wait, then sees the app session the exchange created.
    List<Ended> all = new java.util.ArrayList<>();
    for (String sql : List.of(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = :reason WHERE id = :id AND revoked_at IS NULL "
            + "RETURNING id, user_id, client_id, revoked_reason",
        "UPDATE sessions SET revoked_at = now(), revoked_reason = 'origin_ended' "
            + "WHERE origin_session_id = :id AND revoked_at IS NULL RETURNING id, user_id, client_id, revoked_reason")) {
      all.addAll(h.createQuery(sql).bind("reason", reason).bind("id", session.id())
          .map((rs, ctx) -> new Ended(rs.getObject("id", UUID.class), rs.getObject("user_id", UUID.class),
              rs.getString("client_id"), rs.getString("revoked_reason")))
          .list());
    }
    for (Ended e : all) {
      audit.record(h, AuditLog.Type.SESSION_REVOKED, e.userId(), e.id(), client.ip(), Map.of("reason", e.reason()));
      ended.ended(h, e.id(), e.userId(), e.clientId());
    }
  }

  private SessionRow loadSession(Handle h, UUID id) {
    return h.createQuery("""
            SELECT id, user_id, auth_method, amr, auth_time, created_at, expires_at, revoked_at, client_id, scope
            FROM sessions WHERE id = :id""")
        .bind("id", id)
        .map((rs, ctx) -> new SessionRow(rs.getObject("id", UUID.class), rs.getObject("user_id", UUID.class),
            rs.getString("auth_method"), (String[]) rs.getArray("amr").getArray(),
            Sql.instant(rs, "auth_time"),
            Sql.instant(rs, "created_at"),
            Sql.instant(rs, "expires_at"),
            Sql.instant(rs, "revoked_at"), rs.getString("client_id"), Sql.strings(rs, "scope")))
        .findOne().orElse(null);
  }

  /** A new session, its first refresh token and (if given) the audit event, in one statement. */
  private IssuedRefresh insertSession(Handle h, UUID sessionId, UUID userId, String authMethod, List<String> amr,
                                      Instant authTime, Instant now, Instant expiresAt, ClientInfo client,
                                      AuditLog.Event event, String clientId, List<String> scope) {
    Starting starting = new Starting(sessionId, now, expiresAt, authMethod, amr, authTime, client, event, clientId,
        scope, null);
    starting.insertFor(h, userId);
    return starting.refresh;
  }

  /**
   * A first-party session about to start inside the statement that proves the sign-in (a passkey sign-in writes
   * counter, user, session, refresh token and event in one statement): {@link #ctes} to put in it, {@link #bind} its
   * parameters, then {@link #respond} with the user the statement returned.
   */
  public Starting starting(String authMethod, List<String> amr, ClientInfo client, AuditLog.Event event) {
    Instant now = Instant.now();
    return new Starting(UUID.randomUUID(), now, expiry(now, now), authMethod, amr, now, client, event, null, null,
        null);
  }

  /** See {@link #starting}. */
  public final class Starting {
    private final UUID sessionId;
    private final Instant now;
    private final Instant expiresAt;
    private final String authMethod;
    private final List<String> amr;
    private final Instant authTime;
    private final ClientInfo client;
    private final AuditLog.Event event;
    private final String clientId;
    private final List<String> scope;
    private final UUID originSessionId;
    private final IssuedRefresh refresh;

    private Starting(UUID sessionId, Instant now, Instant expiresAt, String authMethod, List<String> amr,
                     Instant authTime, ClientInfo client, AuditLog.Event event, String clientId, List<String> scope,
                     UUID originSessionId) {
      this.sessionId = sessionId;
      this.now = now;
      this.expiresAt = expiresAt;
      this.authMethod = authMethod;
      this.amr = amr;
      this.authTime = authTime;
      this.client = client;
      this.event = event;
      this.clientId = clientId;
      this.scope = scope;
      this.originSessionId = originSessionId;
      this.refresh = newRefreshToken(now, expiresAt);
    }

    /**
     * Data-modifying CTEs, each after a comma, that insert the session, its first refresh token and (with an event)
     * its audit event once for each row of {@code source}, a CTE with the person's {@code id}: nothing when it has
     * no row, so the session exists only if the rest of the statement went ahead.
     */
    public String ctes(String source) {
      return """
          , new_session AS (
            INSERT INTO sessions (id, user_id, auth_method, amr, auth_time, created_at, last_used_at, expires_at,
                                  ip, user_agent, client_id, scope, origin_session_id)
            SELECT :sessionId, id, :method, :amr, :authTime, :now, :now, :expiresAt, :ip, :ua, :clientId, :scope,
                   CAST(:originSessionId AS uuid)
            FROM %1$s),
          new_token AS (
            INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
            SELECT :tokenHash, :sessionId, :now, :tokenExpiresAt FROM %1$s)
          """.formatted(source) + (event == null ? "" : ", new_event AS (" + AuditLog.insertFor(source) + ")\n");
    }

    /** Writes the session, its refresh token and event for {@code userId} in a statement of their own. */
    private void insertFor(Handle h, UUID userId) {
      bind(h.createQuery("WITH person AS (SELECT CAST(:userId AS uuid) AS id)" + ctes("person") + "SELECT 1")
          .bind("userId", userId)).mapTo(Integer.class).one();
    }

    public <S extends SqlStatement<S>> S bind(S statement) {
      statement.bind("sessionId", sessionId).bind("method", authMethod)
          .bind("amr", amr.toArray(String[]::new)).bind("authTime", authTime).bind("now", now)
          .bind("expiresAt", expiresAt).bind("ip", client.ip()).bind("ua", client.userAgent())
          .bind("tokenHash", Secrets.sha256(refresh.token())).bind("tokenExpiresAt", refresh.expiresAt())
          .bind("clientId", clientId).bind("scope", scope == null ? null : scope.toArray(String[]::new))
          .bind("originSessionId", originSessionId);
      return event == null ? statement : audit.bind(statement, event);
    }

    /** The token response for the person the statement signed in. */
    public TokenResponse respond(User user) {
      return SessionService.this.respond(user, sessionId, authTime, authMethod, amr, refresh, now, clientId, scope);
    }
  }

  private record IssuedRefresh(String token, Instant expiresAt) {}


  /** A new refresh token (not yet stored); it never outlives its session. */
  private IssuedRefresh newRefreshToken(Instant now, Instant sessionExpiry) {
    Instant own = now.plus(refreshTtl);
    return new IssuedRefresh(Secrets.randomToken(32), own.isBefore(sessionExpiry) ? own : sessionExpiry);
  }

  private TokenResponse respond(User user, UUID sessionId, Instant authTime, String authMethod, List<String> amr,
                                IssuedRefresh refresh, Instant now, String clientId, List<String> scope) {
    String accessToken = accessTokens.issue(user, sessionId, authTime, authMethod, amr, clientId, scope);
    return new TokenResponse(accessToken, "Bearer", accessTokens.ttl().getSeconds(), refresh.token(),
        Duration.between(now, refresh.expiresAt()).getSeconds(), sessionId, TokenResponse.UserView.of(user),
        authTime, amr, scope, null);
  }

}
