package dev.sesame.oauth;

import static dev.sesame.support.Problems.assertOAuthError;
import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jwt.SignedJWT;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.TestServer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The redirect + code flow for server-rendered apps, cookies and CSRF for hosted pages, and CORS. */
class HostedFlowTest {
  static final String APP = "http://app.localhost:5000";
  static TestServer server;
  static Http http;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("SESAME_ALLOWED_ORIGINS", "http://127.0.0.1:1," + APP,
        "SESAME_REDIRECT_ALLOWLIST", APP + "/callback"));
    http = server.http();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String email() {
    return "h-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
  }

  static String challenge(String verifier) throws Exception {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
  }

  static String bearer(JsonNode tokens) {
    return "Bearer " + tokens.get("access_token").asText();
  }

  static String codeFrom(String redirect) {
    String query = URI.create(redirect).getRawQuery();
    for (String part : query.split("&")) {
      if (part.startsWith("code=")) {
        return part.substring(5);
      }
    }
    throw new AssertionError("no code in " + redirect);
  }

  Http.Response authorize(JsonNode tokens, Map<String, Object> body) {
    return http.post("/v1/authorize", body, "Authorization", bearer(tokens));
  }

  @Test
  void an_app_gets_a_session_of_its_own_for_a_pkce_bound_code() throws Exception {
    JsonNode signedIn = DevMailbox.signIn(http, email());
    String verifier = "v".repeat(20) + UUID.randomUUID().toString().replace("-", "");
    Http.Response authorized = authorize(signedIn, Map.of("redirectTo", APP + "/callback?from=login",
        "state", "xyz 1", "codeChallenge", challenge(verifier), "codeChallengeMethod", "S256"));
    assertEquals(200, authorized.status(), authorized.body());
    String redirect = authorized.json().get("redirect").asText();
    assertTrue(redirect.startsWith(APP + "/callback?from=login&code="), redirect);
    assertTrue(redirect.contains("&state=xyz+1&iss=" + java.net.URLEncoder.encode(server.url(),
        StandardCharsets.UTF_8)), "state, and the issuer (RFC 9207): " + redirect);

    Http.Response token = http.post("/v1/token", "grant_type=authorization_code&code=" + codeFrom(redirect)
        + "&code_verifier=" + verifier + "&redirect_uri=" + java.net.URLEncoder.encode(APP + "/callback?from=login",
        StandardCharsets.UTF_8), "Content-Type", "application/x-www-form-urlencoded");
    assertEquals(200, token.status(), token.body());
    JsonNode app = token.json();
    assertNotEquals(signedIn.get("session_id"), app.get("session_id"), "the app's own session");
    assertEquals(signedIn.get("user").get("id"), app.get("user").get("id"));
    assertEquals("email", SignedJWT.parse(app.get("access_token").asText()).getJWTClaimsSet()
        .getStringClaim("auth_method"));
    assertEquals(200, http.get("/v1/me", "Authorization", bearer(app)).status());
    assertFalse(app.get("refresh_token").asText().isEmpty());
  }

  @Test
  void codes_are_single_use_and_bound_to_the_verifier() throws Exception {
    JsonNode signedIn = DevMailbox.signIn(http, email());
    String verifier = UUID.randomUUID() + "-" + UUID.randomUUID();
    String redirect = authorize(signedIn, Map.of("redirectTo", APP + "/callback",
        "codeChallenge", challenge(verifier))).json().get("redirect").asText();
    String code = codeFrom(redirect);

    String callback = APP + "/callback";
    assertOAuthError(http.post("/v1/token", Map.of("grant_type", "authorization_code", "code", code,
        "redirect_uri", callback, "code_verifier", UUID.randomUUID() + "-" + UUID.randomUUID())), 400,
        "invalid_grant");
    // A failed attempt used the code up too: a guessed verifier gets one try.
    assertOAuthError(http.post("/v1/token", Map.of("grant_type", "authorization_code", "code", code,
        "redirect_uri", callback, "code_verifier", verifier)), 400, "invalid_grant");

    String redirect2 = authorize(signedIn, Map.of("redirectTo", APP + "/callback",
        "codeChallenge", challenge(verifier))).json().get("redirect").asText();
    assertOAuthError(http.post("/v1/token", Map.of("grant_type", "authorization_code", "code", codeFrom(redirect2),
        "redirect_uri", callback)), 400, "invalid_grant");

    String redirect3 = authorize(signedIn, Map.of("redirectTo", APP + "/callback",
        "codeChallenge", challenge(verifier))).json().get("redirect").asText();
    Http.Response first = http.post("/v1/token", Map.of("grant_type", "authorization_code",
        "code", codeFrom(redirect3), "redirect_uri", callback, "code_verifier", verifier));
    assertEquals(200, first.status(), first.body());
    // Replaying the code fails, and revokes what the first exchange produced.
    assertOAuthError(http.post("/v1/token", Map.of("grant_type", "authorization_code", "code", codeFrom(redirect3),
        "redirect_uri", callback, "code_verifier", verifier)), 400, "invalid_grant");
    assertProblem(http.get("/v1/me", "Authorization", bearer(first.json())), 401, "invalid_token");
  }

  @Test
  void expired_unknown_and_misdirected_codes_are_refused() throws Exception {
    JsonNode signedIn = DevMailbox.signIn(http, email());
    String verifier = "m".repeat(50);
    Map<String, Object> request = Map.of("redirectTo", APP + "/callback", "codeChallenge", challenge(verifier));
    String redirect = authorize(signedIn, request).json().get("redirect").asText();
    assertOAuthError(http.post("/v1/token", Map.of("grant_type", "authorization_code", "code", codeFrom(redirect),
        "code_verifier", verifier, "redirect_uri", APP + "/elsewhere")), 400, "invalid_grant");
    String redirect2 = authorize(signedIn, request).json().get("redirect").asText();
    server.jdbi().useHandle(h -> h.execute("UPDATE authorization_codes SET expires_at = now() - interval '1 second'"));
    assertOAuthError(http.post("/v1/token", Map.of("grant_type", "authorization_code", "code", codeFrom(redirect2),
        "code_verifier", verifier, "redirect_uri", APP + "/callback")), 400, "invalid_grant");
    assertOAuthError(http.post("/v1/token", Map.of("grant_type", "authorization_code", "code", "nope",
        "redirect_uri", APP + "/callback")), 400, "invalid_grant");
    // The redirect URI is required at the exchange (RFC 6749 §4.1.3).
    String redirect3 = authorize(signedIn, request).json().get("redirect").asText();
    assertOAuthError(http.post("/v1/token", Map.of("grant_type", "authorization_code", "code", codeFrom(redirect3),
        "code_verifier", verifier)), 400, "invalid_request");
    assertOAuthError(http.post("/v1/token", Map.of("grant_type", "password", "username", "x")), 400,
        "unsupported_grant_type");
    assertOAuthError(http.post("/v1/token", Map.of("code", "x")), 400, "invalid_request");
  }

  @Test
  void authorize_checks_the_redirect_and_the_challenge() {
    JsonNode signedIn = DevMailbox.signIn(http, email());
    assertProblem(authorize(signedIn, Map.of("redirectTo", "https://evil.example/callback",
        "codeChallenge", "c".repeat(43))), 400, "invalid_redirect");
    // The first-party client is public: PKCE is required (a code without it could be redeemed by anyone).
    assertProblem(authorize(signedIn, Map.of("redirectTo", APP + "/callback")), 400, "invalid_request");
    // A fragment would swallow the code; a code or state of the URI's own would make the answer ambiguous.
    assertProblem(authorize(signedIn, Map.of("redirectTo", APP + "/callback#x?y", "codeChallenge",
        "c".repeat(43))), 400, "invalid_redirect");
    for (String own : new String[] {"code=1", "state=2", "iss=3", "a=1&code=2"}) {
      assertProblem(authorize(signedIn, Map.of("redirectTo", APP + "/callback?" + own, "codeChallenge",
          "c".repeat(43))), 400, "invalid_redirect");
    }
    assertProblem(authorize(signedIn, Map.of("redirectTo", APP + "/callback", "codeChallenge", "x".repeat(43),
        "codeChallengeMethod", "plain")), 400, "invalid_request");
    assertProblem(authorize(signedIn, Map.of("redirectTo", APP + "/callback", "codeChallenge", "short")), 400,
        "invalid_request");
    assertProblem(http.post("/v1/authorize", Map.of("redirectTo", APP + "/callback", "codeChallenge",
        "c".repeat(43))), 401, "invalid_token");
  }

  @Test
  void the_refresh_token_grant_works_at_the_token_endpoint() {
    JsonNode signedIn = DevMailbox.signIn(http, email());
    Http.Response r = http.post("/v1/token", "grant_type=refresh_token&refresh_token="
        + signedIn.get("refresh_token").asText(), "Content-Type", "application/x-www-form-urlencoded");
    assertEquals(200, r.status(), r.body());
    assertNotEquals(signedIn.get("refresh_token"), r.json().get("refresh_token"));
  }

  @Test
  void the_email_link_carries_the_app_redirect_to_the_confirm_page() throws Exception {
    String email = email();
    String challenge = challenge("w".repeat(50));
    Http.Response started = http.post("/v1/email/start", Map.of("email", email, "redirectTo", APP + "/callback",
        "state", "s1", "codeChallenge", challenge));
    assertEquals(202, started.status(), started.body());
    String code = DevMailbox.latestCode(http, email);
    Http.Response verified = http.post("/v1/email/verify", Map.of("flowId",
        started.json().get("flowId").asText(), "code", code));
    // The flow carried the checked request, sealed; the page that finished the sign-in continues with it.
    JsonNode next = verified.json().get("continue");
    assertTrue(next.get("request").asText().startsWith("ar1."), next.toString());
    Http.Response authorized = http.post("/v1/authorize", Map.of("request", next.get("request").asText()),
        "Authorization", "Bearer " + verified.json().get("access_token").asText());
    assertEquals(200, authorized.status(), authorized.body());
    assertTrue(authorized.json().get("redirect").asText().startsWith(APP + "/callback?code="));
    assertTrue(authorized.json().get("redirect").asText().contains("&state=s1&iss="));
    String sealed = next.get("request").asText();
    String altered = sealed.substring(0, sealed.length() - 2) + (sealed.endsWith("A") ? "BB" : "AA");
    assertProblem(http.post("/v1/email/start", Map.of("email", email, "request", altered)), 400, "invalid_request");
    assertProblem(http.post("/v1/authorize", Map.of("request", altered), "Authorization", "Bearer "
        + verified.json().get("access_token").asText()), 400, "invalid_request");
    assertProblem(http.post("/v1/email/start", Map.of("email", email, "redirectTo", APP + "/callback",
        "codeChallenge", "bad")), 400, "invalid_request");
    assertProblem(http.post("/v1/email/start", Map.of("email", email, "redirectTo", APP + "/callback")), 400,
        "invalid_request");
  }

  // ---- hosted pages, cookies, CSRF ----

  @Test
  void the_login_page_refuses_redirects_outside_the_allowlist() {
    Http.Response bad = http.get("/login?redirectTo=https://evil.example/callback&code_challenge=" + "a".repeat(43));
    assertEquals(400, bad.status());
    assertTrue(bad.body().contains("can’t be used"));
    assertFalse(bad.body().contains("evil.example"), "the page does not link to the bad target");
    Http.Response good = http.get("/login?redirectTo=" + APP + "/callback&state=%22%3E%3Cscript%3E&code_challenge="
        + "a".repeat(43));
    assertEquals(200, good.status());
    assertTrue(good.body().contains("<sesame-auth request=\"ar1."), good.body());
    assertTrue(good.body().contains("prompt=\"select_account\""), "the older form says \"Continue as …\"");
    assertTrue(good.header("Content-Security-Policy").contains("frame-ancestors 'none'"));
    assertFalse(good.body().contains("<script>"), "no inline script");
    assertEquals(200, http.get("/account").status());
    assertEquals(302, http.send("GET", "/", null).status());
  }

  @Test
  void hosted_pages_keep_the_session_in_http_only_cookies_with_csrf_checks() {
    String own = server.url();
    String email = email();
    Http.Response started = http.post("/v1/email/start", Map.of("email", email));
    Http.Response verified = http.post("/v1/email/verify", Map.of("flowId", started.json().get("flowId").asText(),
        "code", DevMailbox.latestCode(http, email)), "Origin", own, "X-Sesame-Session", "cookie");
    assertEquals(200, verified.status(), verified.body());
    assertNull(verified.json().get("refresh_token"), "the refresh token stays in its HttpOnly cookie");
    List<String> setCookies = verified.headers().get("set-cookie");
    String access = setCookies.stream().filter(c -> c.startsWith("sesame_at=")).findFirst().orElseThrow();
    String refresh = setCookies.stream().filter(c -> c.startsWith("sesame_rt=")).findFirst().orElseThrow();
    assertTrue(access.contains("HttpOnly") && access.contains("SameSite=Lax") && access.contains("Path=/"), access);
    assertTrue(refresh.contains("HttpOnly") && refresh.contains("Path=/v1/sessions"), refresh);
    assertFalse(access.contains("Secure"), "plain http in tests");
    String cookieHeader = access.split(";")[0] + "; " + refresh.split(";")[0];

    assertEquals(200, http.get("/v1/me", "Cookie", cookieHeader).status(), "reads need no CSRF proof");
    assertProblem(http.post("/v1/sessions/logout", "", "Cookie", cookieHeader, "Origin", own), 403,
        "csrf_check_failed");
    assertProblem(http.post("/v1/sessions/logout", "", "Cookie", cookieHeader, "Origin", "https://evil.example",
        "X-Sesame-CSRF", "1"), 403, "csrf_check_failed");
    assertProblem(http.post("/v1/sessions/logout", "", "Cookie", cookieHeader, "X-Sesame-CSRF", "1"), 403,
        "csrf_check_failed");
    assertProblem(http.post("/v1/sessions/refresh", "", "Cookie", cookieHeader, "Origin", own), 403,
        "csrf_check_failed");

    Http.Response refreshed = http.post("/v1/sessions/refresh", "", "Cookie", cookieHeader, "Origin", own,
        "X-Sesame-CSRF", "1", "X-Sesame-Session", "cookie");
    assertEquals(200, refreshed.status(), refreshed.body());
    String newAccess = refreshed.headers().get("set-cookie").stream().filter(c -> c.startsWith("sesame_at="))
        .findFirst().orElseThrow().split(";")[0];
    String newRefresh = refreshed.headers().get("set-cookie").stream().filter(c -> c.startsWith("sesame_rt="))
        .findFirst().orElseThrow().split(";")[0];
    String newCookies = newAccess + "; " + newRefresh;

    Http.Response out = http.post("/v1/sessions/logout", "", "Cookie", newCookies, "Origin", own,
        "X-Sesame-CSRF", "1");
    assertEquals(204, out.status(), out.body());
    List<String> cleared = out.headers().get("set-cookie");
    assertEquals(2, cleared.size(), cleared.toString());
    assertTrue(cleared.stream().allMatch(c -> c.contains("Max-Age=0") || c.contains("Expires=Thu, 01 Jan 1970")),
        cleared.toString());
    assertProblem(http.get("/v1/me", "Cookie", newCookies), 401, "invalid_token");
  }

  @Test
  void cookie_mode_is_only_for_sesames_own_origin() {
    String email = email();
    Http.Response started = http.post("/v1/email/start", Map.of("email", email));
    Http.Response verified = http.post("/v1/email/verify", Map.of("flowId", started.json().get("flowId").asText(),
        "code", DevMailbox.latestCode(http, email)), "Origin", APP, "X-Sesame-Session", "cookie");
    assertEquals(200, verified.status());
    assertNull(verified.headers().get("set-cookie"));
    assertFalse(verified.json().get("refresh_token").asText().isEmpty());
  }

  @Test
  void https_cookies_are_secure_and_host_prefixed() {
    try (TestServer secure = TestServer.start(Map.of("SESAME_PUBLIC_URL", "https://login.example.com"))) {
      Http h = secure.http();
      String email = email();
      Http.Response started = h.post("/v1/email/start", Map.of("email", email));
      String code = secure.jdbi().withHandle(x -> x.createQuery("SELECT text_body FROM email_outbox")
          .mapTo(String.class).one()).replaceAll("(?s).*enter this code: (\\d{6}).*", "$1");
      Http.Response verified = h.post("/v1/email/verify", Map.of("flowId", started.json().get("flowId").asText(),
          "code", code), "Origin", "https://login.example.com", "X-Sesame-Session", "cookie");
      List<String> cookies = verified.headers().get("set-cookie");
      assertTrue(cookies.stream().anyMatch(c -> c.startsWith("__Host-sesame_at=") && c.contains("Secure")), cookies.toString());
      assertTrue(cookies.stream().anyMatch(c -> c.startsWith("__Secure-sesame_rt=") && c.contains("Secure")), cookies.toString());
    }
  }

  // ---- CORS ----

  @Test
  void cors_is_granted_to_allowed_origins_only() {
    Http.Response preflight = http.send("OPTIONS", "/v1/passkeys/login/options", null, "Origin", APP,
        "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type");
    assertEquals(204, preflight.status(), preflight.body());
    assertEquals(APP, preflight.header("Access-Control-Allow-Origin"));
    assertTrue(preflight.header("Access-Control-Allow-Headers").contains("Content-Type"));
    assertNull(preflight.header("Access-Control-Allow-Credentials"));

    Http.Response refused = http.send("OPTIONS", "/v1/passkeys/login/options", null, "Origin", "http://evil.localhost",
        "Access-Control-Request-Method", "POST");
    assertProblem(refused, 403, "origin_not_allowed");
    assertNull(refused.header("Access-Control-Allow-Origin"));

    assertEquals(APP, http.post("/v1/passkeys/login/options", Map.of(), "Origin", APP)
        .header("Access-Control-Allow-Origin"));
    assertNull(http.post("/v1/passkeys/login/options", Map.of(), "Origin", "http://evil.localhost")
        .header("Access-Control-Allow-Origin"));
    assertEquals("*", http.get("/assets/sesame.css").header("Access-Control-Allow-Origin"));
  }
}
