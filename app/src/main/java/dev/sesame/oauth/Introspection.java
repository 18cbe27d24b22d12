package dev.sesame.oauth;

import dev.sesame.common.ApiException;
import dev.sesame.common.Secrets;
import dev.sesame.sessions.SessionService;
import dev.sesame.tokens.AccessTokens;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * Token introspection (RFC 7662) and revocation (RFC 7009). Introspection answers in real time: a token is active
 * only while its signature, expiry, session (not revoked, not idle or past its maximum age) and user all hold.
 */
public final class Introspection {
  private static final Map<String, Object> INACTIVE = Map.of("active", false);

  private final Jdbi jdbi;
  private final AccessTokens accessTokens;
  private final SessionService sessions;
  private final String firstPartyId;

  /** @param firstPartyId the built-in client's id, what its tokens name as {@code client_id} */
  public Introspection(Jdbi jdbi, AccessTokens accessTokens, SessionService sessions, String firstPartyId) {
    this.firstPartyId = firstPartyId;
    this.jdbi = jdbi;
    this.accessTokens = accessTokens;
    this.sessions = sessions;
  }

  public Map<String, Object> introspect(String token, String hint) {
    if (token == null || token.isBlank() || token.length() > 8192) {
      return INACTIVE;
    }
    boolean looksLikeJwt = token.chars().filter(c -> c == '.').count() == 2;
    if ("refresh_token".equals(hint) || !looksLikeJwt) {
      return refreshToken(token);
    }
    return accessToken(token);
  }

  private Map<String, Object> accessToken(String token) {
    AccessTokens.Full claims;
    try {
      claims = accessTokens.verifyFull(token);
    } catch (ApiException invalid) {
      return INACTIVE;
    }
    Optional<SessionService.ActiveSession> session = sessions.findActive(claims.claims().sessionId())
        .filter(s -> s.user().id().equals(claims.claims().userId()));
    if (session.isEmpty()) {
      return INACTIVE;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("active", true);
    out.put("token_type", "access_token");
    out.put("sub", claims.claims().userId().toString());
    out.put("client_id", claims.clientId());
    out.put("iss", claims.issuer());
    out.put("aud", claims.audience());
    out.put("exp", claims.claims().expiresAt().getEpochSecond());
    out.put("iat", claims.claims().issuedAt().getEpochSecond());
    out.put("sid", claims.claims().sessionId().toString());
    String scope = claims.claims().scope();
    if (scope != null) {
      out.put("scope", scope);
    }
    // The address only where the token's own grant has it (the first-party client's tokens carry no scope and
    // always do), as in UserInfo and the token itself: OpenID Connect Core §5.4.
    if (scope == null || List.of(scope.split(" ")).contains("email")) {
      out.put("email", session.get().user().email());
      out.put("email_verified", session.get().user().emailVerified());
    }
    return out;
  }

  private Map<String, Object> refreshToken(String token) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT rt.expires_at, rt.created_at, s.id AS sid, s.client_id, s.scope, u.id AS sub, u.email,
                   u.email_verified
            FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id JOIN users u ON u.id = s.user_id
            WHERE rt.token_hash = :hash AND rt.rotated_at IS NULL AND rt.expires_at > now()
              AND s.revoked_at IS NULL AND s.expires_at > now()
            """)
        .bind("hash", Secrets.sha256(token))
        .map((rs, ctx) -> {
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("active", true);
          out.put("token_type", "refresh_token");
          out.put("sub", rs.getObject("sub", UUID.class).toString());
          out.put("client_id", rs.getString("client_id") == null ? firstPartyId : rs.getString("client_id"));
          out.put("exp", rs.getObject("expires_at", OffsetDateTime.class).toEpochSecond());
          out.put("iat", rs.getObject("created_at", OffsetDateTime.class).toEpochSecond());
          out.put("sid", rs.getObject("sid", UUID.class).toString());
          List<String> scope = dev.sesame.db.Sql.strings(rs, "scope");
          if (scope != null) {
            out.put("scope", String.join(" ", scope));
          }
          if (scope == null || scope.contains("email")) {
            out.put("email", rs.getString("email"));
            out.put("email_verified", rs.getBoolean("email_verified"));
          }
          return (Map<String, Object>) out;
        })
        .findOne().orElse(INACTIVE));
  }

  /**
   * RFC 7009: revokes the session a refresh (or access) token belongs to, if it was issued to {@code clientId} (null:
   * the first-party client), §2.1. Unknown, already invalid or another client's tokens are not an error (§2.2): the
   * answer is the same, so it reveals nothing.
   */
  public void revoke(String token, String clientId, dev.sesame.common.ClientInfo client) {
    if (token == null || token.isBlank() || token.length() > 8192) {
      return;
    }
    String presenter = clientId == null ? firstPartyId : clientId;
    Optional<UUID> sessionId = jdbi.withHandle(h -> h.createQuery("""
            SELECT rt.session_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
            WHERE rt.token_hash = :hash AND coalesce(s.client_id, :firstParty) = :presenter
            """)
        .bind("hash", Secrets.sha256(token)).bind("firstParty", firstPartyId).bind("presenter", presenter)
        .mapTo(UUID.class).findOne());
    if (sessionId.isEmpty() && token.chars().filter(c -> c == '.').count() == 2) {
      try {
        AccessTokens.Full claims = accessTokens.verifyFull(token);
        if (presenter.equals(claims.clientId())) {
          sessionId = Optional.of(claims.claims().sessionId());
        }
      } catch (ApiException notOurs) {
        return;
      }
    }
    sessionId.ifPresent(id -> sessions.logout(id, client));
  }
}
