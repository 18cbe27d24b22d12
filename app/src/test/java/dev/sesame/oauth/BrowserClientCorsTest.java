package dev.sesame.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * CORS for browser-based OAuth clients: the origins a registered client declared ({@code web_origins}) may call the
 * token, UserInfo and revocation endpoints, and nothing else of the API; discovery and JWKS are readable anywhere.
 */
class BrowserClientCorsTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();

  @BeforeAll
  static void register() {
    new Clients(sesame.jdbi(), "default").create(Map.of("client_id", "spa", "token_endpoint_auth_method", "none",
        "redirect_uris", List.of("https://spa.example/cb"), "web_origins", List.of("https://spa.example")),
        Client.Source.MANAGED);
  }

  static Http.Response preflight(String path, String origin) {
    return sesame.http().send("OPTIONS", path, null, "Origin", origin, "Access-Control-Request-Method", "POST");
  }

  @Test
  void a_clients_web_origin_may_call_the_endpoints_a_browser_client_needs() {
    for (String path : List.of("/v1/token", "/v1/userinfo", "/v1/revoke")) {
      Http.Response ok = preflight(path, "https://spa.example");
      assertEquals(204, ok.status(), path);
      assertEquals("https://spa.example", ok.header("Access-Control-Allow-Origin"), path);
      assertEquals(403, preflight(path, "https://evil.example").status(), path);
    }
    Http.Response token = sesame.http().post("/v1/token", "grant_type=refresh_token&refresh_token=x",
        "Content-Type", "application/x-www-form-urlencoded", "Origin", "https://spa.example");
    assertEquals(400, token.status());
    assertEquals("https://spa.example", token.header("Access-Control-Allow-Origin"),
        "the error is readable by the app too");
    // Not the rest of the API: that is SESAME_ALLOWED_ORIGINS' to grant.
    assertEquals(403, preflight("/v1/email/start", "https://spa.example").status());
    assertNull(sesame.http().get("/v1/me", "Origin", "https://spa.example").header("Access-Control-Allow-Origin"));
  }

  @Test
  void discovery_and_keys_are_readable_from_any_origin() {
    for (String path : List.of("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json")) {
      assertEquals("*", sesame.http().get(path, "Origin", "https://anywhere.example")
          .header("Access-Control-Allow-Origin"), path);
    }
  }
}
