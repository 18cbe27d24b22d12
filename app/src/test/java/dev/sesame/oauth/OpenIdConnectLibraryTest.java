package dev.sesame.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jwt.JWT;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.AuthorizationResponse;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenErrorResponse;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.token.BearerAccessToken;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.AuthenticationSuccessResponse;
import com.nimbusds.openid.connect.sdk.LogoutRequest;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.UserInfoErrorResponse;
import com.nimbusds.openid.connect.sdk.UserInfoRequest;
import com.nimbusds.openid.connect.sdk.UserInfoResponse;
import com.nimbusds.openid.connect.sdk.UserInfoSuccessResponse;
import com.nimbusds.openid.connect.sdk.claims.AccessTokenHash;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.SesameServer;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real OpenID Connect client library (nimbus oauth2-oidc-sdk) on the other side: it reads the discovery document,
 * builds the authentication request, parses the redirect, exchanges the code with client_secret_basic, validates the
 * ID token (signature by JWKS, issuer, audience, nonce, at_hash) and reads UserInfo — and it parses Sesame's errors.
 * The sign-in itself is the hosted page's call ({@code POST /v1/authorize}) made with a signed-in person's token;
 * the OIDC authorization endpoint (GET, prompt, max_age…) is not built yet.
 */
class OpenIdConnectLibraryTest {
  static final URI CALLBACK = URI.create("https://notes.example/oidc/callback");
  static final URI SIGNED_OUT = URI.create("https://notes.example/signed-out");

  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();
  static String secret;
  static OIDCProviderMetadata provider;

  @BeforeAll
  static void registerAndDiscover() throws Exception {
    secret = new Clients(sesame.jdbi(), "default").create(Map.of("client_id", "notes", "client_name", "Notes",
        "redirect_uris", List.of(CALLBACK.toString()), "grant_types", List.of("authorization_code", "refresh_token"),
        "scope", "openid email offline_access", "post_logout_redirect_uris", List.of(SIGNED_OUT.toString())),
        Client.Source.MANAGED).secret().orElseThrow();
    provider = OIDCProviderMetadata.resolve(new Issuer(sesame.url()));
  }

  /** Signs a person in and follows the library's authentication request to the redirect with the code. */
  static AuthorizationResponse signIn(AuthenticationRequest request, String email) throws Exception {
    JsonNode signedIn = DevMailbox.signIn(sesame.http(), email);
    Map<String, List<String>> params = request.toParameters();
    Map<String, Object> body = new java.util.HashMap<>();
    body.put("clientId", params.get("client_id").get(0));
    body.put("redirectTo", params.get("redirect_uri").get(0));
    body.put("state", params.get("state").get(0));
    body.put("codeChallenge", params.get("code_challenge").get(0));
    body.put("codeChallengeMethod", params.get("code_challenge_method").get(0));
    body.put("scope", params.get("scope").get(0));
    body.put("nonce", params.get("nonce").get(0));
    // The hosted login page accepts the library's request URL as it is.
    assertEquals(200, sesame.http().get("/login?" + request.toURI().getRawQuery()).status());
    dev.sesame.support.Http.Response authorized = sesame.http().post("/v1/authorize", body,
        "Authorization", "Bearer " + signedIn.get("access_token").asText());
    assertEquals(200, authorized.status(), authorized.body());
    return AuthorizationResponse.parse(URI.create(authorized.json().get("redirect").asText()));
  }

  static AuthenticationRequest request(State state, Nonce nonce, CodeVerifier verifier) {
    return new AuthenticationRequest.Builder(new ResponseType(ResponseType.Value.CODE),
        new Scope("openid", "email", "offline_access"), new ClientID("notes"), CALLBACK)
        .endpointURI(provider.getAuthorizationEndpointURI()).state(state).nonce(nonce)
        .codeChallenge(verifier, CodeChallengeMethod.S256).build();
  }

  @Test
  void discovery_names_what_the_provider_does() {
    assertEquals(sesame.url(), provider.getIssuer().getValue());
    assertEquals(URI.create(sesame.url() + "/v1/token"), provider.getTokenEndpointURI());
    assertEquals(URI.create(sesame.url() + "/v1/userinfo"), provider.getUserInfoEndpointURI());
    assertTrue(provider.getIDTokenJWSAlgs().contains(JWSAlgorithm.RS256), "Discovery 1.0 §3 requires RS256");
    assertTrue(provider.getCodeChallengeMethods().contains(CodeChallengeMethod.S256));
    assertFalse(provider.getCodeChallengeMethods().contains(CodeChallengeMethod.PLAIN));
    assertTrue(provider.supportsAuthorizationResponseIssuerParam());
    assertEquals(URI.create(sesame.url() + "/logout"), provider.getEndSessionEndpointURI());
    assertEquals(sesame.http().get("/.well-known/openid-configuration").body(),
        sesame.http().get("/.well-known/oauth-authorization-server").body(), "RFC 8414 serves the same values");
  }

  /** Signs in through the library and returns the tokens of the client's new session. */
  static OIDCTokenResponse tokensFor(String email, Nonce nonce) throws Exception {
    CodeVerifier verifier = new CodeVerifier();
    AuthorizationResponse response = signIn(request(new State(), nonce, verifier), email);
    TokenResponse tokenResponse = OIDCTokenResponseParser.parse(new TokenRequest(provider.getTokenEndpointURI(),
        new ClientSecretBasic(new ClientID("notes"), new Secret(secret)),
        new AuthorizationCodeGrant(response.toSuccessResponse().getAuthorizationCode(), CALLBACK, verifier))
        .toHTTPRequest().send());
    return (OIDCTokenResponse) tokenResponse.toSuccessResponse();
  }

  /** Signs in on Sesame's own origin in cookie mode, as the hosted pages do; returns the access-token cookie. */
  static String browserSession(String email) {
    return browserSessionOn(sesame, email);
  }

  static String browserSessionOn(SesameServer sesame, String email) {
    dev.sesame.support.Http.Response started = sesame.http().post("/v1/email/start", Map.of("email", email));
    dev.sesame.support.Http.Response verified = sesame.http().post("/v1/email/verify", Map.of("flowId",
        started.json().get("flowId").asText(), "code", DevMailbox.latestCode(sesame.http(), email)),
        "Origin", sesame.url(), "X-Sesame-Session", "cookie");
    assertEquals(200, verified.status(), verified.body());
    return verified.headers().get("set-cookie").stream().filter(c -> c.startsWith("sesame_at="))
        .findFirst().orElseThrow().split(";")[0];
  }

  @Test
  void rp_initiated_logout_ends_the_session_and_returns_to_the_registered_uri() throws Exception {
    OIDCTokenResponse tokens = tokensFor("logout-" + java.util.UUID.randomUUID().toString().substring(0, 8)
        + "@example.com", new Nonce());
    JWT idToken = tokens.getOIDCTokens().getIDToken();
    // Refused without a redirect: an unregistered return address, a hint for another client, no or a forged hint.
    String forged = idToken.serialize().substring(0, idToken.serialize().length() - 4) + "AAAA";
    for (URI bad : List.of(
        new LogoutRequest(provider.getEndSessionEndpointURI(), idToken, URI.create("https://evil.example/out"),
            new State()).toURI(),
        new LogoutRequest(provider.getEndSessionEndpointURI(), idToken, null, new ClientID("other"), SIGNED_OUT,
            new State(), null).toURI(),
        new LogoutRequest(provider.getEndSessionEndpointURI(), null, SIGNED_OUT, new State()).toURI(),
        URI.create(provider.getEndSessionEndpointURI() + "?id_token_hint=" + forged))) {
      dev.sesame.support.Http.Response r = sesame.http().get(bad.toString().substring(sesame.url().length()));
      assertEquals(400, r.status(), bad.toString());
      assertNull(r.header("Location"), "never a redirect: " + bad);
    }
    assertTrue(UserInfoResponse.parse(new UserInfoRequest(provider.getUserInfoEndpointURI(),
        (BearerAccessToken) tokens.getOIDCTokens().getAccessToken()).toHTTPRequest().send()).indicatesSuccess(),
        "the refused requests ended nothing");

    // A browser whose Sesame session is another sign-in (another person here) is not signed out on the app's word:
    // the person is asked on Sesame's page (logout CSRF); the app's own session ends all the same.
    String cookie = browserSession("browser-" + java.util.UUID.randomUUID().toString().substring(0, 8)
        + "@example.com");
    assertEquals(200, sesame.http().get("/v1/me", "Cookie", cookie).status());

    State state = new State();
    URI logout = new LogoutRequest(provider.getEndSessionEndpointURI(), idToken, SIGNED_OUT, state).toURI();
    dev.sesame.support.Http.Response asked = sesame.http().get(logout.toString().substring(sesame.url().length()),
        "Cookie", cookie);
    assertEquals(200, asked.status(), asked.body());
    assertTrue(asked.body().contains("name=\"confirm\""), asked.body());
    assertEquals(200, sesame.http().get("/v1/me", "Cookie", cookie).status(), "the browser's session goes on");
    // Without a Sesame session in the browser, the app's live hint returns to the registered address.
    OIDCTokenResponse second = tokensFor("logout-" + java.util.UUID.randomUUID().toString().substring(0, 8)
        + "@example.com", new Nonce());
    dev.sesame.support.Http.Response out = sesame.http().get(new LogoutRequest(provider.getEndSessionEndpointURI(),
        second.getOIDCTokens().getIDToken(), SIGNED_OUT, state).toURI().toString().substring(sesame.url().length()));
    assertEquals(302, out.status(), out.body());
    assertEquals(SIGNED_OUT + "?state=" + state.getValue(), out.header("Location"));
    UserInfoResponse after = UserInfoResponse.parse(new UserInfoRequest(provider.getUserInfoEndpointURI(),
        (BearerAccessToken) tokens.getOIDCTokens().getAccessToken()).toHTTPRequest().send());
    assertEquals("invalid_token", ((UserInfoErrorResponse) after).getErrorObject().getCode(), "the session ended");
    TokenResponse refresh = OIDCTokenResponseParser.parse(new TokenRequest(provider.getTokenEndpointURI(),
        new ClientSecretBasic(new ClientID("notes"), new Secret(secret)),
        new com.nimbusds.oauth2.sdk.RefreshTokenGrant(tokens.getOIDCTokens().getRefreshToken()))
        .toHTTPRequest().send());
    assertEquals("invalid_grant", ((TokenErrorResponse) refresh).getErrorObject().getCode());
  }

  @Test
  void a_person_signs_in_and_the_library_validates_the_id_token_and_reads_userinfo() throws Exception {
    State state = new State();
    Nonce nonce = new Nonce();
    CodeVerifier verifier = new CodeVerifier();
    String email = "oidc-" + java.util.UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    AuthorizationResponse response = signIn(request(state, nonce, verifier), email);
    assertTrue(response.indicatesSuccess());
    AuthenticationSuccessResponse success = (AuthenticationSuccessResponse) AuthenticationSuccessResponse.parse(
        response.toURI());
    assertEquals(state, success.getState());
    assertEquals(provider.getIssuer(), success.getIssuer(), "RFC 9207 iss in the redirect");

    TokenRequest tokenRequest = new TokenRequest(provider.getTokenEndpointURI(),
        new ClientSecretBasic(new ClientID("notes"), new Secret(secret)),
        new AuthorizationCodeGrant(success.getAuthorizationCode(), CALLBACK, verifier));
    TokenResponse tokenResponse = OIDCTokenResponseParser.parse(tokenRequest.toHTTPRequest().send());
    assertTrue(tokenResponse.indicatesSuccess(), () -> tokenResponse.toErrorResponse().getErrorObject().toString());
    OIDCTokenResponse tokens = (OIDCTokenResponse) tokenResponse.toSuccessResponse();
    JWT idToken = tokens.getOIDCTokens().getIDToken();
    assertNotNull(tokens.getOIDCTokens().getRefreshToken(), "the client registered the refresh_token grant");
    assertEquals(new Scope("openid", "email", "offline_access"), tokens.getOIDCTokens().getAccessToken().getScope());

    IDTokenValidator validator = new IDTokenValidator(provider.getIssuer(), new ClientID("notes"),
        JWSAlgorithm.RS256, provider.getJWKSetURI().toURL());
    IDTokenClaimsSet claims = validator.validate(idToken, nonce);
    assertEquals(email, claims.getStringClaim("email"));
    assertEquals(Boolean.TRUE, claims.getBooleanClaim("email_verified"));
    assertNotNull(claims.getAuthenticationTime());
    assertEquals(List.of("otp"), claims.getStringListClaim("amr"));
    assertNotNull(claims.getStringClaim("sid"));
    assertEquals(AccessTokenHash.compute(tokens.getOIDCTokens().getAccessToken(), JWSAlgorithm.RS256, null),
        claims.getAccessTokenHash(), "at_hash binds the access token to the ID token");
    // Another nonce (a replayed or injected response) is refused by the library.
    assertThrows(BadJOSEException.class, () -> validator.validate(idToken, new Nonce()));
    assertThrows(BadJOSEException.class, () -> new IDTokenValidator(provider.getIssuer(), new ClientID("other"),
        JWSAlgorithm.RS256, provider.getJWKSetURI().toURL()).validate(idToken, nonce));

    UserInfoResponse userInfo = UserInfoResponse.parse(new UserInfoRequest(provider.getUserInfoEndpointURI(),
        (BearerAccessToken) tokens.getOIDCTokens().getAccessToken()).toHTTPRequest().send());
    assertTrue(userInfo.indicatesSuccess());
    UserInfoSuccessResponse info = (UserInfoSuccessResponse) userInfo;
    assertEquals(claims.getSubject(), info.getUserInfo().getSubject(), "the same sub in both (Core §5.3.2)");
    assertEquals(email, info.getUserInfo().getEmailAddress());
  }

  @Test
  void public_metadata_reaches_a_client_that_asks_for_the_metadata_scope_and_no_other() throws Exception {
    String crmSecret = new Clients(sesame.jdbi(), "default").create(Map.of("client_id", "crm",
        "redirect_uris", List.of(CALLBACK.toString()), "scope", "openid email metadata"), Client.Source.MANAGED)
        .secret().orElseThrow();
    String key = dev.sesame.support.TestServer.cli(sesame.server(), "service-key", "create", "meta",
        "--scopes", "users:read,users:write").stdout().strip();
    String email = "meta-" + java.util.UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    dev.sesame.support.Http.Response created = sesame.http().post("/admin/v1/users", Map.of("email", email),
        "Authorization", "Bearer " + key);
    assertEquals(201, created.status(), created.body());
    String id = created.json().get("id").asText();
    dev.sesame.support.Http.Response patched = sesame.http().send("PATCH", "/admin/v1/users/" + id,
        dev.sesame.support.Http.toJson(Map.of("publicMetadata", Map.of("plan", "pro", "seats", 5),
            "privateMetadata", Map.of("stripeCustomer", "cus_123"))),
        "Authorization", "Bearer " + key, "Content-Type", "application/json");
    assertEquals(200, patched.status(), patched.body());

    Nonce nonce = new Nonce();
    CodeVerifier verifier = new CodeVerifier();
    AuthenticationRequest asked = new AuthenticationRequest.Builder(new ResponseType(ResponseType.Value.CODE),
        new Scope("openid", "metadata"), new ClientID("crm"), CALLBACK)
        .endpointURI(provider.getAuthorizationEndpointURI()).state(new State()).nonce(nonce)
        .codeChallenge(verifier, CodeChallengeMethod.S256).build();
    AuthorizationResponse response = signIn(asked, email);
    OIDCTokenResponse tokens = (OIDCTokenResponse) OIDCTokenResponseParser.parse(new TokenRequest(
        provider.getTokenEndpointURI(), new ClientSecretBasic(new ClientID("crm"), new Secret(crmSecret)),
        new AuthorizationCodeGrant(response.toSuccessResponse().getAuthorizationCode(), CALLBACK, verifier))
        .toHTTPRequest().send()).toSuccessResponse();
    IDTokenClaimsSet claims = new IDTokenValidator(provider.getIssuer(), new ClientID("crm"), JWSAlgorithm.RS256,
        provider.getJWKSetURI().toURL()).validate(tokens.getOIDCTokens().getIDToken(), nonce);
    assertEquals(Map.of("plan", "pro", "seats", 5L), claims.getJSONObjectClaim("metadata"));
    assertNull(claims.getClaim("email"), "email was not asked for");
    UserInfoSuccessResponse info = (UserInfoSuccessResponse) UserInfoResponse.parse(new UserInfoRequest(
        provider.getUserInfoEndpointURI(), (BearerAccessToken) tokens.getOIDCTokens().getAccessToken())
        .toHTTPRequest().send());
    assertEquals(Map.of("plan", "pro", "seats", 5L), info.getUserInfo().getJSONObjectClaim("metadata"));
    assertFalse(info.getUserInfo().toJSONObject().toString().contains("cus_123"), "private metadata never reaches an app");

    // "notes" may not ask for it: the library gets invalid_scope (RFC 6749 §4.1.2.1), not a token with it.
    AuthenticationRequest notes = new AuthenticationRequest.Builder(new ResponseType(ResponseType.Value.CODE),
        new Scope("openid", "email", "metadata"), new ClientID("notes"), CALLBACK)
        .endpointURI(provider.getAuthorizationEndpointURI()).state(new State()).nonce(new Nonce())
        .codeChallenge(new CodeVerifier(), CodeChallengeMethod.S256).build();
    dev.sesame.support.Http.Response refused = sesame.http().get("/login?" + notes.toURI().getRawQuery());
    assertEquals(302, refused.status());
    AuthorizationResponse error = AuthorizationResponse.parse(URI.create(refused.header("Location")));
    assertEquals("invalid_scope", error.toErrorResponse().getErrorObject().getCode());
  }

  @Test
  void the_library_reads_sesames_errors() throws Exception {
    State state = new State();
    CodeVerifier verifier = new CodeVerifier();
    AuthorizationResponse response = signIn(request(state, new Nonce(), verifier), "err-"
        + java.util.UUID.randomUUID().toString().substring(0, 8) + "@example.com");
    AuthorizationCode code = response.toSuccessResponse().getAuthorizationCode();
    TokenResponse wrongSecret = OIDCTokenResponseParser.parse(new TokenRequest(provider.getTokenEndpointURI(),
        new ClientSecretBasic(new ClientID("notes"), new Secret("not-the-secret-at-all-not-at-all-no")),
        new AuthorizationCodeGrant(code, CALLBACK, verifier)).toHTTPRequest().send());
    assertInstanceOf(TokenErrorResponse.class, wrongSecret);
    assertEquals("invalid_client", ((TokenErrorResponse) wrongSecret).getErrorObject().getCode());
    assertEquals(401, ((TokenErrorResponse) wrongSecret).getErrorObject().getHTTPStatusCode());
    TokenResponse wrongVerifier = OIDCTokenResponseParser.parse(new TokenRequest(provider.getTokenEndpointURI(),
        new ClientSecretBasic(new ClientID("notes"), new Secret(secret)),
        new AuthorizationCodeGrant(code, CALLBACK, new CodeVerifier())).toHTTPRequest().send());
    assertEquals("invalid_grant", ((TokenErrorResponse) wrongVerifier).getErrorObject().getCode());

    UserInfoResponse bad = UserInfoResponse.parse(new UserInfoRequest(provider.getUserInfoEndpointURI(),
        new BearerAccessToken("not-a-token")).toHTTPRequest().send());
    assertInstanceOf(UserInfoErrorResponse.class, bad);
    assertEquals("invalid_token", ((UserInfoErrorResponse) bad).getErrorObject().getCode());
  }

  @Test
  void without_the_openid_scope_there_is_no_id_token_and_scopes_are_checked() throws Exception {
    JsonNode signedIn = DevMailbox.signIn(sesame.http(), "noscope-"
        + java.util.UUID.randomUUID().toString().substring(0, 8) + "@example.com");
    String bearer = "Bearer " + signedIn.get("access_token").asText();
    dev.sesame.support.Http.Response refused = sesame.http().post("/v1/authorize", Map.of("clientId", "notes",
        "redirectTo", CALLBACK.toString(), "scope", "openid profile"), "Authorization", bearer);
    dev.sesame.support.Problems.assertProblem(refused, 400, "invalid_scope"); // notes did not register profile
    dev.sesame.support.Http.Response authorized = sesame.http().post("/v1/authorize", Map.of("clientId", "notes",
        "redirectTo", CALLBACK.toString(), "scope", "email"), "Authorization", bearer);
    AuthorizationCode code = AuthorizationResponse.parse(URI.create(authorized.json().get("redirect").asText()))
        .toSuccessResponse().getAuthorizationCode();
    TokenResponse plain = OIDCTokenResponseParser.parse(new TokenRequest(provider.getTokenEndpointURI(),
        new ClientSecretBasic(new ClientID("notes"), new Secret(secret)),
        new AuthorizationCodeGrant(code, CALLBACK)).toHTTPRequest().send());
    assertTrue(plain.indicatesSuccess());
    assertNull(plain.toSuccessResponse().toJSONObject().get("id_token"), "no openid, no ID token");
    assertEquals("email", plain.toSuccessResponse().toJSONObject().get("scope"));
  }
}
