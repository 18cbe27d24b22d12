package dev.sesame.http;

import dev.sesame.users.User;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.passkeys.PasskeyService;
import dev.sesame.sessions.SessionService;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code /v1/passkeys/*} (ceremonies) and {@code /v1/me/passkeys} (management). */
final class PasskeyEndpoints {
  private final PasskeyService passkeys;
  private final RequestAuth bearer;
  private final SessionCookies cookies;
  private final ClientIps clientIps;
  private final ObjectMapper mapper;

  PasskeyEndpoints(PasskeyService passkeys, RequestAuth bearer, SessionCookies cookies, ClientIps clientIps,
                   ObjectMapper mapper) {
    this.passkeys = passkeys;
    this.bearer = bearer;
    this.cookies = cookies;
    this.clientIps = clientIps;
    this.mapper = mapper;
  }

  /**
   * {@code POST /v1/passkeys/register/options} (Bearer) {@code {"name"?, "conditional"?}}; {@code conditional: true}
   * for an automatic upgrade ({@code navigator.credentials.create} with {@code mediation: "conditional"}).
   */
  void startRegistration(Context ctx) {
    SessionService.ActiveSession session = bearer.require(ctx);
    JsonBody body = JsonBody.ofOptional(ctx, mapper);
    ctx.json(options(passkeys.startRegistration(session.user(), body.optionalString("name").orElse(null),
        body.optionalBoolean("conditional").orElse(false))));
  }

  /** {@code POST /v1/passkeys/register/verify} (Bearer) {@code {"ceremonyId", "credential", "name"?}} → 201. */
  void finishRegistration(Context ctx) {
    SessionService.ActiveSession session = bearer.require(ctx);
    JsonBody body = JsonBody.of(ctx, mapper);
    PasskeyService.Passkey passkey = passkeys.finishRegistration(session.user().id(),
        session.sessionId(), body.requiredString("ceremonyId"), body.requiredObjectJson("credential"),
        body.optionalString("name").orElse(null), clientIps.of(ctx));
    ctx.status(201).json(Map.of("passkey", passkey));
  }

  /** {@code POST /v1/passkeys/login/options} {@code {}} or {@code {"email"}}. */
  void startSignIn(Context ctx) {
    JsonBody body = JsonBody.ofOptional(ctx, mapper);
    ctx.json(options(passkeys.startSignIn(body.optionalString("email").orElse(null))));
  }

  /** {@code POST /v1/passkeys/login/verify} {@code {"ceremonyId", "credential"}} → token response. */
  void finishSignIn(Context ctx) {
    JsonBody body = JsonBody.of(ctx, mapper);
    PasskeyService.SignedIn signedIn = passkeys.finishSignIn(body.requiredString("ceremonyId"),
        body.requiredObjectJson("credential"), clientIps.of(ctx));
    cookies.respond(ctx, signedIn.tokens(), Map.of("webauthn", signedIn.webauthn()));
  }

  /**
   * {@code GET /v1/me/passkeys} (Bearer) → {@code {"passkeys", "webauthn"}}: the list, and the Signal API's arguments
   * (the account page keeps the device's password manager in step with it).
   */
  void list(Context ctx) {
    User user = bearer.require(ctx).user();
    ctx.json(Map.of("passkeys", passkeys.list(user.id()), "webauthn", passkeys.signals(user)));
  }

  /** {@code PATCH /v1/me/passkeys/{id}} (Bearer) {@code {"name"}}. */
  void rename(Context ctx) {
    SessionService.ActiveSession session = bearer.require(ctx);
    JsonBody body = JsonBody.of(ctx, mapper);
    ctx.json(Map.of("passkey", passkeys.rename(session.user().id(), ctx.pathParam("id"), body.requiredString("name"),
        clientIps.of(ctx))));
  }

  /** {@code DELETE /v1/me/passkeys/{id}} (Bearer) → 204. */
  void remove(Context ctx) {
    SessionService.ActiveSession session = bearer.require(ctx);
    passkeys.remove(session.user().id(), ctx.pathParam("id"), clientIps.of(ctx));
    ctx.status(204);
  }

  private static Map<String, Object> options(PasskeyService.Options options) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ceremonyId", options.ceremonyId());
    out.put("publicKey", options.publicKey());
    return out;
  }
}
