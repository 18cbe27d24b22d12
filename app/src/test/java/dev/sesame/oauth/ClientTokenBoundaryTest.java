package dev.sesame.oauth;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sesame.support.Account;
import dev.sesame.support.AppSignIn;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An access token issued to an app is for that app and for UserInfo, nothing else: it never opens Sesame's account
 * API, its single sign-on, or the admin API — as a bearer token or planted in the console's cookie — and it carries
 * the address only with the {@code email} scope. The audit found an administrator's token of an ordinary app opening
 * {@code /admin/v1/*}, and any app's token adding a passkey to its person's account.
 */
class ClientTokenBoundaryTest {
  static final String APP = "https://notes.example";

  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();
  static Http http;
  static final Map<String, String> secrets = new HashMap<>();

  @BeforeAll
  static void clients() {
    http = sesame.http();
    Clients clients = new Clients(sesame.jdbi(), "default");
    secrets.put("notes", clients.create(Map.of("client_id", "notes", "redirect_uris", List.of(APP + "/cb"),
        "grant_types", List.of("authorization_code", "refresh_token")), Client.Source.MANAGED)
        .secret().orElseThrow());
    secrets.put("openid-only", clients.create(Map.of("client_id", "openid-only", "redirect_uris",
        List.of(APP + "/cb"), "scope", "openid"), Client.Source.MANAGED).secret().orElseThrow());
  }

  static JsonNode signInTo(String client, String scope, String cookie) {
    return AppSignIn.codeFlow(sesame, client, secrets.get(client), APP + "/cb", scope, cookie);
  }

  static String basic(String client) {
    return AppSignIn.basic(client, secrets.get(client));
  }

  static String cookieOf(Http.Response signedIn) {
    assertEquals(200, signedIn.status(), signedIn.body());
    return signedIn.headers().get("set-cookie").stream().filter(c -> c.startsWith("sesame_at=")).findFirst()
        .orElseThrow().split(";")[0];
  }

  /** An administrator signed in to the console with a passkey: the console's cookie. */
  static String adminConsole(Account admin) {
    SoftwareAuthenticator device = new PasskeyClient(http).registerNewDevice(admin, sesame.url());
    TestServer.CliResult granted = TestServer.cli(sesame.server(), "admin", "grant", admin.email());
    assertEquals(0, granted.status(), granted.stderr());
    JsonNode options = new PasskeyClient(http).signInOptions(admin.email());
    return cookieOf(http.post("/v1/passkeys/login/verify", Map.of("ceremonyId", options.get("ceremonyId").asText(),
        "credential", device.get(options.get("publicKey"))), "Origin", sesame.url(), "X-Sesame-Session", "cookie"));
  }

  /** Every endpoint of Sesame's own account API, and the first-party authorization step. */
  static final List<String[]> ACCOUNT_API = List.of(
      new String[] {"GET", "/v1/me", null},
      new String[] {"GET", "/v1/sessions", null},
      new String[] {"GET", "/v1/me/passkeys", null},
      new String[] {"POST", "/v1/passkeys/register/options", "{}"},
      new String[] {"POST", "/v1/passkeys/register/verify", "{\"ceremonyId\":\"x\",\"credential\":{}}"},
      new String[] {"PATCH", "/v1/me/passkeys/" + UUID.randomUUID(), "{\"name\":\"x\"}"},
      new String[] {"DELETE", "/v1/me/passkeys/" + UUID.randomUUID(), null},
      new String[] {"DELETE", "/v1/sessions/" + UUID.randomUUID(), null},
      new String[] {"POST", "/v1/sessions/logout", "{}"},
      new String[] {"GET", "/v1/me/profile", null},
      new String[] {"PATCH", "/v1/me/profile", "{\"givenName\":\"Planted\"}"},
      new String[] {"POST", "/v1/authorize", "{\"clientId\":\"openid-only\",\"redirectTo\":\"" + APP + "/cb\"}"});

  static final List<String[]> ADMIN_API = List.of(
      new String[] {"GET", "/admin/v1/users", null},
      new String[] {"GET", "/admin/v1/settings", null},
      new String[] {"GET", "/admin/v1/stats", null},
      new String[] {"GET", "/admin/v1/audit", null},
      new String[] {"GET", "/admin/v1/clients", null},
      new String[] {"POST", "/admin/v1/clients", "{\"client_id\":\"planted\",\"redirect_uris\":[\"https://x.example/cb\"]}"},
      new String[] {"GET", "/admin/v1/webhooks", null});

  @Test
  void an_apps_token_opens_no_sesame_endpoint_as_bearer_or_cookie() {
    Account admin = Account.signUp(http);
    String console = adminConsole(admin);
    assertEquals(200, http.get("/admin/v1/users", "Cookie", console).status(), "the console's own session works");
    JsonNode notes = signInTo("notes", "openid email", console);
    String appToken = notes.get("access_token").asText();
    String appCookie = "sesame_at=" + appToken;
    String[] csrf = {"Origin", sesame.url(), "X-Sesame-CSRF", "1"};

    for (String[] call : ACCOUNT_API) {
      String what = call[0] + " " + call[1];
      assertProblem(http.send(call[0], call[1], call[2], "Authorization", "Bearer " + appToken,
          "Content-Type", "application/json"), 401, "invalid_token");
      assertProblem(http.send(call[0], call[1], call[2], "Cookie", appCookie, "Content-Type", "application/json",
          csrf[0], csrf[1], csrf[2], csrf[3]), 401, "invalid_token");
      assertNotNull(what);
    }
    for (String[] call : ADMIN_API) {
      assertProblem(http.send(call[0], call[1], call[2], "Cookie", appCookie, "Content-Type", "application/json",
          csrf[0], csrf[1], csrf[2], csrf[3]), 401, "invalid_token");
      assertProblem(http.send(call[0], call[1], call[2], "Authorization", "Bearer " + appToken,
          "Content-Type", "application/json"), 401, "invalid_client");
    }
    int planted = sesame.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM oauth_clients "
        + "WHERE client_id = 'planted'").mapTo(Integer.class).one());
    assertEquals(0, planted);

    // Still nothing after a refresh: the app's session is the app's, whatever it was started from.
    Http.Response refreshed = http.post("/v1/token", "grant_type=refresh_token&refresh_token="
        + notes.get("refresh_token").asText(), "Content-Type", "application/x-www-form-urlencoded",
        "Authorization", basic("notes"));
    assertEquals(200, refreshed.status(), refreshed.body());
    String again = refreshed.json().get("access_token").asText();
    assertProblem(http.get("/admin/v1/users", "Cookie", "sesame_at=" + again), 401, "invalid_token");
    assertProblem(http.post("/v1/passkeys/register/options", Map.of(), "Authorization", "Bearer " + again), 401,
        "invalid_token");

    // The app's token is good for what it is for: UserInfo.
    Http.Response info = http.get("/v1/userinfo", "Authorization", "Bearer " + again);
    assertEquals(200, info.status(), info.body());
    assertEquals(admin.userId(), info.json().get("sub").asText());
  }

  @Test
  void an_apps_token_in_the_cookie_is_no_single_sign_on_session() {
    Account person = Account.signUp(http);
    String browser = OpenIdConnectLibraryTest.browserSessionOn(sesame, person.email());
    String appToken = signInTo("notes", "openid", browser).get("access_token").asText();
    // Planted as the cookie of another browser, it must not give codes for other apps.
    Http.Response r = http.get("/authorize?response_type=code&scope=openid&client_id=openid-only&redirect_uri="
        + APP + "/cb", "Cookie", "sesame_at=" + appToken);
    assertEquals(200, r.status(), "the sign-in page, not a redirect with a code: " + r.header("Location"));
    assertFalse(r.body().contains("code="), r.body());
  }

  @Test
  void an_apps_token_names_the_app_as_its_audience_and_the_first_party_token_sesame() throws Exception {
    Account person = Account.signUp(http);
    JWTClaimsSet firstParty = SignedJWT.parse(person.accessToken()).getJWTClaimsSet();
    assertEquals(List.of(sesame.url()), firstParty.getAudience());
    assertEquals("default", firstParty.getStringClaim("client_id"));
    String browser = OpenIdConnectLibraryTest.browserSessionOn(sesame, person.email());
    JWTClaimsSet app = SignedJWT.parse(signInTo("notes", "openid", browser).get("access_token").asText())
        .getJWTClaimsSet();
    assertEquals(List.of("notes"), app.getAudience(), "RFC 9068 §3: the app's own resource");
    assertEquals("notes", app.getStringClaim("client_id"));
  }

  @Test
  void the_address_is_in_an_apps_token_and_its_introspection_only_with_the_email_scope() throws Exception {
    Account person = Account.signUp(http);
    String browser = OpenIdConnectLibraryTest.browserSessionOn(sesame, person.email());
    String without = signInTo("openid-only", "openid", browser).get("access_token").asText();
    JWTClaimsSet claims = SignedJWT.parse(without).getJWTClaimsSet();
    assertNull(claims.getClaim("email"), claims.toString());
    assertNull(claims.getClaim("email_verified"), claims.toString());
    JsonNode introspected = http.post("/v1/introspect", "token=" + without, "Content-Type",
        "application/x-www-form-urlencoded", "Authorization", basic("openid-only")).json();
    assertTrue(introspected.get("active").asBoolean(), introspected.toString());
    assertFalse(introspected.has("email"), introspected.toString());
    assertFalse(introspected.has("email_verified"), introspected.toString());

    String with = signInTo("notes", "openid email", browser).get("access_token").asText();
    assertEquals(person.email(), SignedJWT.parse(with).getJWTClaimsSet().getStringClaim("email"));
    JsonNode both = http.post("/v1/introspect", "token=" + with, "Content-Type",
        "application/x-www-form-urlencoded", "Authorization", basic("notes")).json();
    assertEquals(person.email(), both.get("email").asText(), both.toString());
    // The first-party client's tokens carry no scope and always the address.
    assertEquals(person.email(), SignedJWT.parse(person.accessToken()).getJWTClaimsSet().getStringClaim("email"));
  }

  @Test
  void the_profile_scope_carries_the_name_the_person_gave_and_only_it() throws Exception {
    Account person = Account.signUp(http);
    assertEquals(200, http.send("PATCH", "/v1/me/profile", "{\"givenName\":\" Ana \",\"familyName\":\"Lima\"}",
        "Authorization", "Bearer " + person.accessToken(), "Content-Type", "application/json").status());
    JsonNode names = http.get("/v1/me/profile", person.bearer()).json();
    assertEquals("Ana", names.get("givenName").asText());
    for (String bad : List.of("A\u202Ena", "x".repeat(101), "Ana\u0000")) {
      Http.Response refused = http.send("PATCH", "/v1/me/profile", Http.toJson(Map.of("givenName", bad)),
          "Authorization", "Bearer " + person.accessToken(), "Content-Type", "application/json");
      assertProblem(refused, 400, "invalid_name");
    }
    String browser = OpenIdConnectLibraryTest.browserSessionOn(sesame, person.email());
    JsonNode withProfile = signInTo("notes", "openid profile", browser);
    JWTClaimsSet id = SignedJWT.parse(withProfile.get("id_token").asText()).getJWTClaimsSet();
    assertEquals("Ana Lima", id.getStringClaim("name"));
    assertEquals("Ana", id.getStringClaim("given_name"));
    assertEquals("Lima", id.getStringClaim("family_name"));
    JsonNode info = http.get("/v1/userinfo", "Authorization", "Bearer " + withProfile.get("access_token").asText())
        .json();
    assertEquals("Ana Lima", info.get("name").asText(), info.toString());
    JsonNode without = signInTo("notes", "openid", browser);
    assertNull(SignedJWT.parse(without.get("id_token").asText()).getJWTClaimsSet().getClaim("name"));
    JsonNode infoWithout = http.get("/v1/userinfo", "Authorization", "Bearer " + without.get("access_token")
        .asText()).json();
    assertFalse(infoWithout.has("name"), infoWithout.toString());
    // Cleared: an empty string removes a part; the name is then what is left.
    http.send("PATCH", "/v1/me/profile", "{\"givenName\":\"\"}", "Authorization", "Bearer " + person.accessToken(),
        "Content-Type", "application/json");
    JsonNode cleared = signInTo("notes", "openid profile", browser);
    assertEquals("Lima", SignedJWT.parse(cleared.get("id_token").asText()).getJWTClaimsSet().getStringClaim("name"));
  }

  @Test
  void no_client_may_be_called_like_sesames_own_token_audience() {
    Clients reserving = new Clients(sesame.jdbi(), "default", null, java.util.Set.of("api.example.test"));
    ClientMetadata.Invalid refused = org.junit.jupiter.api.Assertions.assertThrows(ClientMetadata.Invalid.class,
        () -> reserving.create(Map.of("client_id", "api.example.test", "redirect_uris", List.of(APP + "/cb")),
            Client.Source.MANAGED));
    assertTrue(refused.getMessage().contains("token audience"), refused.getMessage());
  }
}
