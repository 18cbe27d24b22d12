package dev.sesame.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.Account;
import dev.sesame.support.AppSignIn;
import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RP-initiated logout cannot be turned against a browser (the audit's logout CSRF): an ID token of someone else's
 * sign-in — the attacker's own, even of an ended session — does not end this browser's session without the person's
 * word, and a hint of an ended session sends nobody anywhere. Self-registered clients get no sign-out redirects and
 * no error redirects, so Sesame is nobody's open redirector; their names cannot carry bidirectional controls.
 */
class LogoutCsrfTest {
  static final String APP = "https://notes.example";

  @RegisterExtension
  static final SesameServer sesame = SesameServer.with(Map.of("SESAME_DYNAMIC_REGISTRATION", "on"));
  static Http http;
  static final Map<String, String> secrets = new HashMap<>();

  @BeforeAll
  static void clients() {
    http = sesame.http();
    secrets.put("notes", new Clients(sesame.jdbi(), "default").create(Map.of("client_id", "notes",
        "redirect_uris", List.of(APP + "/cb"), "post_logout_redirect_uris", List.of(APP + "/bye")),
        Client.Source.MANAGED).secret().orElseThrow());
  }

  static String browser(Account person) {
    return OpenIdConnectLibraryTest.browserSessionOn(sesame, person.email());
  }

  static String idToken(String browser) {
    JsonNode tokens = AppSignIn.codeFlow(sesame, "notes", secrets.get("notes"), APP + "/cb", "openid", browser);
    return tokens.get("id_token").asText();
  }

  static boolean alive(String cookie) {
    return http.get("/v1/me", "Cookie", cookie).status() == 200;
  }

  static Http.Response logout(String hint, String cookie, String... more) {
    String path = "/logout?id_token_hint=" + hint + "&post_logout_redirect_uri="
        + URLEncoder.encode(APP + "/bye", StandardCharsets.UTF_8) + "&state=s1";
    String[] headers = new String[more.length + 2];
    headers[0] = "Cookie";
    headers[1] = cookie;
    System.arraycopy(more, 0, headers, 2, more.length);
    return http.get(path, headers);
  }

  @Test
  void the_attackers_own_hint_does_not_sign_the_victim_out_and_redirects_nowhere() {
    Account attacker = Account.signUp(http);
    String attackersHint = idToken(browser(attacker));
    Account victim = Account.signUp(http);
    String victimsBrowser = browser(victim);

    Http.Response r = logout(attackersHint, victimsBrowser);
    assertEquals(200, r.status(), "a page asking the person, not a redirect: " + r.header("Location"));
    assertNull(r.header("Location"));
    assertTrue(r.body().contains("name=\"confirm\""), r.body());
    assertTrue(alive(victimsBrowser), "the victim's session is untouched");

    // An ended session's hint (the attacker's again, now ended by the request above) never redirects.
    Http.Response again = logout(attackersHint, "x=y");
    assertEquals(200, again.status(), again.header("Location"));
    assertFalse(again.body().contains(APP + "/bye"), again.body());
    assertTrue(alive(victimsBrowser));
  }

  @Test
  void an_idle_browser_keeps_its_cookies_and_the_apps_own_sign_out_still_ends_the_sign_in() {
    // Idle for over 15 minutes: the access cookie is gone, only the refresh cookie (Path=/v1/sessions) remains, and
    // it is not sent to /logout. Someone else's sign-out link must not clear it.
    Account attacker = Account.signUp(http);
    String attackersHint = idToken(browser(attacker));
    Account victim = Account.signUp(http);
    Http.Response cleared = http.get("/logout?id_token_hint=" + attackersHint, "Cookie", "unrelated=1");
    assertEquals(200, cleared.status());
    assertFalse(String.valueOf(cleared.headers().get("set-cookie")).contains("sesame_rt"),
        "no cookie of this browser's is cleared: " + cleared.headers().get("set-cookie"));
    // The app's own sign-out, from an idle browser: the whole sign-in ends on the server all the same.
    String cookie = browser(victim);
    String hint = idToken(cookie);
    Http.Response out = logout(hint, "unrelated=1");
    assertEquals(302, out.status(), "the app's live session: back to the app");
    assertFalse(alive(cookie), "the Sesame session the app's came from ended too");
  }

  @Test
  void the_person_confirms_on_sesames_page_and_only_there() {
    Account attacker = Account.signUp(http);
    String attackersHint = idToken(browser(attacker));
    Account person = Account.signUp(http);
    String cookie = browser(person);
    String sid = null;
    for (JsonNode s : http.get("/v1/sessions", "Cookie", cookie).json().get("sessions")) {
      if (s.get("current").asBoolean()) {
        sid = s.get("id").asText();
      }
    }
    String form = "id_token_hint=" + attackersHint + "&confirm=yes&sid=" + sid;
    // A cross-site form (another Origin, or none) is no confirmation: the question is asked again.
    for (String origin : List.of("https://evil.example", "null")) {
      Http.Response forged = http.post("/logout", form, "Content-Type", "application/x-www-form-urlencoded",
          "Cookie", cookie, "Origin", origin);
      assertEquals(200, forged.status());
      assertTrue(forged.body().contains("name=\"confirm\""), forged.body());
      assertTrue(alive(cookie), origin);
    }
    Http.Response crossSite = http.post("/logout", form, "Content-Type", "application/x-www-form-urlencoded",
        "Cookie", cookie, "Origin", "null", "Sec-Fetch-Site", "cross-site");
    assertTrue(crossSite.body().contains("name=\"confirm\""), crossSite.body());
    assertTrue(alive(cookie), "a cross-site form, whatever its Origin");
    Http.Response confirmed = http.post("/logout", form, "Content-Type", "application/x-www-form-urlencoded",
        "Cookie", cookie, "Origin", sesame.url());
    assertEquals(200, confirmed.status());
    assertFalse(alive(cookie), "signed out after the person said so");
  }

  @Test
  void the_apps_own_hint_signs_the_browser_out_and_returns_to_the_app() {
    Account person = Account.signUp(http);
    String cookie = browser(person);
    Http.Response r = logout(idToken(cookie), cookie);
    assertEquals(302, r.status(), r.body());
    assertEquals(APP + "/bye?state=s1", r.header("Location"));
    assertFalse(alive(cookie));
  }

  @Test
  void a_self_registered_client_gets_no_sign_out_or_error_redirects_and_no_bidi_name() {
    Http.Response withLogout = http.post("/v1/register", Map.of("redirect_uris", List.of("https://attacker.example/cb"),
        "post_logout_redirect_uris", List.of("https://evil.example/out"), "token_endpoint_auth_method", "none"));
    assertEquals(400, withLogout.status(), withLogout.body());
    assertEquals("invalid_client_metadata", withLogout.json().get("error").asText());

    Http.Response bidi = http.post("/v1/register", Map.of("redirect_uris", List.of("https://attacker.example/cb"),
        "client_name", "Notes \u202Eelpmaxe.live", "token_endpoint_auth_method", "none"));
    assertEquals(400, bidi.status(), bidi.body());
    assertEquals("invalid_client_metadata", bidi.json().get("error").asText());

    Http.Response registered = http.post("/v1/register", Map.of("redirect_uris",
        List.of("https://attacker.example/cb"), "token_endpoint_auth_method", "none"));
    assertEquals(201, registered.status(), registered.body());
    String clientId = registered.json().get("client_id").asText();
    // An error at the authorization endpoint is a page for such a client, never a redirect to it.
    Http.Response error = http.get("/authorize?response_type=token&client_id=" + clientId
        + "&redirect_uri=https://attacker.example/cb&state=x");
    assertEquals(400, error.status(), error.header("Location"));
    assertNull(error.header("Location"));
  }

  @Test
  void a_sign_in_email_for_a_self_registered_app_names_it_and_where_it_sends_the_person() {
    Http.Response registered = http.post("/v1/register", Map.of("redirect_uris",
        List.of("https://attacker.example/cb"), "client_name", "Notes", "token_endpoint_auth_method", "none"));
    assertEquals(201, registered.status(), registered.body());
    String clientId = registered.json().get("client_id").asText();
    // The attacker takes the sealed request from his own sign-in page and starts a sign-in for the victim with it.
    Http.Response page = http.get("/authorize?response_type=code&scope=openid&client_id=" + clientId
        + "&redirect_uri=https://attacker.example/cb&code_challenge=" + "c".repeat(43) + "&state=x");
    assertEquals(200, page.status(), page.body());
    java.util.regex.Matcher sealed = java.util.regex.Pattern.compile("request=\"([^\"]+)\"").matcher(page.body());
    assertTrue(sealed.find(), page.body());
    String victim = "victim-" + java.util.UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    assertEquals(202, http.post("/v1/email/start", Map.of("email", victim, "request", sealed.group(1))).status());
    JsonNode mail = null;
    for (JsonNode m : http.get("/dev/mail", "Accept", "application/json").json()) {
      if (m.get("to").asText().equals(victim)) {
        mail = m;
      }
    }
    assertTrue(mail != null && mail.get("text").asText().contains("Notes (registered itself; it gets you back at "
        + "attacker.example)"), String.valueOf(mail));
    java.util.regex.Matcher link = java.util.regex.Pattern.compile("/email/confirm\\?token=([A-Za-z0-9_%-]+)")
        .matcher(mail.get("text").asText());
    assertTrue(link.find(), mail.get("text").asText());
    Http.Response confirm = http.get("/email/confirm?token=" + link.group(1));
    assertEquals(200, confirm.status());
    assertTrue(confirm.body().contains("Sign in to Notes (registered itself; it gets you back at attacker.example)"),
        confirm.body());
  }
}
