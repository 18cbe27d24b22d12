package dev.sesame.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.support.Account;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code users export} on one Sesame and {@code users import} on another with the same RP ID: the people and their
 * passkeys move, the passkey signs in there (software authenticator), a second import changes nothing, and a file
 * with a wrong entry imports nothing and says which entries are wrong.
 */
class UserTransferTest {
  @RegisterExtension
  static final SesameServer source = SesameServer.withDefaults();
  @RegisterExtension
  static final SesameServer target = SesameServer.withDefaults();
  static final ObjectMapper JSON = new ObjectMapper();

  static int users(SesameServer server) {
    return server.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM users").mapTo(Integer.class).one());
  }

  /** The source's export, cut down to these people (the class's tests share the two servers). */
  static Path exportOf(Path dir, String... emails) throws Exception {
    Path all = dir.resolve("all.json");
    TestServer.CliResult exported = TestServer.cli(source.server(), "users", "export", all.toString());
    assertEquals(0, exported.status(), exported.stderr());
    com.fasterxml.jackson.databind.node.ObjectNode json = (com.fasterxml.jackson.databind.node.ObjectNode)
        JSON.readTree(all.toFile());
    com.fasterxml.jackson.databind.node.ArrayNode kept = JSON.createArrayNode();
    json.get("users").forEach(u -> {
      if (java.util.List.of(emails).contains(u.get("email").asText())) {
        kept.add(u);
      }
    });
    json.set("users", kept);
    Path file = dir.resolve("users.json");
    JSON.writeValue(file.toFile(), json);
    return file;
  }

  @Test
  void people_and_their_passkeys_move_to_another_sesame_and_sign_in_there(@TempDir Path dir) throws Exception {
    Account withPasskey = Account.signUp(source.http());
    SoftwareAuthenticator device = new PasskeyClient(source.http()).registerNewDevice(withPasskey, source.url());
    Account emailOnly = Account.signUp(source.http());
    Path file = exportOf(dir, withPasskey.email(), emailOnly.email());
    JsonNode json = JSON.readTree(file.toFile());
    assertEquals("sesame-users/1", json.get("format").asText());
    assertTrue(json.toString().contains(withPasskey.email()) && json.toString().contains(emailOnly.email()));

    int before = users(target);
    TestServer.CliResult imported = TestServer.cli(target.server(), "users", "import", file.toString());
    assertEquals(0, imported.status(), imported.stderr());
    assertTrue(imported.stdout().contains("2 accounts added, 1 passkeys added"), imported.stdout());
    assertEquals(before + 2, users(target));
    TestServer.CliResult again = TestServer.cli(target.server(), "users", "import", file.toString());
    assertTrue(again.stdout().contains("0 accounts added, 0 passkeys added"), "idempotent: " + again.stdout());

    Http.Response signedIn = new PasskeyClient(target.http()).signIn(device.at(target.url()), null);
    assertEquals(200, signedIn.status(), signedIn.body());
    assertEquals(withPasskey.email(), signedIn.json().get("user").get("email").asText());
    assertEquals(withPasskey.userId(), signedIn.json().get("user").get("id").asText(), "the same user id");
    assertEquals(emailOnly.userId(), dev.sesame.support.DevMailbox.signIn(target.http(), emailOnly.email())
        .get("user").get("id").asText(), "the email-only person signs in to the same account");
  }

  @Test
  void a_file_with_a_wrong_entry_imports_nothing_and_names_the_entries(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, """
        {"format": "sesame-users/1", "users": [
          {"email": "fine-%1$s@example.com"},
          {"email": "not an address"},
          {"email": "key-%1$s@example.com", "webauthnUserHandle": "AQID",
           "passkeys": [{"credentialId": "AAAAAAAAAAAAAAAAAAAAAA", "publicKey": "bm90IGNvc2U", "signCount": 0,
                         "backupEligible": false, "backupState": false}]},
          {"email": "FINE-%1$s@example.com"}
        ]}
        """.formatted(java.util.UUID.randomUUID().toString().substring(0, 8)));
    int before = users(target);
    TestServer.CliResult r = TestServer.cli(target.server(), "users", "import", file.toString());
    assertEquals(1, r.status());
    assertTrue(r.stderr().contains("entry 2:") && r.stderr().contains("entry 3: publicKey is not a COSE key")
        && r.stderr().contains("entry 4:") && r.stderr().contains("appears twice"), r.stderr());
    assertEquals(before, users(target), "nothing imported");
    Files.writeString(file, "{\"users\": []}");
    assertEquals(1, TestServer.cli(target.server(), "users", "import", file.toString()).status());
  }

  @Test
  void an_address_that_has_an_account_with_another_user_handle_refuses_the_passkeys(@TempDir Path dir)
      throws Exception {
    Account there = Account.signUp(source.http());
    new PasskeyClient(source.http()).registerNewDevice(there, source.url());
    Account.signUp(target.http()); // someone else, to see the count unchanged
    Path file = exportOf(dir, there.email());
    // The same address signed up on the target on its own: another account, another user handle.
    dev.sesame.support.DevMailbox.signIn(target.http(), there.email());
    int before = users(target);
    TestServer.CliResult r = TestServer.cli(target.server(), "users", "import", file.toString());
    assertEquals(1, r.status(), r.stdout());
    assertTrue(r.stderr().contains("another WebAuthn user handle"), r.stderr());
    assertEquals(before, users(target), "the whole import rolled back");
  }

  @Test
  void over_the_api_export_streams_everyone_with_metadata_and_import_brings_passkeys_that_sign_in() throws Exception {
    String exporter = TestServer.cli(source.server(), "service-key", "create", "exporter", "--scopes",
        "users:read,users:write").stdout().strip();
    String importer = TestServer.cli(target.server(), "service-key", "create", "importer", "--scopes",
        "users:write").stdout().strip();
    String readOnly = TestServer.cli(target.server(), "service-key", "create", "ro", "--scopes", "users:read")
        .stdout().strip();
    Account person = Account.signUp(source.http());
    SoftwareAuthenticator device = new PasskeyClient(source.http()).registerNewDevice(person, source.url());
    assertEquals(200, source.http().send("PATCH", "/admin/v1/users/" + person.userId(), Http.toJson(java.util.Map.of(
        "publicMetadata", java.util.Map.of("plan", "team"))), "Authorization", "Bearer " + exporter).status());

    assertEquals(401, source.http().get("/admin/v1/users/export", "Authorization", "Bearer " + importer).status(),
        "a key of another server is no key here");
    Http.Response exported = source.http().get("/admin/v1/users/export", "Authorization", "Bearer " + exporter);
    assertEquals(200, exported.status());
    assertTrue(exported.header("Content-Disposition").contains("attachment"));
    JsonNode all = exported.json();
    assertEquals(users(source), all.get("users").size(), "everyone, streamed");
    com.fasterxml.jackson.databind.node.ObjectNode file = JSON.createObjectNode().put("format", "sesame-users/1");
    com.fasterxml.jackson.databind.node.ArrayNode kept = file.putArray("users");
    all.get("users").forEach(u -> {
      if (u.get("email").asText().equals(person.email())) {
        kept.add(u);
      }
    });
    assertEquals("team", kept.get(0).get("publicMetadata").get("plan").asText());

    assertEquals(403, target.http().send("POST", "/admin/v1/users/import", file.toString(),
        "Authorization", "Bearer " + readOnly, "Content-Type", "application/json").status());
    Http.Response imported = target.http().send("POST", "/admin/v1/users/import", file.toString(),
        "Authorization", "Bearer " + importer, "Content-Type", "application/json");
    assertEquals(200, imported.status(), imported.body());
    assertEquals(1, imported.json().get("passkeysAdded").asInt());
    Http.Response signedIn = new PasskeyClient(target.http()).signIn(device.at(target.url()), null);
    assertEquals(200, signedIn.status(), signedIn.body());
    assertEquals(person.userId(), signedIn.json().get("user").get("id").asText());
    // A wrong entry: 400 with the entry named, nothing imported.
    ((com.fasterxml.jackson.databind.node.ObjectNode) kept.get(0).withArray("passkeys").get(0))
        .put("publicKey", "AAAA");
    ((com.fasterxml.jackson.databind.node.ObjectNode) kept.get(0)).put("email", "someone-else@example.com");
    Http.Response refused = target.http().send("POST", "/admin/v1/users/import", file.toString(),
        "Authorization", "Bearer " + importer, "Content-Type", "application/json");
    dev.sesame.support.Problems.assertProblem(refused, 400, "invalid_import");
    assertTrue(refused.json().get("errors").get(0).asText().startsWith("entry 1: "), refused.body());
    // Events on both sides name the keys.
    assertEquals(1, (int) source.jdbi().withHandle(h -> h.createQuery(
        "SELECT count(*) FROM audit_events WHERE type = 'users.exported' AND actor = 'key:exporter'")
        .mapTo(Integer.class).one()));
    assertEquals(1, (int) target.jdbi().withHandle(h -> h.createQuery(
        "SELECT count(*) FROM audit_events WHERE type = 'users.imported' AND actor = 'key:importer'")
        .mapTo(Integer.class).one()));
  }
}
