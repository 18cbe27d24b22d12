package dev.sesame.http;

import dev.sesame.common.ApiException;
import dev.sesame.sessions.SessionService;
import dev.sesame.tokens.AccessTokens;
import io.javalin.http.Context;
import java.util.Map;

/**
 * Authenticates Sesame's own endpoints with {@code Authorization: Bearer <access token>}. Besides the token's
 * signature and expiry it checks that the session is still alive, so signing out takes effect here at once.
 */
final class BearerAuth {
  private static final Map<String, String> CHALLENGE = Map.of("WWW-Authenticate", "Bearer error=\"invalid_token\"");

  private final AccessTokens accessTokens;
  private final SessionService sessions;

  BearerAuth(AccessTokens accessTokens, SessionService sessions) {
    this.accessTokens = accessTokens;
    this.sessions = sessions;
  }

  SessionService.ActiveSession require(Context ctx) {
    String header = ctx.header("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() > 8192) {
      throw new ApiException(401, "invalid_token", "Send an access token as 'Authorization: Bearer <token>'.",
          Map.of("WWW-Authenticate", "Bearer"));
    }
    AccessTokens.Claims claims;
    try {
      claims = accessTokens.verify(header.substring(7).strip());
    } catch (ApiException e) {
      throw new ApiException(e.status(), e.code(), e.detail(), CHALLENGE);
    }
    return sessions.findActive(claims.sessionId())
        .filter(s -> s.user().id().equals(claims.userId()))
        .orElseThrow(() -> new ApiException(401, "invalid_token", "This session has ended. Sign in again.",
            CHALLENGE));
  }
}
