package dev.sesame.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.TestDatabase;
import dev.sesame.support.TestServer;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

class KeyRotationTest {
  static final String SHARED_URL = "http://localhost:18080";

  static String kidOf(String token) throws Exception {
    return SignedJWT.parse(token).getHeader().getKeyID();
  }

  static String email() {
    return "r-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
  }

  @Test
  void keys_rotate_on_demand_without_breaking_anyone() throws Exception {
    try (TestServer server = TestServer.start()) {
      Http http = server.http();
      JsonNode before = DevMailbox.signIn(http, email());
      String oldKid = kidOf(before.get("access_token").asText());

      TestServer.CliResult rotated = TestServer.cli(server, "keys", "rotate");
      assertEquals(0, rotated.status(), rotated.stderr());
      // Running nodes pick the new key up on their next reload (every minute); here the test triggers it.
      TestServer.signingKeys(server).reload();

      JsonNode after = DevMailbox.signIn(http, email());
      String newKid = kidOf(after.get("access_token").asText());
      assertNotEquals(oldKid, newKid, "the new key signs from the moment it is active");
      JWKSet jwks = JWKSet.parse(http.get("/.well-known/jwks.json").body());
      assertTrue(jwks.getKeyByKeyId(oldKid) != null && jwks.getKeyByKeyId(newKid) != null, "both published");
      assertEquals(200, http.get("/v1/me", "Authorization", "Bearer " + before.get("access_token").asText())
          .status(), "tokens of the retired key still verify");
      assertEquals(200, http.get("/v1/me", "Authorization", "Bearer " + after.get("access_token").asText()).status());
      assertTrue(TestServer.cli(server, "keys", "list").stdout().contains(newKid));

      // Once every token the old key signed has expired, it leaves the key set.
      server.jdbi().useHandle(h -> h.execute(
          "UPDATE signing_keys SET retired_at = now() - interval '1 day' WHERE kid = ?", oldKid));
      TestServer.signingKeys(server).reload();
      assertTrue(JWKSet.parse(http.get("/.well-known/jwks.json").body()).getKeyByKeyId(oldKid) == null);
    }
  }

  @Test
  void keys_rotate_automatically_and_nodes_agree_after_a_reload() {
    String db = TestDatabase.create();
    Map<String, String> env = Map.of("SESAME_DATABASE_URL", db, "SESAME_PUBLIC_URL", SHARED_URL,
        "SESAME_KEY_ROTATION", "1h");
    try (TestServer a = TestServer.start(env); TestServer b = TestServer.start(env)) {
      String first = TestServer.signingKeys(a).current().kid();
      assertEquals(first, TestServer.signingKeys(b).current().kid());
      a.jdbi().useHandle(h -> h.execute("UPDATE signing_keys SET activated_at = now() - interval '2 hours'"));
      TestServer.signingKeys(a).reload(); // node A's minute comes first: it rotates
      String second = TestServer.signingKeys(a).current().kid();
      assertNotEquals(first, second);
      TestServer.signingKeys(b).reload(); // node B's minute: it adopts the new key instead of rotating again
      assertEquals(second, TestServer.signingKeys(b).current().kid());
      int keys = a.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM signing_keys").mapTo(Integer.class)
          .one());
      assertEquals(2, keys);
      assertEquals(a.http().get("/.well-known/jwks.json").body(), b.http().get("/.well-known/jwks.json").body());
    }
  }

  @Test
  void rs256_signs_when_chosen_and_earlier_es256_tokens_keep_working() throws Exception {
    String db = TestDatabase.create();
    String esToken;
    try (TestServer es = TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_PUBLIC_URL", SHARED_URL))) {
      esToken = DevMailbox.signIn(es.http(), email()).get("access_token").asText();
      assertEquals(JWSAlgorithm.ES256, SignedJWT.parse(esToken).getHeader().getAlgorithm());
    }
    try (TestServer rs = TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_PUBLIC_URL", SHARED_URL,
        "SESAME_TOKEN_ALG", "RS256"))) {
      Http http = rs.http();
      String rsToken = DevMailbox.signIn(http, email()).get("access_token").asText();
      assertEquals(JWSAlgorithm.RS256, SignedJWT.parse(rsToken).getHeader().getAlgorithm());
      assertEquals(200, http.get("/v1/me", "Authorization", "Bearer " + rsToken).status());
      assertEquals(200, http.get("/v1/me", "Authorization", "Bearer " + esToken).status(),
          "switching algorithms rotates; the ES256 key stays published until its tokens expire");
      assertEquals("[\"ES256\",\"RS256\"]", http.get("/.well-known/oauth-authorization-server").json()
          .get("access_token_signing_alg_values_supported").toString());
      JWKSet jwks = JWKSet.parse(http.get("/.well-known/jwks.json").body());
      assertTrue(jwks.getKeys().stream().anyMatch(k -> k.getKeyType().getValue().equals("RSA")));
      assertTrue(jwks.getKeys().stream().noneMatch(k -> k.isPrivate()));
    }
  }
}
