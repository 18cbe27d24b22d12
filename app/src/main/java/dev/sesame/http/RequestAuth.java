package dev.sesame.http;

import dev.sesame.common.ApiException;
import dev.sesame.sessions.SessionService;
import dev.sesame.tokens.AccessTokens;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Authenticates Sesame's own endpoints, by {@code Authorization: Bearer <access token>} or, for Sesame's own pages,
 * by the session cookie. Besides the token's signature and expiry it checks that the session is still alive, so
 * signing out takes effect here at once. A state-changing request authenticated by cookie must also pass the CSRF
 * check: an {@code Origin} that is exactly one of the allowed origins, and the {@code X-Sesame-CSRF} header (which
 * no cross-site form can send, and no cross-origin script can send without a CORS preflight we only grant to
 * allowed origins).
 *
 * <p>Only Sesame's own first-party sessions reach the account API, single sign-on and (through it) the admin API: an
 * access token issued to a registered app is for that app's resource and for UserInfo, and nothing else. Were it
 * accepted here, any app a person signs in to — or anyone its token leaks from — could add a passkey to their account,
 * mint codes for other apps or, for an administrator, open the admin API (a confused deputy; RFC 9068 §4, RFC 8725
 * §3.9 on tokens used at the wrong recipient). Both the token ({@code aud}, {@code client_id}) and the session the
 * database holds must be first-party.
 */
public final class RequestAuth {
  public static final String CSRF_HEADER = "X-Sesame-CSRF";
  private static final Map<String, String> CHALLENGE = Map.of("WWW-Authenticate", "Bearer error=\"invalid_token\"");

  private final AccessTokens accessTokens;
  private final SessionService sessions;
  private final SessionCookies cookies;
  private final List<String> allowedOrigins;

  public RequestAuth(AccessTokens accessTokens, SessionService sessions, SessionCookies cookies,
              List<String> allowedOrigins) {
    this.accessTokens = accessTokens;
    this.sessions = sessions;
    this.cookies = cookies;
    this.allowedOrigins = allowedOrigins;
  }

  /** A live session and the token's granted scope (null for first-party tokens): Bearer only, no cookies. */
  public record Bearer(SessionService.ActiveSession session, String scope) {}

  /** {@code Authorization: Bearer <access token>} of a live session (OpenID Connect UserInfo, RFC 6750). */
  public Bearer requireBearer(Context ctx) {
    String header = ctx.header("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() > 8192) {
      throw unauthenticated();
    }
    AccessTokens.Claims claims;
    try {
      claims = accessTokens.verify(header.substring(7).strip());
    } catch (ApiException e) {
      throw new ApiException(e.status(), e.code(), e.detail(), CHALLENGE);
    }
    SessionService.ActiveSession session = sessions.findActive(claims.sessionId())
        .filter(s -> s.user().id().equals(claims.userId()))
        .orElseThrow(() -> new ApiException(401, "invalid_token", "This session has ended. Sign in again.",
            CHALLENGE));
    AccessLog.identify(session.user().id());
    return new Bearer(session, claims.scope());
  }

  public SessionService.ActiveSession require(Context ctx) {
    String header = ctx.header("Authorization");
    String token;
    if (header != null) {
      if (!header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() > 8192) {
        throw unauthenticated();
      }
      token = header.substring(7).strip();
    } else {
      Optional<String> cookie = cookies.accessToken(ctx);
      if (cookie.isEmpty()) {
        throw unauthenticated();
      }
      requireCsrfProof(ctx);
      token = cookie.get();
    }
    AccessTokens.Claims claims;
    try {
      claims = accessTokens.verify(token);
    } catch (ApiException e) {
      throw new ApiException(e.status(), e.code(), e.detail(), CHALLENGE);
    }
    if (!claims.firstParty()) {
      throw new ApiException(401, "invalid_token", "This access token was issued to an app ('" + claims.clientId()
          + "'); Sesame's own API takes only tokens of Sesame's sign-in pages and <sesame-auth>.", CHALLENGE);
    }
    SessionService.ActiveSession session = sessions.findActive(claims.sessionId())
        .filter(s -> s.user().id().equals(claims.userId()) && s.firstParty())
        .orElseThrow(() -> new ApiException(401, "invalid_token", "This session has ended. Sign in again.",
            CHALLENGE));
    AccessLog.identify(session.user().id());
    return session;
  }

  /**
   * The session of Sesame's own pages this browser holds (its access-token cookie), if it is still alive; nothing
   * when there is no cookie or its token has expired (the page can refresh it). For the authorization endpoint's
   * single sign-on: a navigation, so no CSRF proof applies.
   */
  public Optional<SessionService.ActiveSession> cookieSession(Context ctx) {
    Optional<String> cookie = cookies.accessToken(ctx);
    if (cookie.isEmpty()) {
      return Optional.empty();
    }
    AccessTokens.Claims claims;
    try {
      claims = accessTokens.verify(cookie.get());
    } catch (ApiException expiredOrInvalid) {
      return Optional.empty();
    }
    if (!claims.firstParty()) {
      return Optional.empty(); // an app's token in the cookie is no single sign-on session
    }
    return sessions.findActive(claims.sessionId())
        .filter(s -> s.user().id().equals(claims.userId()) && s.firstParty());
  }

  /** For requests that act on a cookie: safe methods pass; others need an allowed Origin and the CSRF header. */
  public void requireCsrfProof(Context ctx) {
    String method = ctx.method().name();
    if (method.equals("GET") || method.equals("HEAD")) {
      return;
    }
    String origin = ctx.header("Origin");
    if (origin == null || !allowedOrigins.contains(origin) || ctx.header(CSRF_HEADER) == null) {
      throw new ApiException(403, "csrf_check_failed",
          "A request authenticated by cookie must come from an allowed origin with the " + CSRF_HEADER
              + " header.");
    }
  }

  private static ApiException unauthenticated() {
    return new ApiException(401, "invalid_token", "Send an access token as 'Authorization: Bearer <token>'.",
        Map.of("WWW-Authenticate", "Bearer"));
  }
}
