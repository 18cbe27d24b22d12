package dev.sesame.http;

import dev.sesame.oauth.ClientMetadata;
import dev.sesame.tokens.AccessTokens;
import dev.sesame.users.User;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** OpenID Connect Discovery 1.0 and the UserInfo endpoint (Core 1.0 §5.3). */
final class OpenIdEndpoints {
  private final RequestAuth auth;
  private final AccessTokens accessTokens;
  private final String issuer;

  OpenIdEndpoints(RequestAuth auth, AccessTokens accessTokens, String issuer) {
    this.auth = auth;
    this.accessTokens = accessTokens;
    this.issuer = issuer;
  }

  /**
   * {@code GET /.well-known/openid-configuration}: what this provider does, and only that (Discovery 1.0 §3). The
   * authorization endpoint is the hosted sign-in page.
   */
  void configuration(Context ctx) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("issuer", issuer);
    m.put("authorization_endpoint", issuer + "/login");
    m.put("token_endpoint", issuer + "/v1/token");
    m.put("userinfo_endpoint", issuer + "/v1/userinfo");
    m.put("jwks_uri", issuer + "/.well-known/jwks.json");
    m.put("introspection_endpoint", issuer + "/v1/introspect");
    m.put("revocation_endpoint", issuer + "/v1/revoke");
    m.put("scopes_supported", ClientMetadata.SCOPES);
    m.put("response_types_supported", List.of("code"));
    m.put("response_modes_supported", List.of("query"));
    m.put("grant_types_supported", List.of("authorization_code", "refresh_token"));
    m.put("subject_types_supported", List.of("public"));
    m.put("id_token_signing_alg_values_supported", List.of("RS256", "ES256"));
    m.put("token_endpoint_auth_methods_supported", List.of("client_secret_basic", "client_secret_post", "none"));
    m.put("code_challenge_methods_supported", List.of("S256"));
    m.put("claims_supported", List.of("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid",
        "at_hash", "email", "email_verified"));
    m.put("authorization_response_iss_parameter_supported", true);
    m.put("access_token_signing_alg_values_supported", accessTokens.algorithms());
    ctx.header("Cache-Control", "public, max-age=300");
    ctx.json(m);
  }

  /**
   * {@code GET|POST /v1/userinfo} with {@code Authorization: Bearer}: {@code sub}, and {@code email} and
   * {@code email_verified} when the token's scope includes {@code email} (a first-party token, which has no scope,
   * always does). A bad or ended token is 401 with {@code WWW-Authenticate: Bearer error="invalid_token"}.
   */
  void userinfo(Context ctx) {
    RequestAuth.Bearer bearer = auth.requireBearer(ctx);
    User user = bearer.session().user();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("sub", user.id().toString());
    if (bearer.scope() == null || List.of(bearer.scope().split(" ")).contains("email")) {
      out.put("email", user.email());
      out.put("email_verified", user.emailVerified());
    }
    ctx.header("Cache-Control", "no-store");
    ctx.json(out);
  }
}
