package dev.sesame.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.common.ApiException;
import dev.sesame.sessions.SessionService;
import dev.sesame.users.User;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code /v1/sessions/*} and {@code /v1/me}. */
final class SessionEndpoints {
  private final SessionService sessions;
  private final RequestAuth bearer;
  private final SessionCookies cookies;
  private final ClientIps clientIps;
  private final ObjectMapper mapper;

  SessionEndpoints(SessionService sessions, RequestAuth bearer, SessionCookies cookies, ClientIps clientIps,
                   ObjectMapper mapper) {
    this.sessions = sessions;
    this.bearer = bearer;
    this.cookies = cookies;
    this.clientIps = clientIps;
    this.mapper = mapper;
  }

  /**
   * {@code POST /v1/sessions/refresh {"refresh_token"}} → 200 token response with a new refresh token. Sesame's own
   * pages send no body: their refresh token is the session cookie (CSRF-checked).
   */
  void refresh(Context ctx) {
    JsonBody body = JsonBody.ofOptional(ctx, mapper);
    String refreshToken = body.optionalString("refresh_token").orElseGet(() -> {
      String fromCookie = cookies.refreshToken(ctx).orElseThrow(() ->
          ApiException.badRequest("invalid_request", "The field 'refresh_token' is required."));
      bearer.requireCsrfProof(ctx);
      return fromCookie;
    });
    cookies.respond(ctx, sessions.refresh(refreshToken, clientIps.of(ctx)));
  }

  /** {@code POST /v1/sessions/logout} (Bearer or cookie) → 204; the session and its refresh tokens stop working. */
  void logout(Context ctx) {
    SessionService.ActiveSession session = bearer.require(ctx);
    sessions.logout(session.sessionId(), clientIps.of(ctx));
    cookies.clear(ctx);
    ctx.status(204);
  }

  /** {@code GET /v1/me} (Bearer) → the signed-in user. */
  void me(Context ctx) {
    User user = bearer.require(ctx).user();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", user.id());
    out.put("email", user.email());
    out.put("emailVerified", user.emailVerified());
    out.put("createdAt", user.createdAt());
    out.put("lastSignInAt", user.lastSignInAt());
    ctx.json(out);
  }
}
