package dev.sesame.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.authorize.AuthorizationCodes;
import dev.sesame.common.ApiException;
import dev.sesame.servicekeys.ServiceKeys;
import dev.sesame.sessions.Introspection;
import dev.sesame.sessions.SessionService;
import io.javalin.http.Context;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The OAuth-shaped endpoints: {@code /v1/authorize} (hosted pages → app redirect with a code), {@code /v1/token},
 * {@code /v1/introspect} and {@code /v1/revoke}.
 */
final class AuthorizeEndpoints {
  private final AuthorizationCodes codes;
  private final SessionService sessions;
  private final RequestAuth auth;
  private final SessionCookies cookies;
  private final ClientIps clientIps;
  private final ObjectMapper mapper;
  private final Introspection introspection;
  private final ServiceKeys serviceKeys;

  AuthorizeEndpoints(AuthorizationCodes codes, SessionService sessions, RequestAuth auth, SessionCookies cookies,
                     ClientIps clientIps, ObjectMapper mapper, Introspection introspection, ServiceKeys serviceKeys) {
    this.introspection = introspection;
    this.serviceKeys = serviceKeys;
    this.codes = codes;
    this.sessions = sessions;
    this.auth = auth;
    this.cookies = cookies;
    this.clientIps = clientIps;
    this.mapper = mapper;
  }

  /** {@code {"redirectTo", "state"?, "codeChallenge"?, "codeChallengeMethod"?}} → {@code {"redirect"}}. */
  void authorize(Context ctx) {
    SessionService.ActiveSession session = auth.require(ctx);
    JsonBody body = JsonBody.of(ctx, mapper);
    String redirect = codes.authorize(session.sessionId(), body.requiredString("redirectTo"),
        body.optionalString("state").orElse(null), body.optionalString("codeChallenge").orElse(null),
        body.optionalString("codeChallengeMethod").orElse(null));
    ctx.json(Map.of("redirect", redirect));
  }

  /**
   * The OAuth token endpoint (RFC 6749 §3.2), form-encoded or JSON: {@code authorization_code} with
   * {@code code}, {@code code_verifier} and optionally {@code redirect_uri}; or {@code refresh_token}.
   */
  void token(Context ctx) {
    Function<String, Optional<String>> param = params(ctx);
    String grantType = param.apply("grant_type").orElseThrow(() ->
        ApiException.badRequest("invalid_request", "grant_type is required."));
    switch (grantType) {
      case "authorization_code" -> cookies.respond(ctx, codes.exchange(required(param, "code"),
          param.apply("code_verifier").orElse(null), param.apply("redirect_uri").orElse(null), clientIps.of(ctx)));
      case "refresh_token" -> cookies.respond(ctx, sessions.refresh(required(param, "refresh_token"),
          clientIps.of(ctx)));
      default -> throw ApiException.badRequest("unsupported_grant_type",
          "grant_type must be authorization_code or refresh_token.");
    }
  }

  /** {@code POST /v1/introspect} (RFC 7662), for backends holding a service key. */
  void introspect(Context ctx) {
    serviceKeys.authenticate(ctx.header("Authorization"));
    Function<String, Optional<String>> param = params(ctx);
    ctx.json(introspection.introspect(required(param, "token"), param.apply("token_type_hint").orElse(null)));
  }

  /** {@code POST /v1/revoke} (RFC 7009): ends the session of a refresh (or access) token; always 200. */
  void revoke(Context ctx) {
    Function<String, Optional<String>> param = params(ctx);
    introspection.revoke(required(param, "token"), clientIps.of(ctx));
    ctx.status(200).json(Map.of());
  }

  private Function<String, Optional<String>> params(Context ctx) {
    String contentType = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
    if (contentType.startsWith("application/x-www-form-urlencoded")) {
      ctx.bodyAsBytes(); // enforces the size limit before the form is parsed
      return name -> Optional.ofNullable(ctx.formParam(name)).filter(v -> !v.isEmpty());
    }
    JsonBody body = JsonBody.of(ctx, mapper);
    return body::optionalString;
  }

  private static String required(Function<String, Optional<String>> param, String name) {
    return param.apply(name).orElseThrow(() -> ApiException.badRequest("invalid_request", name + " is required."));
  }
}
