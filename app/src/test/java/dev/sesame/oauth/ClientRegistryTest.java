package dev.sesame.oauth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.common.Secrets;
import dev.sesame.config.ConfigException;
import dev.sesame.support.SesameServer;
import dev.sesame.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** OAuth clients: the CLI, the declarative file, secrets stored as hashes, and every metadata rule. */
class ClientRegistryTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();

  static final ObjectMapper JSON = new ObjectMapper();
  static Clients clients;

  @BeforeAll
  static void start() {
    clients = new Clients(sesame.jdbi(), "default");
  }

  static TestServer.CliResult cli(String... args) {
    return TestServer.cli(sesame.server(), args);
  }

  static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }

  @Test
  void a_confidential_client_gets_a_secret_once_and_only_its_hash_is_stored() throws Exception {
    TestServer.CliResult created = cli("client", "create", "--client-id", "notes-web", "--name", "Notes",
        "--redirect-uri", "https://notes.example/callback", "--redirect-uri", "http://localhost:3000/cb",
        "--grant-types", "authorization_code,refresh_token");
    assertEquals(0, created.status(), created.stderr());
    JsonNode shown = json(created.stdout());
    String secret = shown.get("client_secret").asText();
    assertEquals(43, secret.length(), "256 random bits");
    assertEquals("client_secret_basic", shown.get("token_endpoint_auth_method").asText(), "RFC 7591's default");
    assertEquals("RS256", shown.get("id_token_signed_response_alg").asText(), "OpenID Connect's default");
    assertEquals("openid email profile offline_access", shown.get("scope").asText());
    Map<String, Object> row = sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT * FROM oauth_clients WHERE client_id = 'notes-web'").mapToMap().one());
    assertArrayEquals(Secrets.sha256(secret), (byte[]) row.get("secret_hash"));
    assertFalse(row.toString().contains(secret), "no plain secret in the row");

    JsonNode again = json(cli("client", "show", "notes-web").stdout());
    assertFalse(again.has("client_secret"), "shown once only");
    assertEquals(List.of("https://notes.example/callback", "http://localhost:3000/cb"),
        JSON.convertValue(again.get("redirect_uris"), List.class));
    assertTrue(cli("client", "list").stdout().contains("notes-web\tNotes\tclient_secret_basic\tmanaged"));
    assertEquals(1, cli("client", "create", "--client-id", "notes-web", "--redirect-uri", "https://x.example/cb")
        .status(), "a client id is registered once");

    assertEquals("notes-web", clients.authenticate("notes-web", Optional.of(secret),
        Client.AuthMethod.CLIENT_SECRET_BASIC).clientId());
  }

  @Test
  void authentication_refuses_every_wrong_combination_alike() {
    String secret = clients.create(Map.of("client_id", "auth-conf", "redirect_uris", List.of("https://a.example/cb"),
        "token_endpoint_auth_method", "client_secret_post"), Client.Source.MANAGED).secret().orElseThrow();
    clients.create(Map.of("client_id", "auth-public", "redirect_uris", List.of("https://a.example/cb"),
        "token_endpoint_auth_method", "none"), Client.Source.MANAGED);
    assertEquals("auth-conf", clients.authenticate("auth-conf", Optional.of(secret),
        Client.AuthMethod.CLIENT_SECRET_POST).clientId());
    assertEquals("auth-public", clients.authenticate("auth-public", Optional.empty(),
        Client.AuthMethod.NONE).clientId());
    List<Runnable> refused = List.of(
        () -> clients.authenticate("auth-conf", Optional.of(secret + "x"), Client.AuthMethod.CLIENT_SECRET_POST),
        () -> clients.authenticate("auth-conf", Optional.of(secret), Client.AuthMethod.CLIENT_SECRET_BASIC),
        () -> clients.authenticate("auth-conf", Optional.empty(), Client.AuthMethod.NONE),
        () -> clients.authenticate("auth-conf", Optional.of(""), Client.AuthMethod.CLIENT_SECRET_POST),
        () -> clients.authenticate("no-such-client", Optional.of(secret), Client.AuthMethod.CLIENT_SECRET_POST),
        () -> clients.authenticate(null, Optional.of(secret), Client.AuthMethod.CLIENT_SECRET_POST),
        () -> clients.authenticate("auth-public", Optional.of("anything"), Client.AuthMethod.CLIENT_SECRET_POST));
    for (Runnable attempt : refused) {
      Clients.InvalidClient e = assertThrows(Clients.InvalidClient.class, attempt::run);
      assertEquals("Client authentication failed.", e.getMessage(), "the same answer whatever was wrong");
    }
  }

  @Test
  void rotating_a_secret_ends_the_old_one() {
    String old = clients.create(Map.of("client_id", "rotating", "redirect_uris", List.of("https://r.example/cb")),
        Client.Source.MANAGED).secret().orElseThrow();
    TestServer.CliResult rotated = cli("client", "rotate-secret", "rotating");
    assertEquals(0, rotated.status(), rotated.stderr());
    String fresh = rotated.stdout().strip();
    assertThrows(Clients.InvalidClient.class, () -> clients.authenticate("rotating", Optional.of(old),
        Client.AuthMethod.CLIENT_SECRET_BASIC));
    clients.authenticate("rotating", Optional.of(fresh), Client.AuthMethod.CLIENT_SECRET_BASIC);
    cli("client", "create", "--client-id", "rotating-public", "--public", "--redirect-uri", "https://r.example/cb");
    assertEquals(1, cli("client", "rotate-secret", "rotating-public").status(), "a public client has no secret");
  }

  @Test
  void update_changes_what_it_names_and_the_secret_follows_the_auth_method() throws Exception {
    clients.create(Map.of("client_id", "changing", "redirect_uris", List.of("https://c.example/cb")),
        Client.Source.MANAGED);
    TestServer.CliResult toPublic = cli("client", "update", "changing", "--public", "--redirect-uri",
        "https://c.example/other");
    assertEquals(0, toPublic.status(), toPublic.stderr());
    JsonNode metadata = json(toPublic.stdout());
    assertEquals("none", metadata.get("token_endpoint_auth_method").asText());
    assertEquals("[\"https://c.example/other\"]", metadata.get("redirect_uris").toString());
    assertNull(sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT secret_hash FROM oauth_clients WHERE client_id = 'changing'").mapTo(byte[].class).one()));
    TestServer.CliResult toConfidential = cli("client", "update", "changing", "--auth-method", "client_secret_basic");
    String secret = json(toConfidential.stdout()).get("client_secret").asText();
    clients.authenticate("changing", Optional.of(secret), Client.AuthMethod.CLIENT_SECRET_BASIC);
    assertEquals(2, cli("client", "update", "changing", "--client-id", "renamed").status(), "ids never change");
    assertEquals(0, cli("client", "delete", "changing").status());
    assertEquals(1, cli("client", "show", "changing").status());
    assertEquals(1, cli("client", "delete", "changing").status());
  }

  @Test
  void every_metadata_rule_is_enforced() {
    Map<String, String> badRedirects = Map.of(
        "http://app.example/cb", "http only to a loopback host",
        "https://app.example/cb#frag", "no fragment (the code would land in it)",
        "https://user:pw@app.example/cb", "no user info",
        "/relative/cb", "absolute",
        "myapp:/cb", "a private-use scheme must be reverse-domain",
        "javascript:alert(1)", "no script URIs");
    for (Map.Entry<String, String> bad : badRedirects.entrySet()) {
      TestServer.CliResult r = cli("client", "create", "--redirect-uri", bad.getKey());
      assertEquals(2, r.status(), bad.getValue());
      assertTrue(r.stderr().contains("invalid_redirect_uri"), bad.getValue() + ": " + r.stderr());
    }
    List<List<String>> badMetadata = List.of(
        List.of("--client-id", "x", "--redirect-uri", "https://a.example/cb"),
        List.of("--redirect-uri", "https://a.example/cb", "--grant-types", "implicit"),
        List.of("--redirect-uri", "https://a.example/cb", "--grant-types", "client_credentials"),
        List.of("--redirect-uri", "https://a.example/cb", "--scope", "openid admin"),
        List.of("--redirect-uri", "https://a.example/cb", "--id-token-alg", "HS256"),
        List.of("--redirect-uri", "https://a.example/cb", "--auth-method", "private_key_jwt"),
        List.of("--redirect-uri", "https://a.example/cb", "--web-origin", "https://a.example/path"),
        List.of("--redirect-uri", "https://a.example/cb", "--backchannel-logout-uri", "http://a.example/logout"),
        List.of("--name", ""));
    for (List<String> flags : badMetadata) {
      List<String> args = new java.util.ArrayList<>(List.of("client", "create"));
      args.addAll(flags);
      TestServer.CliResult r = cli(args.toArray(String[]::new));
      assertEquals(2, r.status(), flags + ": " + r.stdout());
      assertTrue(r.stderr().startsWith("sesame: invalid_"), flags + ": " + r.stderr());
    }
    // Accepted: loopback http, native-app schemes, several URIs.
    for (String good : List.of("http://127.0.0.1:8123/cb", "http://[::1]/cb", "com.example.notes:/oauth2redirect")) {
      assertEquals(0, cli("client", "create", "--public", "--redirect-uri", good).status(), good);
    }
  }

  @Test
  void the_clients_file_is_applied_idempotently_and_all_or_nothing(@TempDir Path dir) throws Exception {
    String secret = "file-secret-" + "s".repeat(40);
    Path file = dir.resolve("clients.json");
    Files.writeString(file, JSON.writeValueAsString(List.of(
        Map.of("client_id", "grafana", "client_name", "Grafana", "client_secret", secret,
            "redirect_uris", List.of("https://grafana.example/login/generic_oauth"),
            "grant_types", List.of("authorization_code", "refresh_token")),
        Map.of("client_id", "spa", "token_endpoint_auth_method", "none",
            "redirect_uris", List.of("http://localhost:5173/callback"), "scope", "openid email"))));
    assertEquals(new Clients.FileResult(2, 0, 0), clients.applyFile(file));
    Object updatedAt = updatedAt("grafana");
    assertEquals(new Clients.FileResult(0, 2, 0), clients.applyFile(file), "the same file again changes nothing");
    assertEquals(updatedAt, updatedAt("grafana"));
    clients.authenticate("grafana", Optional.of(secret), Client.AuthMethod.CLIENT_SECRET_BASIC);

    // One bad entry: nothing at all is applied, and the message names the entry.
    Files.writeString(file, JSON.writeValueAsString(List.of(
        Map.of("client_id", "grafana", "client_secret", secret, "redirect_uris", List.of("https://g.example/new")),
        Map.of("client_id", "spa", "token_endpoint_auth_method", "none",
            "redirect_uris", List.of("http://evil.example/callback")))));
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> clients.applyFile(file));
    assertTrue(bad.getMessage().contains("entry 2 (spa)") && bad.getMessage().contains("http only"),
        bad.getMessage());
    assertEquals("[\"https://grafana.example/login/generic_oauth\"]",
        json(cli("client", "show", "grafana").stdout()).get("redirect_uris").toString());

    // A client dropped from the file is removed; a changed one is changed.
    Files.writeString(file, JSON.writeValueAsString(List.of(
        Map.of("client_id", "grafana", "client_secret", secret, "redirect_uris", List.of("https://g.example/new")))));
    assertEquals(new Clients.FileResult(1, 0, 1), clients.applyFile(file));
    assertEquals(1, cli("client", "show", "spa").status());

    // Secrets are required of confidential file clients, and strong; CLI-managed clients are never taken over.
    Files.writeString(file, "[{\"client_id\":\"weak\",\"client_secret\":\"hunter2\","
        + "\"redirect_uris\":[\"https://w.example/cb\"]}]");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> clients.applyFile(file)).getMessage()
        .contains("at least 32"));
    Files.writeString(file, "[{\"client_id\":\"nosecret\",\"redirect_uris\":[\"https://w.example/cb\"]}]");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> clients.applyFile(file)).getMessage()
        .contains("needs its client_secret"));
    cli("client", "create", "--client-id", "by-hand", "--redirect-uri", "https://h.example/cb");
    Files.writeString(file, "[{\"client_id\":\"by-hand\",\"token_endpoint_auth_method\":\"none\","
        + "\"redirect_uris\":[\"https://h.example/cb\"]}]");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> clients.applyFile(file)).getMessage()
        .contains("not managed by this file"));
    Files.writeString(file, "{\"client_id\": \"not-an-array\"}");
    assertThrows(IllegalArgumentException.class, () -> clients.applyFile(file));
  }

  @Test
  void a_bad_clients_file_stops_start_up_naming_the_setting(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("clients.json");
    Files.writeString(file, "[{\"client_id\":\"app-one\",\"token_endpoint_auth_method\":\"none\","
        + "\"redirect_uris\":[\"https://ok.example/cb#fragment\"]}]");
    ConfigException e = assertThrows(ConfigException.class,
        () -> TestServer.start(Map.of("SESAME_CLIENTS_FILE", file.toString())));
    assertTrue(e.getMessage().startsWith("SESAME_CLIENTS_FILE: ") && e.getMessage().contains("fragment"),
        e.getMessage());
    Files.writeString(file, "[{\"client_id\":\"app-one\",\"token_endpoint_auth_method\":\"none\","
        + "\"redirect_uris\":[\"https://ok.example/cb\"]}]");
    try (TestServer ok = TestServer.start(Map.of("SESAME_CLIENTS_FILE", file.toString()))) {
      assertTrue(new Clients(ok.jdbi(), "default").find("app-one").isPresent(), "applied at start-up");
    }
  }

  private static Object updatedAt(String clientId) {
    return sesame.jdbi().withHandle(h -> h.createQuery("SELECT updated_at FROM oauth_clients WHERE client_id = :id")
        .bind("id", clientId).mapTo(java.time.OffsetDateTime.class).one());
  }
}
