package dev.sesame.oauth;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.common.ApiException;
import dev.sesame.http.ClientIps;
import dev.sesame.http.Feature;
import dev.sesame.http.JsonBody;
import dev.sesame.http.RequestAuth;
import dev.sesame.http.SessionCookies;
import dev.sesame.http.Web;
import dev.sesame.sessions.SessionService;
import dev.sesame.sessions.TokenResponse;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The token endpoint (RFC 6749 §3.2) — the one place that issues tokens for a grant — and the endpoints that
 * authenticate clients the same way: introspection (RFC 7662), revocation (RFC 7009) and dynamic registration
 * (RFC 7591, when on). Also {@code /v1/sessions/refresh}, the first-party client's form of the refresh grant.
 */
public final class TokenEndpoint implements Feature {
  private final AuthorizationCodes codes;
  private final SessionService sessions;
  private final Introspection introspection;
  private final ServiceKeys serviceKeys;
  private final Clients clients;
  private final Optional<DynamicRegistration> registration;
  private final RequestAuth auth;
  private final SessionCookies cookies;
  private final ClientIps clientIps;
  private final ObjectMapper mapper;
  private final Web web;

  public TokenEndpoint(AuthorizationCodes codes, SessionService sessions, Introspection introspection,
                       ServiceKeys serviceKeys, Clients clients, Optional<DynamicRegistration> registration, Web web) {
    this.codes = codes;
    this.sessions = sessions;
    this.introspection = introspection;
    this.serviceKeys = serviceKeys;
    this.clients = clients;
    this.registration = registration;
    this.auth = web.auth();
    this.cookies = web.cookies();
    this.clientIps = web.clientIps();
    this.mapper = web.mapper();
    this.web = web;
  }

  @Override
  public void routes(RoutesConfig routes) {
    routes.post("/v1/token", web.retry().once(this::token));
    routes.post("/v1/sessions/refresh", web.retry().once(this::sessionsRefresh));
    routes.post("/v1/introspect", web.retry().once(this::introspect));
    routes.post("/v1/revoke", web.retry().once(this::revoke));
    if (registration.isPresent()) {
      routes.post("/v1/register", web.retry().once(this::register));
    }
  }

  /**
   * The OAuth token endpoint (RFC 6749 §3.2), form-encoded or JSON: {@code authorization_code} with
   * {@code code}, {@code code_verifier} and optionally {@code redirect_uri}; or {@code refresh_token}.
   */
  public void token(Context ctx) {
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
      case "refresh_token" -> refreshGrant(ctx, presenter, required(param, "refresh_token"));
      default -> throw ApiException.badRequest("unsupported_grant_type",
          "grant_type must be authorization_code or refresh_token.");
    }
  }

  /**
   * {@code POST /v1/sessions/refresh}: the refresh_token grant of the first-party client in Sesame's own shape —
   * {@code {"refresh_token"}}, or no body at all on Sesame's pages, whose refresh token is the session cookie
   * (CSRF-checked) — with problem+json errors. The same grant as the token endpoint's, in {@link #refreshGrant}.
   */
  public void sessionsRefresh(Context ctx) {
    JsonBody body = JsonBody.ofOptional(ctx, mapper);
    String refreshToken = body.optionalString("refresh_token").orElseGet(() -> {
      String fromCookie = cookies.refreshToken(ctx).orElseThrow(() ->
          ApiException.badRequest("invalid_request", "The field 'refresh_token' is required."));
      auth.requireCsrfProof(ctx);
      return fromCookie;
    });
    refreshGrant(ctx, Optional.empty(), refreshToken);
  }

  /**
   * The refresh_token grant (RFC 6749 §6), the one implementation behind both routes: rotation and reuse detection
   * in {@link SessionService#refresh}, the token bound to the client it was issued to ({@code presenter} empty: the
   * first-party client), and only for a client that registered the grant.
   */
  private void refreshGrant(Context ctx, Optional<Client> presenter, String refreshToken) {
    if (presenter.isPresent() && !presenter.get().grantTypes().contains("refresh_token")) {
      throw ApiException.badRequest("unauthorized_client", "This client may not use the refresh_token grant.");
    }
    cookies.respond(ctx, sessions.refresh(refreshToken, presenter.map(Client::clientId).orElse(null),
        clientIps.of(ctx)));
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
      throw invalidClient(e.getMessage());
    }
  }

  private static ApiException invalidClient(String detail) {
    return new ApiException(401, "invalid_client", detail, Map.of("WWW-Authenticate", "Basic realm=\"sesame\""));
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

  /**
   * {@code POST /v1/introspect} (RFC 7662). The caller authenticates as a confidential client (as it does at the
   * token endpoint), and then learns only about its own tokens (§4: anything else is {@code active: false}); or with
   * a Sesame service key ({@code Authorization: Bearer sk_…}), a backend that may ask about any token.
   */
  public void introspect(Context ctx) {
    Function<String, Optional<String>> param = params(ctx);
    String authorization = ctx.header("Authorization");
    String onlyFor = null;
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      serviceKeys.authenticate(authorization);
    } else {
      Client client = identifyClient(ctx, param).filter(c -> !c.isPublic()).orElseThrow(() -> invalidClient(
          "Authenticate as a confidential client, or with a service key."));
      onlyFor = client.clientId();
    }
    Map<String, Object> answer = introspection.introspect(required(param, "token"),
        param.apply("token_type_hint").orElse(null));
    if (onlyFor != null && !onlyFor.equals(answer.get("client_id"))) {
      answer = Map.of("active", false);
    }
    ctx.json(answer);
  }

  /**
   * {@code POST /v1/revoke} (RFC 7009): ends the session of a refresh (or access) token issued to the calling client
   * (authenticated as at the token endpoint; no authentication at all is the first-party client). A token of
   * another client, unknown or already invalid changes nothing and gets the same 200 (§2.2).
   */
  public void revoke(Context ctx) {
    Function<String, Optional<String>> param = params(ctx);
    Optional<Client> presenter = identifyClient(ctx, param);
    introspection.revoke(required(param, "token"), presenter.map(Client::clientId).orElse(null), clientIps.of(ctx));
    ctx.status(200).json(Map.of());
  }

  /** {@code POST /v1/register} (RFC 7591 §3): JSON client metadata → 201 with the registered client's. */
  public void register(Context ctx) {
    Map<String, Object> metadata;
    try {
      metadata = mapper.readValue(ctx.bodyAsBytes(), new com.fasterxml.jackson.core.type.TypeReference<>() {});
    } catch (java.io.IOException e) {
      metadata = null;
    }
    if (metadata == null) {
      throw ApiException.badRequest("invalid_client_metadata", "Send the client's metadata as a JSON object.");
    }
    ctx.status(201).json(registration.orElseThrow().register(metadata, clientIps.of(ctx)));
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
