package dev.sesame.backends;

import static dev.sesame.support.Problems.assertOAuthError;
import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.TestServer;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What backends use: discovery metadata, sessions, introspection with service keys, revocation. */
class BackendApiTest {
  static final String MAC_CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like "
      + "Gecko) Chrome/156.0.0.0 Safari/537.36";
  static TestServer server;
  static Http http;
  static String serviceKey;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    http = server.http();
    serviceKey = TestServer.cli(server, "service-key", "create", "billing").stdout().strip();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String email() {
    return "k-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
  }

  static Http.Response introspect(String token, String... extra) {
    String body = "token=" + token + (extra.length > 0 ? "&token_type_hint=" + extra[0] : "");
    return http.post("/v1/introspect", body, "Content-Type", "application/x-www-form-urlencoded",
        "Authorization", "Bearer " + serviceKey);
  }

  @Test
  void metadata_describes_what_the_server_does() {
    JsonNode m = http.get("/.well-known/oauth-authorization-server").json();
    String issuer = server.url();
    assertEquals(issuer, m.get("issuer").asText());
    assertEquals(issuer + "/.well-known/jwks.json", m.get("jwks_uri").asText());
    assertEquals(issuer + "/v1/token", m.get("token_endpoint").asText());
    assertEquals(issuer + "/authorize", m.get("authorization_endpoint").asText());
    assertEquals(issuer + "/v1/introspect", m.get("introspection_endpoint").asText());
    assertEquals(issuer + "/v1/revoke", m.get("revocation_endpoint").asText());
    assertEquals(issuer + "/v1/userinfo", m.get("userinfo_endpoint").asText());
    assertEquals("[\"authorization_code\",\"refresh_token\"]", m.get("grant_types_supported").toString());
    assertEquals("[\"code\"]", m.get("response_types_supported").toString());
    assertEquals("[\"S256\"]", m.get("code_challenge_methods_supported").toString());
    assertEquals("[\"ES256\"]", m.get("access_token_signing_alg_values_supported").toString());
    // Every advertised endpoint exists (a POST without a body is a 4xx problem, never a 404).
    for (String endpoint : List.of("token_endpoint", "introspection_endpoint", "revocation_endpoint")) {
      int status = http.post(m.get(endpoint).asText().substring(issuer.length()), "").status();
      assertTrue(status == 400 || status == 401, endpoint + " " + status);
    }
    assertEquals(200, http.get("/authorize?client_id=default&redirect_uri=" + issuer + "/x&response_type=code"
        + "&code_challenge=" + "c".repeat(43)).status());
    assertEquals("[\"client_secret_basic\",\"client_secret_post\",\"none\"]",
        m.get("token_endpoint_auth_methods_supported").toString());
    assertEquals("[\"client_secret_basic\",\"client_secret_post\",\"none\"]",
        m.get("revocation_endpoint_auth_methods_supported").toString());
    // Only registered method names (a service key is Sesame's own Bearer scheme, documented instead).
    assertEquals("[\"client_secret_basic\",\"client_secret_post\"]",
        m.get("introspection_endpoint_auth_methods_supported").toString());
  }

  @Test
  void sessions_are_listed_and_revoked_by_their_owner() {
    String email = email();
    JsonNode laptop = DevMailbox.signIn(http, email);
    JsonNode phone = signInWithAgent(email, MAC_CHROME);
    JsonNode other = DevMailbox.signIn(http, email());

    JsonNode list = http.get("/v1/sessions", "Authorization", bearer(laptop)).json().get("sessions");
    assertEquals(2, list.size());
    JsonNode current = find(list, laptop.get("session_id").asText());
    assertTrue(current.get("current").asBoolean());
    assertEquals("email", current.get("authMethod").asText());
    assertEquals("127.0.0.1", current.get("ip").asText());
    for (String field : List.of("id", "createdAt", "lastUsedAt", "device")) {
      assertTrue(current.has(field), field);
    }
    JsonNode phoneView = find(list, phone.get("session_id").asText());
    assertFalse(phoneView.get("current").asBoolean());
    assertEquals("Chrome on macOS", phoneView.get("device").asText());

    assertProblem(http.send("DELETE", "/v1/sessions/" + other.get("session_id").asText(), null,
        "Authorization", bearer(laptop)), 404, "session_not_found");
    assertProblem(http.send("DELETE", "/v1/sessions/nope", null, "Authorization", bearer(laptop)), 404,
        "session_not_found");
    assertEquals(204, http.send("DELETE", "/v1/sessions/" + phone.get("session_id").asText(), null,
        "Authorization", bearer(laptop)).status());
    assertProblem(http.post("/v1/sessions/refresh", Map.of("refresh_token", phone.get("refresh_token").asText())),
        401, "session_revoked");
    assertEquals(1, http.get("/v1/sessions", "Authorization", bearer(laptop)).json().get("sessions").size());

    JsonNode tablet = DevMailbox.signIn(http, email);
    assertEquals(204, http.post("/v1/sessions/logout", Map.of("all", true), "Authorization", bearer(tablet))
        .status());
    assertProblem(http.get("/v1/me", "Authorization", bearer(laptop)), 401, "invalid_token");
    assertProblem(http.get("/v1/me", "Authorization", bearer(tablet)), 401, "invalid_token");
    assertEquals(200, http.get("/v1/me", "Authorization", bearer(other)).status(), "other users are untouched");
    assertProblem(http.post("/v1/sessions/logout", Map.of("all", "yes"), "Authorization", bearer(other)), 400,
        "invalid_request");
  }

  @Test
  void introspection_needs_a_live_service_key() {
    JsonNode tokens = DevMailbox.signIn(http, email());
    String token = tokens.get("access_token").asText();
    assertOAuthError(http.post("/v1/introspect", "token=" + token, "Content-Type", "application/x-www-form-urlencoded"),
        401, "invalid_client");
    assertOAuthError(http.post("/v1/introspect", "token=" + token, "Content-Type", "application/x-www-form-urlencoded",
        "Authorization", "Bearer " + token), 401, "invalid_client");
    assertOAuthError(http.post("/v1/introspect", "token=" + token, "Content-Type", "application/x-www-form-urlencoded",
        "Authorization", "Bearer sk_not-a-key"), 401, "invalid_client");
    String temporary = TestServer.cli(server, "service-key", "create", "temporary").stdout().strip();
    assertEquals(200, http.post("/v1/introspect", "token=" + token, "Content-Type",
        "application/x-www-form-urlencoded", "Authorization", "Bearer " + temporary).status());
    assertEquals(0, TestServer.cli(server, "service-key", "revoke", "temporary").status());
    assertOAuthError(http.post("/v1/introspect", "token=" + token, "Content-Type", "application/x-www-form-urlencoded",
        "Authorization", "Bearer " + temporary), 401, "invalid_client");
    String listed = TestServer.cli(server, "service-key", "list").stdout();
    assertTrue(listed.contains("billing") && listed.contains("temporary") && listed.contains("revoked"), listed);
    assertFalse(listed.contains(temporary), "keys are never shown again");
    assertEquals(2, TestServer.cli(server, "service-key", "create", "billing").status(), "names are unique");
    int hashes = server.jdbi().withHandle(h -> h.createQuery(
        "SELECT count(*) FROM service_keys WHERE encode(key_hash, 'escape') LIKE '%sk_%'").mapTo(Integer.class).one());
    assertEquals(0, hashes, "stored as hashes only");
  }

  @Test
  void introspection_reflects_revocation_at_once() {
    String email = email();
    JsonNode tokens = DevMailbox.signIn(http, email);
    String access = tokens.get("access_token").asText();
    JsonNode active = introspect(access).json();
    assertTrue(active.get("active").asBoolean());
    assertEquals(tokens.get("user").get("id").asText(), active.get("sub").asText());
    assertEquals("default", active.get("client_id").asText());
    assertEquals(server.url(), active.get("iss").asText());
    assertEquals(server.url(), active.get("aud").asText());
    assertEquals(tokens.get("session_id").asText(), active.get("sid").asText());
    assertEquals("access_token", active.get("token_type").asText());
    assertEquals(email, active.get("email").asText());
    assertTrue(active.get("exp").asLong() > active.get("iat").asLong());

    JsonNode refresh = introspect(tokens.get("refresh_token").asText(), "refresh_token").json();
    assertTrue(refresh.get("active").asBoolean());
    assertEquals("refresh_token", refresh.get("token_type").asText());

    assertEquals(204, http.post("/v1/sessions/logout", "", "Authorization", "Bearer " + access).status());
    assertEquals("{\"active\":false}", introspect(access).body(), "signed out: inactive at once");
    assertEquals("{\"active\":false}", introspect(tokens.get("refresh_token").asText()).body());
    assertEquals("{\"active\":false}", introspect(access.substring(0, access.length() - 4) + "AAAA").body());
    assertEquals("{\"active\":false}", introspect("garbage").body());
  }

  @Test
  void rotated_refresh_tokens_and_deleted_users_are_inactive() {
    JsonNode tokens = DevMailbox.signIn(http, email());
    JsonNode next = http.post("/v1/sessions/refresh", Map.of("refresh_token", tokens.get("refresh_token").asText()))
        .json();
    assertFalse(introspect(tokens.get("refresh_token").asText()).json().get("active").asBoolean());
    assertTrue(introspect(next.get("access_token").asText()).json().get("active").asBoolean());
    server.jdbi().useHandle(h -> h.execute("DELETE FROM users WHERE id = ?",
        UUID.fromString(tokens.get("user").get("id").asText())));
    assertFalse(introspect(next.get("access_token").asText()).json().get("active").asBoolean());
  }

  @Test
  void revocation_ends_the_session_and_reveals_nothing() {
    JsonNode tokens = DevMailbox.signIn(http, email());
    Http.Response r = http.post("/v1/revoke", "token=" + tokens.get("refresh_token").asText(),
        "Content-Type", "application/x-www-form-urlencoded");
    assertEquals(200, r.status(), r.body());
    assertProblem(http.get("/v1/me", "Authorization", bearer(tokens)), 401, "invalid_token");
    assertEquals(200, http.post("/v1/revoke", Map.of("token", "unknown")).status(), "unknown tokens: same answer");
    assertOAuthError(http.post("/v1/revoke", Map.of()), 400, "invalid_request");
  }

  @Test
  void session_lifetimes_are_enforced_on_refresh_and_in_introspection() {
    try (TestServer limited = TestServer.start(Map.of("SESAME_SESSION_IDLE_TTL", "10m",
        "SESAME_SESSION_MAX_TTL", "1h"))) {
      Http h = limited.http();
      JsonNode tokens = DevMailbox.signIn(h, email());
      assertTrue(tokens.get("refresh_expires_in").asLong() <= 600, "the refresh token dies with idleness");
      UUID sid = UUID.fromString(tokens.get("session_id").asText());
      // Idle too long.
      limited.jdbi().useHandle(x -> x.execute("UPDATE sessions SET expires_at = now() - interval '1 second',"
          + " last_used_at = now() - interval '11 minutes' WHERE id = ?", sid));
      assertProblem(h.post("/v1/sessions/refresh", Map.of("refresh_token", tokens.get("refresh_token").asText())),
          401, "session_expired");
      // Active, but past the absolute maximum.
      JsonNode other = DevMailbox.signIn(h, email());
      limited.jdbi().useHandle(x -> x.execute("UPDATE sessions SET created_at = now() - interval '61 minutes'"
          + " WHERE id = ?", UUID.fromString(other.get("session_id").asText())));
      assertProblem(h.post("/v1/sessions/refresh", Map.of("refresh_token", other.get("refresh_token").asText())),
          401, "session_expired");
      // Five minutes before the maximum: the exchange works, and neither the token nor the session outlives it.
      JsonNode late = DevMailbox.signIn(h, email());
      UUID lateId = UUID.fromString(late.get("session_id").asText());
      limited.jdbi().useHandle(x -> x.execute("UPDATE sessions SET created_at = now() - interval '55 minutes'"
          + " WHERE id = ?", lateId));
      Http.Response refreshed = h.post("/v1/sessions/refresh", Map.of("refresh_token",
          late.get("refresh_token").asText()));
      assertEquals(200, refreshed.status(), refreshed.body());
      long left = refreshed.json().get("refresh_expires_in").asLong();
      assertTrue(left > 280 && left <= 300, "capped by the session's maximum: " + left);
      long sessionLeft = limited.jdbi().withHandle(x -> x.createQuery(
          "SELECT extract(epoch FROM expires_at - now())::bigint FROM sessions WHERE id = ?").bind(0, lateId)
          .mapTo(Long.class).one());
      assertTrue(sessionLeft > 280 && sessionLeft <= 300, "session expiry capped too: " + sessionLeft);
    }
  }

  static JsonNode signInWithAgent(String email, String userAgent) {
    Http.Response started = http.post("/v1/email/start", Map.of("email", email));
    return http.post("/v1/email/verify", Map.of("flowId", started.json().get("flowId").asText(),
        "code", DevMailbox.latestCode(http, email)), "User-Agent", userAgent).json();
  }

  static String bearer(JsonNode tokens) {
    return "Bearer " + tokens.get("access_token").asText();
  }

  static JsonNode find(JsonNode list, String id) {
    for (JsonNode n : list) {
      if (n.get("id").asText().equals(id)) {
        return n;
      }
    }
    throw new AssertionError(id + " not in " + list);
  }
}
