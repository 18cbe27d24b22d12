package dev.sesame.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.Main;
import dev.sesame.config.Config;
import dev.sesame.config.ConfigException;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.TestDatabase;
import dev.sesame.support.TestServer;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

class SigningKeysTest {
  static final String MASTER_KEY = "correct horse battery staple, and then some more";
  /** Nodes behind one load balancer share the public URL, and with it the token issuer and audience. */
  static final String SHARED_URL = "http://localhost:18080";

  @Test
  void with_a_master_key_private_keys_are_encrypted_at_rest_and_survive_restarts() {
    String db = TestDatabase.create();
    String kid;
    String token;
    try (TestServer server = TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_MASTER_KEY", MASTER_KEY,
        "SESAME_PUBLIC_URL", SHARED_URL))) {
      Map<String, Object> row = server.jdbi().withHandle(h -> h.createQuery(
          "SELECT * FROM signing_keys WHERE alg = 'ES256'").mapToMap().one());
      assertEquals("aes-gcm", row.get("encryption"));
      byte[] stored = (byte[]) row.get("private_key");
      assertThrows(Exception.class, () -> KeyFactory.getInstance("EC")
          .generatePrivate(new PKCS8EncodedKeySpec(stored)), "stored bytes are not a usable key");
      kid = (String) row.get("kid");
      token = DevMailbox.signIn(server.http(), "keys@example.com").get("access_token").asText();
    }
    // Same database, same master key: the same key is loaded, and earlier tokens still verify.
    try (TestServer again = TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_MASTER_KEY", MASTER_KEY,
        "SESAME_PUBLIC_URL", SHARED_URL))) {
      Http http = again.http();
      assertTrue(http.get("/.well-known/jwks.json").body().contains(kid));
      int keys = again.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM signing_keys")
          .mapTo(Integer.class).one());
      assertEquals(2, keys, "one ES256 and one RS256 key, none added by the restart");
      assertEquals(200, http.get("/v1/me", "Authorization", "Bearer " + token).status());
    }
  }

  @Test
  void a_missing_or_wrong_master_key_stops_start_up_with_a_clear_message() {
    String db = TestDatabase.create();
    try (TestServer ignored = TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_MASTER_KEY", MASTER_KEY))) {
      // creates an encrypted key
    }
    // Unset, the node uses the key generated in its data directory: not the one these keys were stored with.
    ConfigException missing = assertThrows(ConfigException.class,
        () -> TestServer.start(Map.of("SESAME_DATABASE_URL", db)));
    assertTrue(missing.getMessage().startsWith("SESAME_MASTER_KEY: does not decrypt"), missing.getMessage());
    assertTrue(missing.getMessage().contains("master.key"), missing.getMessage());
    ConfigException wrong = assertThrows(ConfigException.class,
        () -> TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_MASTER_KEY", "x".repeat(40))));
    assertTrue(wrong.getMessage().startsWith("SESAME_MASTER_KEY: does not decrypt"), wrong.getMessage());
  }

  @Test
  void without_a_master_key_the_generated_one_encrypts_the_keys() {
    try (TestServer server = TestServer.start()) {
      Map<String, Object> row = server.jdbi().withHandle(h -> h.createQuery(
          "SELECT * FROM signing_keys WHERE alg = 'ES256'").mapToMap().one());
      assertEquals("aes-gcm", row.get("encryption"), "never stored in clear by default");
      KeyEncryption generated = new KeyEncryption(dev.sesame.config.DataDirSecrets.masterKey(server.config()));
      assertTrue(generated.decrypt((byte[]) row.get("private_key"), (String) row.get("kid")).length > 0);
    }
  }

  @Test
  void setting_a_master_key_later_encrypts_the_existing_key() {
    String db = TestDatabase.create();
    String kid;
    try (TestServer plain = TestServer.start(Map.of("SESAME_DATABASE_URL", db))) {
      // Keys stored in clear, as versions before the generated master key did.
      KeyEncryption generated = new KeyEncryption(dev.sesame.config.DataDirSecrets.masterKey(plain.config()));
      kid = plain.jdbi().withHandle(h -> {
        for (Map<String, Object> row : h.createQuery("SELECT kid, private_key FROM signing_keys").mapToMap().list()) {
          String k = (String) row.get("kid");
          h.createUpdate("UPDATE signing_keys SET private_key = :plain, encryption = 'none' WHERE kid = :kid")
              .bind("plain", generated.decrypt((byte[]) row.get("private_key"), k)).bind("kid", k).execute();
        }
        return h.createQuery("SELECT kid FROM signing_keys WHERE alg = 'ES256'").mapTo(String.class).one();
      });
    }
    try (TestServer encrypted = TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_MASTER_KEY", MASTER_KEY))) {
      Map<String, Object> row = encrypted.jdbi().withHandle(h -> h.createQuery(
          "SELECT * FROM signing_keys WHERE alg = 'ES256'").mapToMap().one());
      assertEquals(kid, row.get("kid"));
      List<String> modes = encrypted.jdbi().withHandle(h -> h.createQuery(
          "SELECT DISTINCT encryption FROM signing_keys").mapTo(String.class).list());
      assertEquals(List.of("aes-gcm"), modes, "both keys encrypted at the start");
    }
  }

  @Test
  void two_nodes_on_one_database_share_one_signing_key() {
    String db = TestDatabase.create();
    try (TestServer a = TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_PUBLIC_URL", SHARED_URL));
         TestServer b = TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_PUBLIC_URL", SHARED_URL))) {
      assertEquals(a.http().get("/.well-known/jwks.json").body(), b.http().get("/.well-known/jwks.json").body());
      // Signed in on node A, recognised by node B.
      String token = DevMailbox.signIn(a.http(), "two-nodes@example.com").get("access_token").asText();
      assertEquals(200, b.http().get("/v1/me", "Authorization", "Bearer " + token).status());
      assertNotEquals(a.url(), b.url());
    }
  }

  @Test
  void an_es256_and_an_rs256_key_always_sign_and_keys_rotate_renews_both() throws Exception {
    try (TestServer server = TestServer.start()) {
      SigningKeys.KeyRing ring = TestServer.signingKeys(server).current();
      String ec = ring.signing(com.nimbusds.jose.JWSAlgorithm.ES256).kid();
      String rsa = ring.signing(com.nimbusds.jose.JWSAlgorithm.RS256).kid();
      assertEquals(ec, ring.kid(), "access tokens: SESAME_TOKEN_ALG, ES256 by default");
      com.nimbusds.jose.jwk.JWKSet jwks = com.nimbusds.jose.jwk.JWKSet.parse(
          server.http().get("/.well-known/jwks.json").body());
      assertEquals("EC", jwks.getKeyByKeyId(ec).getKeyType().getValue());
      assertEquals("RSA", jwks.getKeyByKeyId(rsa).getKeyType().getValue());
      TestServer.CliResult rotated = TestServer.cli(server, "keys", "rotate");
      assertEquals(0, rotated.status(), rotated.stderr());
      int pending = server.jdbi().withHandle(h -> h.createQuery(
          "SELECT count(DISTINCT alg) FROM signing_keys WHERE activated_at > now()").mapTo(Integer.class).one());
      assertEquals(2, pending, "a new key of each kind is published, waiting to sign");
    }
  }

  @Test
  void a_node_meeting_a_key_it_has_not_loaded_looks_again() {
    // Two nodes' key rings on one database, neither listening: node 1 rotates, node 2 has not heard of it.
    try (TestServer server = TestServer.start()) {
      java.util.Optional<dev.sesame.config.Secret> key =
          java.util.Optional.of(dev.sesame.config.DataDirSecrets.masterKey(server.config()));
      java.time.Duration ttl = java.time.Duration.ofMinutes(15);
      SigningKeys node1 = new SigningKeys(server.jdbi(), key, ttl, "ES256", java.time.Duration.ofDays(30),
          java.time.Duration.ofMinutes(15));
      SigningKeys node2 = new SigningKeys(server.jdbi(), key, ttl, "ES256", java.time.Duration.ofDays(30),
          java.time.Duration.ofMinutes(15));
      AccessTokens tokens1 = new AccessTokens(node1, server.url(), server.url(), "default", ttl);
      AccessTokens tokens2 = new AccessTokens(node2, server.url(), server.url(), "default", ttl);
      String kid = node1.rotate(java.time.Duration.ZERO);
      assertEquals(kid, node1.current().kid());
      assertNotEquals(kid, node2.current().kid(), "node 2 has not reloaded");
      dev.sesame.users.User user = new dev.sesame.users.User(java.util.UUID.randomUUID(), "n@example.com", true,
          java.time.Instant.now(), null);
      String token = tokens1.issue(user, java.util.UUID.randomUUID(), java.time.Instant.now(), "email",
          java.util.List.of("otp"));
      assertEquals(user.id(), tokens2.verify(token).userId(), "node 2 reloads on the unknown key id and accepts");
      assertTrue(node2.current().publicKeys().getKeyByKeyId(kid) != null);
    }
  }

  @Test
  void the_embedded_database_keeps_fsync_on() throws Exception {
    // The embedded PostgreSQL is the database of record for `java -jar`: its durability settings must hold.
    Map<String, String> env = new HashMap<>(Map.of("SESAME_PORT", Integer.toString(TestServer.freePort()),
        "SESAME_BIND_HOST", "127.0.0.1"));
    env.put("SESAME_DATA_DIR", System.getProperty("java.io.tmpdir") + "/sesame-fsync-" + System.nanoTime());
    try (Main main = new Main(Config.load(env)).start()) {
      String password = java.nio.file.Files.readString(java.nio.file.Path.of(env.get("SESAME_DATA_DIR"),
          "postgres.password")).strip();
      String url = "jdbc:postgresql://127.0.0.1:" + embeddedPort(env.get("SESAME_DATA_DIR"))
          + "/postgres?user=postgres&password=" + password;
      Jdbi jdbi = Jdbi.create(url);
      assertEquals("on", jdbi.withHandle(h -> h.createQuery("SHOW fsync").mapTo(String.class).one()));
      assertEquals("on", jdbi.withHandle(h -> h.createQuery("SHOW synchronous_commit").mapTo(String.class).one()));
      assertEquals("on", jdbi.withHandle(h -> h.createQuery("SHOW full_page_writes").mapTo(String.class).one()));
    }
  }

  private static int embeddedPort(String dataDir) {
    try {
      // postmaster.pid line 4 is the port the server listens on.
      return Integer.parseInt(java.nio.file.Files.readAllLines(
          java.nio.file.Path.of(dataDir, "postgres", "postmaster.pid")).get(3).strip());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
