package dev.sesame.oauth;

import static dev.sesame.support.Problems.assertOAuthError;
import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jwt.SignedJWT;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.TestServer;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The authorization code grant with registered clients: every defect of the review is refused — unknown clients,
 * wrong secrets, codes redeemed by another client, codes without PKCE, a missing redirect_uri, tokens naming the
 * wrong client, and refresh tokens used by another client.
 */
class ClientCodeFlowTest {
  static final String APP = "https://app.example";
  static TestServer server;
  static Http http;
  static String confidentialSecret;
  static String otherSecret;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("SESAME_REDIRECT_ALLOWLIST", APP + "/first-party"));
    http = server.http();
    Clients clients = new Clients(server.jdbi(), "default");
    confidentialSecret = clients.create(Map.of("client_id", "my-app", "redirect_uris", List.of(APP + "/cb"),
        "grant_types", List.of("authorization_code", "refresh_token")), Client.Source.MANAGED).secret().orElseThrow();
    otherSecret = clients.create(Map.of("client_id", "other-app", "redirect_uris", List.of(APP + "/cb"),
        "token_endpoint_auth_method", "client_secret_post"), Client.Source.MANAGED).secret().orElseThrow();
    clients.create(Map.of("client_id", "public-app", "token_endpoint_auth_method", "none",
        "redirect_uris", List.of("http://127.0.0.1:9000/cb")), Client.Source.MANAGED);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String challenge(String verifier) throws Exception {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
  }

  static Http.Response authorize(JsonNode signedIn, Map<String, Object> body) {
    return http.post("/v1/authorize", body, "Authorization", "Bearer " + signedIn.get("access_token").asText());
  }

  static String code(JsonNode signedIn, Map<String, Object> body) {
    Http.Response r = authorize(signedIn, body);
    assertEquals(200, r.status(), r.body());
    for (String part : URI.create(r.json().get("redirect").asText()).getRawQuery().split("&")) {
      if (part.startsWith("code=")) {
        return part.substring(5);
      }
    }
    throw new AssertionError("no code");
  }

  static String form(Map<String, String> params) {
    StringBuilder out = new StringBuilder();
    params.forEach((k, v) -> out.append(out.length() == 0 ? "" : "&").append(k).append('=')
        .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return out.toString();
  }

  static Http.Response token(Map<String, String> params, String... headers) {
    String[] all = new String[headers.length + 2];
    all[0] = "Content-Type";
    all[1] = "application/x-www-form-urlencoded";
    System.arraycopy(headers, 0, all, 2, headers.length);
    return http.post("/v1/token", form(params), all);
  }

  static String basic(String id, String secret) {
    return "Basic " + Base64.getEncoder().encodeToString((URLEncoder.encode(id, StandardCharsets.UTF_8) + ":"
        + URLEncoder.encode(secret, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
  }

  static Map<String, String> exchange(String code) {
    return new HashMap<>(Map.of("grant_type", "authorization_code", "code", code, "redirect_uri", APP + "/cb"));
  }

  @Test
  void a_confidential_client_gets_tokens_that_name_it() throws Exception {
    JsonNode signedIn = DevMailbox.signIn(http, "conf-" + UUID.randomUUID() + "@example.com");
    String code = code(signedIn, Map.of("clientId", "my-app", "redirectTo", APP + "/cb", "state", "s"));
    Http.Response tokens = token(exchange(code), "Authorization", basic("my-app", confidentialSecret));
    assertEquals(200, tokens.status(), tokens.body());
    String accessToken = tokens.json().get("access_token").asText();
    assertEquals("my-app", SignedJWT.parse(accessToken).getJWTClaimsSet().getStringClaim("client_id"),
        "the access token names the client it was issued to");
    // Its refresh token works for it, and keeps the client; for anyone else it is unknown.
    Map<String, String> refresh = Map.of("grant_type", "refresh_token",
        "refresh_token", tokens.json().get("refresh_token").asText());
    assertOAuthError(token(refresh), 400, "invalid_grant");
    assertProblem(http.post("/v1/sessions/refresh", Map.of("refresh_token",
        tokens.json().get("refresh_token").asText())), 401, "invalid_refresh_token");
    Map<String, String> asOther = new HashMap<>(refresh);
    asOther.put("client_id", "other-app");
    asOther.put("client_secret", otherSecret);
    // other-app did not register the refresh_token grant at all.
    assertOAuthError(token(asOther), 400, "unauthorized_client");
    Http.Response refreshed = token(refresh, "Authorization", basic("my-app", confidentialSecret));
    assertEquals(200, refreshed.status(), refreshed.body());
    assertEquals("my-app", SignedJWT.parse(refreshed.json().get("access_token").asText()).getJWTClaimsSet()
        .getStringClaim("client_id"));
    // First-party tokens still say the first-party client's id.
    assertEquals("default", SignedJWT.parse(signedIn.get("access_token").asText()).getJWTClaimsSet()
        .getStringClaim("client_id"));
  }

  @Test
  void clients_are_identified_and_authenticated() {
    JsonNode signedIn = DevMailbox.signIn(http, "auth-" + UUID.randomUUID() + "@example.com");
    List<String[]> wrong = List.of(
        new String[] {"Authorization", basic("my-app", confidentialSecret + "x")}, // wrong secret
        new String[] {"Authorization", basic("no-such-app", confidentialSecret)}, // unknown client
        new String[] {"Authorization", basic("default", "anything-at-all")}, // the first-party client has no secret
        new String[] {"Authorization", "Basic !!!"}); // malformed
    for (String[] header : wrong) {
      String code = code(signedIn, Map.of("clientId", "my-app", "redirectTo", APP + "/cb"));
      Http.Response r = token(exchange(code), header);
      assertOAuthError(r, 401, "invalid_client");
      assertTrue(r.header("WWW-Authenticate").startsWith("Basic"), "RFC 6749 §5.2");
    }
    String code = code(signedIn, Map.of("clientId", "my-app", "redirectTo", APP + "/cb"));
    Map<String, String> postInstead = exchange(code);
    postInstead.put("client_id", "my-app");
    postInstead.put("client_secret", confidentialSecret);
    assertOAuthError(token(postInstead), 401, "invalid_client"); // registered for client_secret_basic
    Map<String, String> both = exchange(code);
    both.put("client_secret", confidentialSecret);
    assertOAuthError(token(both, "Authorization", basic("my-app", confidentialSecret)), 401, "invalid_client");
    Map<String, String> unknownId = exchange(code);
    unknownId.put("client_id", "nobody");
    assertOAuthError(token(unknownId), 401, "invalid_client");
    assertProblem(authorize(signedIn, Map.of("clientId", "nobody", "redirectTo", APP + "/cb")), 400,
        "invalid_client");
  }

  @Test
  void a_code_works_only_for_the_client_it_was_issued_to() throws Exception {
    JsonNode signedIn = DevMailbox.signIn(http, "bound-" + UUID.randomUUID() + "@example.com");
    String code = code(signedIn, Map.of("clientId", "my-app", "redirectTo", APP + "/cb"));
    Map<String, String> asOther = exchange(code);
    asOther.put("client_id", "other-app");
    asOther.put("client_secret", otherSecret);
    assertOAuthError(token(asOther), 400, "invalid_grant");
    // ...and that spent it: the rightful client cannot use it afterwards either.
    assertOAuthError(token(exchange(code), "Authorization", basic("my-app", confidentialSecret)), 400,
        "invalid_grant");
    // A code issued to a registered client is not the first-party client's, and the reverse.
    String code2 = code(signedIn, Map.of("clientId", "my-app", "redirectTo", APP + "/cb"));
    assertOAuthError(token(exchange(code2)), 400, "invalid_grant");
    String verifier = "f".repeat(60);
    String firstParty = code(signedIn, Map.of("redirectTo", APP + "/first-party/cb", "codeChallenge",
        challenge(verifier)));
    Map<String, String> firstPartyAsMyApp = new HashMap<>(Map.of("grant_type", "authorization_code", "code",
        firstParty, "redirect_uri", APP + "/first-party/cb", "code_verifier", verifier));
    assertOAuthError(token(firstPartyAsMyApp, "Authorization", basic("my-app", confidentialSecret)), 400,
        "invalid_grant");
  }

  @Test
  void public_clients_must_use_pkce_and_redirect_uris_match_exactly() throws Exception {
    JsonNode signedIn = DevMailbox.signIn(http, "pub-" + UUID.randomUUID() + "@example.com");
    String redirect = "http://127.0.0.1:9000/cb";
    assertProblem(authorize(signedIn, Map.of("clientId", "public-app", "redirectTo", redirect)), 400,
        "invalid_request");
    for (String near : List.of(redirect + "/more", redirect + "?x=1", "http://127.0.0.1:9001/cb", APP + "/cb")) {
      assertProblem(authorize(signedIn, Map.of("clientId", "public-app", "redirectTo", near,
          "codeChallenge", "c".repeat(43))), 400, "invalid_redirect");
    }
    String verifier = "p".repeat(64);
    String code = code(signedIn, Map.of("clientId", "public-app", "redirectTo", redirect,
        "codeChallenge", challenge(verifier)));
    Map<String, String> exchange = new HashMap<>(Map.of("grant_type", "authorization_code", "code", code,
        "redirect_uri", redirect, "client_id", "public-app"));
    Map<String, String> withoutVerifier = new HashMap<>(exchange);
    assertOAuthError(token(withoutVerifier), 400, "invalid_grant");
    String code2 = code(signedIn, Map.of("clientId", "public-app", "redirectTo", redirect,
        "codeChallenge", challenge(verifier)));
    Map<String, String> good = new HashMap<>(exchange);
    good.put("code", code2);
    good.put("code_verifier", verifier);
    Http.Response tokens = token(good);
    assertEquals(200, tokens.status(), tokens.body());
    assertEquals("public-app", SignedJWT.parse(tokens.json().get("access_token").asText()).getJWTClaimsSet()
        .getStringClaim("client_id"));
  }

  @Test
  void the_login_page_refuses_an_unknown_client_or_a_foreign_redirect_without_redirecting() {
    for (String query : List.of("client_id=nobody&redirect_uri=" + APP + "/cb&code_challenge=" + "c".repeat(43),
        "client_id=my-app&redirect_uri=https://evil.example/cb")) {
      Http.Response page = http.get("/login?" + query);
      assertEquals(400, page.status(), query);
      assertEquals(null, page.header("Location"), "never a redirect");
      assertTrue(page.body().contains("can’t be used"), page.body());
    }
    // Client and redirect URI are right: the other refusals go back to the client (RFC 6749 §4.1.2.1).
    Http.Response noPkce = http.get("/login?client_id=public-app&redirect_uri=http://127.0.0.1:9000/cb&state=s");
    assertEquals(302, noPkce.status(), noPkce.body());
    assertTrue(noPkce.header("Location").startsWith("http://127.0.0.1:9000/cb?error=invalid_request&state=s&iss="),
        noPkce.header("Location"));
    Http.Response ok = http.get("/login?client_id=my-app&redirect_uri=" + URLEncoder.encode(APP + "/cb",
        StandardCharsets.UTF_8) + "&state=s");
    assertEquals(200, ok.status(), ok.body());
    assertTrue(ok.body().contains("<sesame-auth request=\"ar1."), ok.body());
  }

  static Http.Response formPost(String path, Map<String, String> params, String... headers) {
    String[] all = new String[headers.length + 2];
    all[0] = "Content-Type";
    all[1] = "application/x-www-form-urlencoded";
    System.arraycopy(headers, 0, all, 2, headers.length);
    return http.post(path, form(params), all);
  }

  /** Tokens of a fresh session of my-app (confidential, client_secret_basic). */
  static JsonNode myAppTokens() {
    JsonNode signedIn = DevMailbox.signIn(http, "own-" + UUID.randomUUID() + "@example.com");
    String code = code(signedIn, Map.of("clientId", "my-app", "redirectTo", APP + "/cb"));
    Http.Response tokens = token(exchange(code), "Authorization", basic("my-app", confidentialSecret));
    assertEquals(200, tokens.status(), tokens.body());
    return tokens.json();
  }

  @Test
  void a_confidential_client_introspects_its_own_tokens_and_only_those() {
    JsonNode mine = myAppTokens();
    JsonNode firstParty = DevMailbox.signIn(http, "fp-" + UUID.randomUUID() + "@example.com");
    for (String kind : List.of("access_token", "refresh_token")) {
      Http.Response own = formPost("/v1/introspect", Map.of("token", mine.get(kind).asText()),
          "Authorization", basic("my-app", confidentialSecret));
      assertEquals(200, own.status(), own.body());
      assertTrue(own.json().get("active").asBoolean(), kind + ": " + own.body());
      assertEquals("my-app", own.json().get("client_id").asText());
      // RFC 7662 §4: another client's token is simply not active for this caller.
      Http.Response foreign = formPost("/v1/introspect", Map.of("token", firstParty.get(kind).asText()),
          "Authorization", basic("my-app", confidentialSecret));
      assertEquals("{\"active\":false}", foreign.body(), kind);
      Http.Response viaPost = formPost("/v1/introspect", Map.of("token", firstParty.get(kind).asText(),
          "client_id", "other-app", "client_secret", otherSecret));
      assertEquals("{\"active\":false}", viaPost.body(), kind + ": other-app sees nothing of a first-party token");
    }
    // No or wrong client authentication, or a public client: 401 invalid_client.
    dev.sesame.support.Problems.assertOAuthError(formPost("/v1/introspect",
        Map.of("token", mine.get("access_token").asText())), 401, "invalid_client");
    dev.sesame.support.Problems.assertOAuthError(formPost("/v1/introspect",
        Map.of("token", mine.get("access_token").asText()), "Authorization", basic("my-app", "wrong-secret")), 401,
        "invalid_client");
    dev.sesame.support.Problems.assertOAuthError(formPost("/v1/introspect",
        Map.of("token", mine.get("access_token").asText(), "client_id", "public-app")), 401, "invalid_client");
  }

  @Test
  void revocation_ends_only_the_calling_clients_tokens() {
    JsonNode mine = myAppTokens();
    // Another client, the first-party client (no authentication) or a wrong secret can't end my-app's session.
    assertEquals(200, formPost("/v1/revoke", Map.of("token", mine.get("refresh_token").asText(),
        "client_id", "other-app", "client_secret", otherSecret)).status());
    assertEquals(200, formPost("/v1/revoke", Map.of("token", mine.get("refresh_token").asText())).status());
    assertEquals(200, formPost("/v1/revoke", Map.of("token", mine.get("access_token").asText())).status());
    dev.sesame.support.Problems.assertOAuthError(formPost("/v1/revoke", Map.of("token",
        mine.get("refresh_token").asText()), "Authorization", basic("my-app", "wrong-secret")), 401,
        "invalid_client");
    Map<String, String> refresh = Map.of("grant_type", "refresh_token", "refresh_token",
        mine.get("refresh_token").asText());
    Http.Response stillAlive = token(refresh, "Authorization", basic("my-app", confidentialSecret));
    assertEquals(200, stillAlive.status(), "nothing above ended the session: " + stillAlive.body());
    String current = stillAlive.json().get("refresh_token").asText();
    assertEquals(200, formPost("/v1/revoke", Map.of("token", current), "Authorization",
        basic("my-app", confidentialSecret)).status());
    dev.sesame.support.Problems.assertOAuthError(token(Map.of("grant_type", "refresh_token", "refresh_token",
        current), "Authorization", basic("my-app", confidentialSecret)), 400, "invalid_grant");
  }

  @Test
  void a_code_exchanged_by_many_requests_at_once_works_once_and_its_session_is_revoked() throws Exception {
    JsonNode signedIn = DevMailbox.signIn(http, "race-" + UUID.randomUUID() + "@example.com");
    String code = code(signedIn, Map.of("clientId", "my-app", "redirectTo", APP + "/cb"));
    List<Http.Response> answers = dev.sesame.support.Parallel.run(java.util.Collections.nCopies(8,
        () -> token(exchange(code), "Authorization", basic("my-app", confidentialSecret))));
    List<Http.Response> ok = answers.stream().filter(r -> r.status() == 200).toList();
    assertEquals(1, ok.size(), answers.toString());
    for (Http.Response r : answers) {
      if (r.status() != 200) {
        dev.sesame.support.Problems.assertOAuthError(r, 400, "invalid_grant");
      }
    }
    // RFC 6749 §4.1.2: the code was presented again, so what it issued is revoked.
    Http.Response me = http.get("/v1/userinfo", "Authorization", "Bearer "
        + ok.get(0).json().get("access_token").asText());
    assertEquals(401, me.status(), me.body());
  }

  @Test
  void a_code_whose_sign_in_has_ended_gets_no_tokens_and_is_spent() throws Exception {
    JsonNode signedIn = DevMailbox.signIn(http, "ended-" + UUID.randomUUID() + "@example.com");
    String code = code(signedIn, Map.of("clientId", "my-app", "redirectTo", APP + "/cb"));
    assertEquals(204, http.post("/v1/sessions/logout", "", "Authorization",
        "Bearer " + signedIn.get("access_token").asText()).status());
    Http.Response refused = token(exchange(code), "Authorization", basic("my-app", confidentialSecret));
    assertOAuthError(refused, 400, "invalid_grant");
    assertTrue(refused.body().contains("has ended"), refused.body());
    Http.Response again = token(exchange(code), "Authorization", basic("my-app", confidentialSecret));
    assertOAuthError(again, 400, "invalid_grant");
    assertTrue(again.body().contains("already used"), again.body());
  }

  @Test
  void a_client_using_another_auth_method_gets_a_bare_invalid_client_and_the_log_says_which() {
    try (dev.sesame.support.LogCapture log = new dev.sesame.support.LogCapture()) {
      JsonNode signedIn = DevMailbox.signIn(http, "method-" + UUID.randomUUID() + "@example.com");
      String code = code(signedIn, Map.of("clientId", "my-app", "redirectTo", APP + "/cb", "state", "s"));
      Map<String, String> asPost = exchange(code);
      asPost.put("client_id", "my-app");
      asPost.put("client_secret", confidentialSecret);
      Http.Response r = token(asPost); // registered for client_secret_basic
      assertOAuthError(r, 401, "invalid_client");
      assertTrue(!r.body().contains("client_secret_basic"), "the caller learns nothing: " + r.body());
      String text = log.text();
      assertTrue(text.contains("client_id 'my-app': it is registered for client_secret_basic but the request used "
          + "client_secret_post"), text);
      assertTrue(!text.contains(confidentialSecret), "never the secret");
    }
  }
}
