package dev.sesame.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.common.ApiException;
import dev.sesame.sessions.SessionService;
import dev.sesame.users.User;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

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
   * {@code POST /v1/sessions/logout} (Bearer or cookie), optionally {@code {"all": true}} → 204; the session (or
   * every session of the user) and its refresh tokens stop working.
   */
  void logout(Context ctx) {
    SessionService.ActiveSession session = bearer.require(ctx);
    boolean all = JsonBody.ofOptional(ctx, mapper).optionalBoolean("all").orElse(false);
    if (all) {
      sessions.logoutAll(session.user().id(), clientIps.of(ctx));
    } else {
      sessions.logout(session.sessionId(), clientIps.of(ctx));
    }
    cookies.clear(ctx);
    ctx.status(204);
  }

  /** {@code GET /v1/sessions} (Bearer): the user's live sessions; {@code current: true} marks this one. */
  void list(Context ctx) {
    SessionService.ActiveSession session = bearer.require(ctx);
    ctx.json(Map.of("sessions", sessions.list(session.user().id(), session.sessionId())));
  }

  /** {@code DELETE /v1/sessions/{id}} (Bearer) → 204; only the user's own sessions. */
  void revoke(Context ctx) {
    SessionService.ActiveSession session = bearer.require(ctx);
    UUID id;
    try {
      id = UUID.fromString(ctx.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw new ApiException(404, "session_not_found", "There is no such session on your account.");
    }
    sessions.revokeOwn(session.user().id(), id, clientIps.of(ctx));
    if (id.equals(session.sessionId())) {
      cookies.clear(ctx);
    }
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
