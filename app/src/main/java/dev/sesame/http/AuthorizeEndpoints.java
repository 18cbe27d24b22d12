package dev.sesame.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.authorize.AuthorizationCodes;
import dev.sesame.common.ApiException;
import dev.sesame.oauth.Client;
import dev.sesame.oauth.Clients;
import dev.sesame.sessions.TokenResponse;
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
  private final Clients clients;

  AuthorizeEndpoints(AuthorizationCodes codes, SessionService sessions, RequestAuth auth, SessionCookies cookies,
                     ClientIps clientIps, ObjectMapper mapper, Introspection introspection, ServiceKeys serviceKeys,
                     Clients clients) {
    this.clients = clients;
    this.introspection = introspection;
    this.serviceKeys = serviceKeys;
    this.codes = codes;
    this.sessions = sessions;
    this.auth = auth;
    this.cookies = cookies;
    this.clientIps = clientIps;
    this.mapper = mapper;
  }

  /**
   * {@code {"clientId"?, "redirectTo", "state"?, "codeChallenge"?, "codeChallengeMethod"?}} → {@code {"redirect"}}.
   */
  void authorize(Context ctx) {
    SessionService.ActiveSession session = auth.require(ctx);
    JsonBody body = JsonBody.of(ctx, mapper);
    String redirect = codes.authorize(session.sessionId(), body.optionalString("clientId").orElse(null),
        body.requiredString("redirectTo"),
        body.optionalString("state").orElse(null), body.optionalString("codeChallenge").orElse(null),
        body.optionalString("codeChallengeMethod").orElse(null), body.optionalString("scope").orElse(null),
        body.optionalString("nonce").orElse(null));
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
    Optional<Client> presenter = identifyClient(ctx, param);
    // A registered client gets refresh tokens only if it registered the refresh_token grant.
    boolean mayRefresh = presenter.map(c -> c.grantTypes().contains("refresh_token")).orElse(true);
    switch (grantType) {
      case "authorization_code" -> {
        TokenResponse tokens = codes.exchange(required(param, "code"), param.apply("code_verifier").orElse(null),
            param.apply("redirect_uri").orElse(null), presenter, clientIps.of(ctx));
        cookies.respond(ctx, mayRefresh ? tokens : tokens.withoutRefreshToken());
      }
      case "refresh_token" -> {
        if (!mayRefresh) {
          throw ApiException.badRequest("unauthorized_client", "This client may not use the refresh_token grant.");
        }
        cookies.respond(ctx, sessions.refresh(required(param, "refresh_token"),
            presenter.map(Client::clientId).orElse(null), clientIps.of(ctx)));
      }
      default -> throw ApiException.badRequest("unsupported_grant_type",
          "grant_type must be authorization_code or refresh_token.");
    }
  }

  /**
   * The calling client (RFC 6749 §2.3): HTTP Basic ({@code client_secret_basic}, id and secret form-encoded first,
   * §2.3.1), or {@code client_id} and {@code client_secret} in the body ({@code client_secret_post}), or
   * {@code client_id} alone ({@code none}); nothing at all is the first-party client. Using two methods at once is
   * refused (§2.3). A failure is 401 {@code invalid_client} with {@code WWW-Authenticate}.
   */
  private Optional<Client> identifyClient(Context ctx, Function<String, Optional<String>> param) {
    Optional<String> id = param.apply("client_id");
    Optional<String> secret = param.apply("client_secret");
    String authorization = ctx.header("Authorization");
    try {
      if (authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
        if (secret.isPresent()) {
          throw new Clients.InvalidClient("Use one client authentication method, not two.");
        }
        String[] pair = basicCredentials(authorization.substring(6).strip());
        if (id.isPresent() && !id.get().equals(pair[0])) {
          throw new Clients.InvalidClient("client_id does not match the Authorization header.");
        }
        return clients.identify(Optional.of(pair[0]), Optional.of(pair[1]), Client.AuthMethod.CLIENT_SECRET_BASIC);
      }
      return clients.identify(id, secret, secret.isPresent() ? Client.AuthMethod.CLIENT_SECRET_POST
          : Client.AuthMethod.NONE);
    } catch (Clients.InvalidClient e) {
      throw new ApiException(401, "invalid_client", e.getMessage(),
          Map.of("WWW-Authenticate", "Basic realm=\"sesame\""));
    }
  }

  /** {@code BASE64(urlencode(id) ":" urlencode(secret))}, RFC 6749 §2.3.1. */
  private static String[] basicCredentials(String encoded) {
    try {
      String decoded = new String(java.util.Base64.getDecoder().decode(encoded), java.nio.charset.StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      if (colon <= 0) {
        throw new Clients.InvalidClient("Malformed Basic credentials.");
      }
      return new String[] {
          java.net.URLDecoder.decode(decoded.substring(0, colon), java.nio.charset.StandardCharsets.UTF_8),
          java.net.URLDecoder.decode(decoded.substring(colon + 1), java.nio.charset.StandardCharsets.UTF_8)};
    } catch (IllegalArgumentException e) {
      throw new Clients.InvalidClient("Malformed Basic credentials.");
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
