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
import dev.sesame.support.SigningKeyWaits;
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
      String newKid = rotated.stdout().replaceAll("(?s).*Published key (\\S+);.*", "$1").strip();
      // The running node hears of it at once (LISTEN/NOTIFY) and publishes it before anything is signed with it...
      SigningKeyWaits.awaitPublished(http, newKid);
      assertEquals(oldKid, kidOf(DevMailbox.signIn(http, email()).get("access_token").asText()));
      // ...and switches by itself when its time comes.
      JsonNode after = SigningKeyWaits.awaitSignedWith(http, newKid);
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
  void after_keys_rotate_every_node_publishes_first_then_all_switch_together() throws Exception {
    String db = TestDatabase.create();
    Map<String, String> env = Map.of("SESAME_DATABASE_URL", db, "SESAME_PUBLIC_URL", SHARED_URL);
    try (TestServer a = TestServer.start(env); TestServer b = TestServer.start(env)) {
      String oldKid = TestServer.signingKeys(a).current().kid();
      TestServer.CliResult rotated = TestServer.cli(a, "keys", "rotate");
      assertEquals(0, rotated.status(), rotated.stderr());
      String newKid = rotated.stdout().replaceAll("(?s).*Published key (\\S+);.*", "$1").strip();
      // No node signs with it before every node publishes it.
      SigningKeyWaits.awaitPublished(a.http(), newKid);
      SigningKeyWaits.awaitPublished(b.http(), newKid);
      JsonNode fromA = SigningKeyWaits.awaitSignedWith(a.http(), newKid);
      JsonNode fromB = SigningKeyWaits.awaitSignedWith(b.http(), newKid);
      assertEquals(200, b.http().get("/v1/me", "Authorization", "Bearer " + fromA.get("access_token").asText())
          .status(), "A's new tokens are good on B");
      assertEquals(200, a.http().get("/v1/me", "Authorization", "Bearer " + fromB.get("access_token").asText())
          .status());
      assertTrue(JWKSet.parse(b.http().get("/.well-known/jwks.json").body()).getKeyByKeyId(oldKid) != null,
          "the old key stays published for its tokens");
    }
  }

  @Test
  void scheduled_rotation_publishes_the_next_key_before_it_signs_and_nodes_agree() throws Exception {
    String db = TestDatabase.create();
    Map<String, String> env = Map.of("SESAME_DATABASE_URL", db, "SESAME_PUBLIC_URL", SHARED_URL,
        "SESAME_KEY_ROTATION", "1h", "SESAME_KEY_PREPUBLISH", "15m");
    try (TestServer a = TestServer.start(env); TestServer b = TestServer.start(env)) {
      String first = TestServer.signingKeys(a).current().kid();
      assertEquals(first, TestServer.signingKeys(b).current().kid());

      // 50 minutes into a 1-hour key: within 15 minutes of rotation, so the next key is published, not used.
      a.jdbi().useHandle(h -> h.execute(
          "UPDATE signing_keys SET activated_at = now() - interval '50 minutes' WHERE alg = 'ES256'"));
      TestServer.signingKeys(a).reload();
      TestServer.signingKeys(b).reload();
      TestServer.signingKeys(a).reload(); // a second look creates no third key
      assertEquals(first, TestServer.signingKeys(a).current().kid(), "the current key still signs");
      assertEquals(first, TestServer.signingKeys(b).current().kid());
      JWKSet published = JWKSet.parse(a.http().get("/.well-known/jwks.json").body());
      assertEquals(3, published.getKeys().size(), "the next ES256 key is in the JWKS before any token uses it "
          + "(beside the RS256 key)");
      String next = published.getKeys().stream().filter(k -> k.getKeyType().getValue().equals("EC"))
          .map(k -> k.getKeyID()).filter(k -> !k.equals(first)).findFirst().orElseThrow();
      assertEquals(a.http().get("/.well-known/jwks.json").body(), b.http().get("/.well-known/jwks.json").body());
      assertTrue(kidOf(DevMailbox.signIn(a.http(), email()).get("access_token").asText()).equals(first));

      // Its time comes: whichever node looks first switches, the other follows at its next look.
      a.jdbi().useHandle(h -> h.execute("UPDATE signing_keys SET activated_at = now() - interval '1 second'"
          + " WHERE kid = ?", next));
      TestServer.signingKeys(b).reload();
      assertEquals(next, TestServer.signingKeys(b).current().kid());
      TestServer.signingKeys(a).reload();
      assertEquals(next, TestServer.signingKeys(a).current().kid());
      assertEquals(next, kidOf(DevMailbox.signIn(a.http(), email()).get("access_token").asText()));
      JWKSet after = JWKSet.parse(b.http().get("/.well-known/jwks.json").body());
      assertTrue(after.getKeyByKeyId(first) != null, "the retired key stays until its tokens expire");
      int keys = a.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM signing_keys WHERE alg = 'ES256'")
          .mapTo(Integer.class).one());
      assertEquals(2, keys);
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
      assertEquals("[\"RS256\"]", http.get("/.well-known/oauth-authorization-server").json()
          .get("access_token_signing_alg_values_supported").toString());
      JWKSet jwks = JWKSet.parse(http.get("/.well-known/jwks.json").body());
      assertTrue(jwks.getKeys().stream().anyMatch(k -> k.getKeyType().getValue().equals("RSA")));
      assertTrue(jwks.getKeys().stream().noneMatch(k -> k.isPrivate()));
    }
  }
}
