package dev.sesame.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.openid.connect.sdk.AuthenticationErrorResponse;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.AuthenticationResponse;
import com.nimbusds.openid.connect.sdk.AuthenticationResponseParser;
import com.nimbusds.openid.connect.sdk.AuthenticationSuccessResponse;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.Prompt;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The OpenID Connect authorization endpoint ({@code /authorize}, Core §3.1.2) with requests built and answers parsed
 * by a real client library (nimbus oauth2-oidc-sdk): which refusals are a page and which go back to the client,
 * single sign-on from the hosted pages' session, {@code prompt}, {@code max_age} and {@code login_hint}.
 */
class AuthorizationEndpointTest {
  static final URI CALLBACK = URI.create("https://notes.example/cb");
  static final URI SPA_CALLBACK = URI.create("http://127.0.0.1:9100/cb");
  static final Pattern SEALED = Pattern.compile("request=\"(ar1\\.[A-Za-z0-9_-]+)\"");

  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();
  static OIDCProviderMetadata provider;
  static String secret;

  @BeforeAll
  static void registerAndDiscover() throws Exception {
    Clients clients = new Clients(sesame.jdbi(), "default");
    secret = clients.create(Map.of("client_id", "notes", "client_name", "Notes", "redirect_uris",
        List.of(CALLBACK.toString()), "scope", "openid email offline_access"), Client.Source.MANAGED)
        .secret().orElseThrow();
    clients.create(Map.of("client_id", "spa", "client_name", "Single page", "redirect_uris",
        List.of(SPA_CALLBACK.toString()), "token_endpoint_auth_method", "none"), Client.Source.MANAGED);
    provider = OIDCProviderMetadata.resolve(new Issuer(sesame.url()));
  }

  static AuthenticationRequest.Builder request(String clientId, URI callback) {
    return new AuthenticationRequest.Builder(new ResponseType(ResponseType.Value.CODE),
        new Scope("openid", "email"), new ClientID(clientId), callback)
        .endpointURI(provider.getAuthorizationEndpointURI()).state(new State()).nonce(new Nonce());
  }

  static Http.Response open(URI request, String... headers) {
    return sesame.http().get(request.toString().substring(sesame.url().length()), headers);
  }

  static Http.Response open(String query, String... headers) {
    return sesame.http().get("/authorize?" + query, headers);
  }

  /** The hosted pages' session cookie of a fresh person signed in by email (cookie mode, as the pages do). */
  static String browserSession() {
    String email = "sso-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    return OpenIdConnectLibraryTest.browserSessionOn(sesame, email);
  }

  static void assertPage(Http.Response r, String why) {
    assertEquals(400, r.status(), why + ": " + r.body());
    assertNull(r.header("Location"), why + ": never a redirect");
    assertTrue(r.body().contains("can’t be used"), r.body());
  }

  static AuthenticationErrorResponse assertRedirectedError(Http.Response r, URI callback, String error, State state)
      throws Exception {
    assertEquals(302, r.status(), r.body());
    String location = r.header("Location");
    assertTrue(location.startsWith(callback + "?"), location);
    AuthenticationResponse parsed = AuthenticationResponseParser.parse(URI.create(location));
    assertFalse(parsed.indicatesSuccess(), location);
    AuthenticationErrorResponse e = parsed.toErrorResponse();
    assertEquals(error, e.getErrorObject().getCode(), location);
    assertNotNull(e.getErrorObject().getDescription(), "error_description");
    assertEquals(state, e.getState());
    assertEquals(provider.getIssuer(), e.getIssuer(), "RFC 9207 iss in the error redirect too");
    return e;
  }

  @Test
  void a_bad_client_or_redirect_uri_gets_a_page_and_is_never_redirected_to() {
    String cb = "&redirect_uri=" + enc(CALLBACK.toString()) + "&response_type=code&scope=openid";
    assertPage(open("client_id=nobody" + cb), "unknown client");
    assertPage(open("response_type=code&redirect_uri=" + enc(CALLBACK.toString())), "no client_id");
    assertPage(open("client_id=notes&response_type=code"), "no redirect_uri");
    assertPage(open("client_id=notes&response_type=code&redirect_uri=" + enc("https://evil.example/cb")),
        "unregistered redirect_uri");
    assertPage(open("client_id=notes&response_type=code&redirect_uri=" + enc(CALLBACK + "/")),
        "not exactly the registered one");
    assertPage(open("client_id=notes&client_id=spa" + cb), "client_id twice");
    assertPage(open("client_id=notes" + cb + "&redirect_uri=" + enc(CALLBACK.toString())), "redirect_uri twice");
    Http.Response page = open("client_id=nobody" + cb);
    assertFalse(page.body().contains("notes.example"), "the page does not link to the target");
  }

  @Test
  void every_later_refusal_goes_back_to_the_client_with_state_and_iss() throws Exception {
    State state = new State();
    String base = "client_id=notes&redirect_uri=" + enc(CALLBACK.toString()) + "&state=" + state.getValue();
    assertRedirectedError(open(base + "&response_type=token&scope=openid"), CALLBACK, "unsupported_response_type",
        state);
    assertRedirectedError(open(base + "&scope=openid"), CALLBACK, "invalid_request", state); // no response_type
    assertRedirectedError(open(base + "&response_type=code&scope=openid%20profile"), CALLBACK, "invalid_scope",
        state); // notes did not register profile
    assertRedirectedError(open(base + "&response_type=code&prompt=none%20login"), CALLBACK, "invalid_request",
        state);
    assertRedirectedError(open(base + "&response_type=code&prompt=bogus"), CALLBACK, "invalid_request", state);
    assertRedirectedError(open(base + "&response_type=code&max_age=soon"), CALLBACK, "invalid_request", state);
    assertRedirectedError(open(base + "&response_type=code&response_mode=fragment"), CALLBACK, "invalid_request",
        state);
    assertRedirectedError(open(base + "&response_type=code&request=eyJ.x.y"), CALLBACK, "request_not_supported",
        state);
    assertRedirectedError(open(base + "&response_type=code&request_uri=urn:x"), CALLBACK,
        "request_uri_not_supported", state);
    assertRedirectedError(open(base + "&response_type=code&nonce=a&nonce=b"), CALLBACK, "invalid_request", state);
    // PKCE: plain is refused (OAuth 2.1), and a public client must send S256.
    CodeVerifier verifier = new CodeVerifier();
    assertRedirectedError(open(request("notes", CALLBACK).state(state).codeChallenge(verifier,
        CodeChallengeMethod.PLAIN).build().toURI()), CALLBACK, "invalid_request", state);
    assertRedirectedError(open(request("spa", SPA_CALLBACK).state(state).build().toURI()), SPA_CALLBACK,
        "invalid_request", state);
    // Unknown scope values are ignored (Core §5.4), not refused.
    assertEquals(200, open(request("notes", CALLBACK).scope(new Scope("openid", "email", "groups")).build()
        .toURI()).status());
  }

  @Test
  void prompt_none_without_a_session_answers_login_required() throws Exception {
    State state = new State();
    Http.Response r = open(request("notes", CALLBACK).state(state).prompt(new Prompt(Prompt.Type.NONE)).build()
        .toURI());
    // Without the access cookie the page still checks the refresh cookie (script only, no form): its answer is the
    // same redirect, from the sealed request.
    assertEquals(200, r.status(), r.body());
    assertTrue(r.body().contains("prompt=\"none\""), r.body());
    Http.Response answer = sesame.http().post("/v1/authorize", Map.of("request", sealed(r)));
    assertEquals(200, answer.status(), answer.body());
    AuthenticationErrorResponse e = (AuthenticationErrorResponse) AuthenticationResponseParser.parse(
        URI.create(answer.json().get("redirect").asText()));
    assertEquals("login_required", e.getErrorObject().getCode());
    assertEquals(state, e.getState());
    // Any other request without a session is 401, as before.
    Http.Response page = open(request("notes", CALLBACK).build().toURI());
    dev.sesame.support.Problems.assertProblem(sesame.http().post("/v1/authorize", Map.of("request", sealed(page))),
        401, "invalid_token");
  }

  @Test
  void a_browser_signed_in_on_sesames_pages_goes_straight_back_with_a_code() throws Exception {
    String cookie = browserSession();
    Nonce nonce = new Nonce();
    State state = new State();
    CodeVerifier verifier = new CodeVerifier();
    for (Prompt prompt : new Prompt[] {null, new Prompt(Prompt.Type.NONE)}) {
      AuthenticationRequest request = request("notes", CALLBACK).state(state).nonce(nonce).prompt(prompt)
          .codeChallenge(verifier, CodeChallengeMethod.S256).maxAge(3600).build();
      Http.Response r = open(request.toURI(), "Cookie", cookie);
      assertEquals(302, r.status(), r.body());
      AuthenticationSuccessResponse success = AuthenticationResponseParser.parse(URI.create(r.header("Location")))
          .toSuccessResponse();
      assertEquals(state, success.getState());
      assertEquals(provider.getIssuer(), success.getIssuer());
      OIDCTokenResponse tokens = (OIDCTokenResponse) OIDCTokenResponseParser.parse(new TokenRequest(
          provider.getTokenEndpointURI(), new ClientSecretBasic(new ClientID("notes"), new Secret(secret)),
          new AuthorizationCodeGrant(success.getAuthorizationCode(), CALLBACK, verifier)).toHTTPRequest().send())
          .toSuccessResponse();
      IDTokenClaimsSet claims = new IDTokenValidator(provider.getIssuer(), new ClientID("notes"), JWSAlgorithm.RS256,
          provider.getJWKSetURI().toURL()).validate(tokens.getOIDCTokens().getIDToken(), nonce);
      assertNotNull(claims.getAuthenticationTime(), "auth_time: the original sign-in's");
    }
  }

  @Test
  void prompt_login_and_max_age_ask_for_a_new_sign_in_even_with_a_session() throws Exception {
    String cookie = browserSession();
    for (AuthenticationRequest request : List.of(
        request("notes", CALLBACK).prompt(new Prompt(Prompt.Type.LOGIN)).build(),
        request("notes", CALLBACK).maxAge(0).build(),
        request("notes", CALLBACK).prompt(new Prompt(Prompt.Type.SELECT_ACCOUNT)).build())) {
      Http.Response page = open(request.toURI(), "Cookie", cookie);
      assertEquals(200, page.status(), request.toURI() + ": the sign-in page, not a redirect");
      String sealed = sealed(page);
      Http.Response reuse = sesame.http().post("/v1/authorize", Map.of("request", sealed), "Cookie", cookie,
          "Origin", sesame.url(), "X-Sesame-CSRF", "1");
      if (request.getPrompt() != null && request.getPrompt().contains(Prompt.Type.SELECT_ACCOUNT)) {
        assertEquals(200, reuse.status(), "select_account: the person chose to continue as themselves");
        continue;
      }
      dev.sesame.support.Problems.assertProblem(reuse, 403, "login_required");
    }
    // prompt=none with a session too old for max_age: login_required, back to the client.
    State state = new State();
    assertRedirectedError(open(request("notes", CALLBACK).state(state).prompt(new Prompt(Prompt.Type.NONE))
        .maxAge(0).build().toURI(), "Cookie", cookie), CALLBACK, "login_required", state);
    // A sign-in made after the prompt=login request answers it.
    Http.Response page = open(request("notes", CALLBACK).prompt(new Prompt(Prompt.Type.LOGIN)).build().toURI(),
        "Cookie", cookie);
    String fresh = browserSession();
    Http.Response answered = sesame.http().post("/v1/authorize", Map.of("request", sealed(page)), "Cookie", fresh,
        "Origin", sesame.url(), "X-Sesame-CSRF", "1");
    assertEquals(200, answered.status(), answered.body());
    assertTrue(answered.json().get("redirect").asText().startsWith(CALLBACK + "?code="));
  }

  @Test
  void the_page_starts_with_the_login_hint_names_the_app_and_can_start_on_sign_up() {
    Http.Response page = open(request("notes", CALLBACK).loginHint("ada@example.com")
        .prompt(new Prompt(Prompt.Type.CREATE)).build().toURI());
    assertEquals(200, page.status(), page.body());
    assertTrue(page.body().contains("email=\"ada@example.com\""), page.body());
    assertTrue(page.body().contains("prompt=\"create\""), page.body());
    assertTrue(page.body().contains("to continue to <strong><bdi>Notes</bdi></strong>"), page.body());
    Http.Response noEmail = open(request("notes", CALLBACK).loginHint("\"><script>").build().toURI());
    assertFalse(noEmail.body().contains("email="), "only an email address is a hint");
    assertEquals("no-store", page.header("Cache-Control"));
  }

  @Test
  void a_form_post_to_the_authorization_endpoint_works_like_get() {
    AuthenticationRequest request = request("notes", CALLBACK).build();
    Http.Response r = sesame.http().send("POST", "/authorize", request.toQueryString(),
        "Content-Type", "application/x-www-form-urlencoded");
    assertEquals(200, r.status(), r.body());
    assertTrue(r.body().contains("<sesame-auth request=\"ar1."));
  }

  @Test
  void discovery_names_the_authorization_endpoint_and_its_prompts() {
    assertEquals(URI.create(sesame.url() + "/authorize"), provider.getAuthorizationEndpointURI());
    assertTrue(provider.getPromptTypes().contains(Prompt.Type.NONE));
    assertTrue(provider.getPromptTypes().contains(Prompt.Type.CREATE));
    assertFalse(provider.supportsRequestURIParam(), "Discovery's default is true: Sesame says false");
    assertFalse(provider.supportsRequestParam());
  }

  static String sealed(Http.Response page) {
    Matcher m = SEALED.matcher(page.body());
    assertTrue(m.find(), page.body());
    return m.group(1);
  }

  static String enc(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void ui_locales_picks_the_sign_in_page_language_before_accept_language() throws Exception {
    AuthenticationRequest german = request("notes", CALLBACK)
        .uiLocales(List.of(com.nimbusds.langtag.LangTag.parse("sv"), com.nimbusds.langtag.LangTag.parse("de-AT")))
        .build();
    Http.Response page = open(german.toURI(), "Accept-Language", "fr-FR,fr;q=0.9");
    assertEquals(200, page.status(), page.body());
    assertTrue(page.body().contains("<html lang=\"de\" dir=\"ltr\">"), "the first offered ui_locales language");
    assertTrue(page.body().contains("<title>Anmelden · "), page.body());
    assertTrue(page.body().contains("um mit <strong><bdi>Notes</bdi></strong> fortzufahren"), "the app's name, in German");

    Http.Response french = open(request("notes", CALLBACK).build().toURI(), "Accept-Language", "fr-FR,fr;q=0.9");
    assertTrue(french.body().contains("<html lang=\"fr\" dir=\"ltr\">"), "no ui_locales: Accept-Language");
    Http.Response arabic = open(request("notes", CALLBACK)
        .uiLocales(List.of(com.nimbusds.langtag.LangTag.parse("ar-EG"))).build().toURI());
    assertTrue(arabic.body().contains("<html lang=\"ar\" dir=\"rtl\">"), "right to left");
    Http.Response fallback = open(request("notes", CALLBACK)
        .uiLocales(List.of(com.nimbusds.langtag.LangTag.parse("tlh"))).build().toURI(), "Accept-Language", "tlh");
    assertTrue(fallback.body().contains("<html lang=\"en\""), "nothing offered matches: the default language");
    assertTrue(provider.getUILocales().stream().map(Object::toString).toList().containsAll(List.of("de", "ja", "ar")),
        "discovery lists ui_locales_supported");
  }
}
