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
      Map<String, Object> row = server.jdbi().withHandle(h -> h.createQuery("SELECT * FROM signing_keys")
          .mapToMap().one());
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
      assertEquals(1, keys);
      assertEquals(200, http.get("/v1/me", "Authorization", "Bearer " + token).status());
    }
  }

  @Test
  void a_missing_or_wrong_master_key_stops_start_up_with_a_clear_message() {
    String db = TestDatabase.create();
    try (TestServer ignored = TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_MASTER_KEY", MASTER_KEY))) {
      // creates an encrypted key
    }
    ConfigException missing = assertThrows(ConfigException.class,
        () -> TestServer.start(Map.of("SESAME_DATABASE_URL", db)));
    assertTrue(missing.getMessage().startsWith("SESAME_MASTER_KEY: "), missing.getMessage());
    ConfigException wrong = assertThrows(ConfigException.class,
        () -> TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_MASTER_KEY", "x".repeat(40))));
    assertTrue(wrong.getMessage().startsWith("SESAME_MASTER_KEY: does not decrypt"), wrong.getMessage());
  }

  @Test
  void setting_a_master_key_later_encrypts_the_existing_key() {
    String db = TestDatabase.create();
    String kid;
    try (TestServer plain = TestServer.start(Map.of("SESAME_DATABASE_URL", db))) {
      kid = plain.jdbi().withHandle(h -> h.createQuery("SELECT kid FROM signing_keys WHERE encryption = 'none'")
          .mapTo(String.class).one());
    }
    try (TestServer encrypted = TestServer.start(Map.of("SESAME_DATABASE_URL", db, "SESAME_MASTER_KEY", MASTER_KEY))) {
      Map<String, Object> row = encrypted.jdbi().withHandle(h -> h.createQuery("SELECT * FROM signing_keys")
          .mapToMap().one());
      assertEquals(kid, row.get("kid"));
      assertEquals("aes-gcm", row.get("encryption"));
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
  void the_embedded_database_keeps_fsync_on() {
    // The embedded PostgreSQL is the database of record for `java -jar`: its durability settings must hold.
    Map<String, String> env = new HashMap<>(Map.of("SESAME_PORT", Integer.toString(TestServer.freePort()),
        "SESAME_BIND_HOST", "127.0.0.1"));
    env.put("SESAME_DATA_DIR", System.getProperty("java.io.tmpdir") + "/sesame-fsync-" + System.nanoTime());
    try (Main main = new Main(Config.load(env)).start()) {
      String url = "jdbc:postgresql://127.0.0.1:" + embeddedPort(env.get("SESAME_DATA_DIR")) + "/postgres?user=postgres";
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
