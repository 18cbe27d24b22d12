package dev.sesame.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.sessions.SessionService;
import dev.sesame.users.User;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code /v1/sessions/*} and {@code /v1/me}. */
final class SessionEndpoints {
  private final SessionService sessions;
  private final BearerAuth bearer;
  private final ClientIps clientIps;
  private final ObjectMapper mapper;

  SessionEndpoints(SessionService sessions, BearerAuth bearer, ClientIps clientIps, ObjectMapper mapper) {
    this.sessions = sessions;
    this.bearer = bearer;
    this.clientIps = clientIps;
    this.mapper = mapper;
  }

  /** {@code POST /v1/sessions/refresh {"refresh_token"}} → 200 token response with a new refresh token. */
  void refresh(Context ctx) {
    JsonBody body = JsonBody.of(ctx, mapper);
    ctx.json(sessions.refresh(body.requiredString("refresh_token"), clientIps.of(ctx)));
  }

  /** {@code POST /v1/sessions/logout} (Bearer) → 204; the session and its refresh tokens stop working. */
  void logout(Context ctx) {
    SessionService.ActiveSession session = bearer.require(ctx);
    sessions.logout(session.sessionId(), clientIps.of(ctx));
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
