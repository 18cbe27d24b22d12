package dev.sesame.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.support.Account;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.Seed;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every statement of the hot paths and the admin reads uses an index on a seeded database: PostgreSQL's own
 * auto_explain logs the plan of each statement the real server runs (not a copy of its SQL) while the test signs
 * people up and in by email and passkey, refreshes, signs out, runs an OpenID Connect code flow and the admin users
 * list and dashboard; no plan may scan a whole seeded table (50,000 people, their passkeys, 100,000 sessions and
 * refresh tokens, 300,000 audit events — big enough that the planner prefers an index wherever one fits). Plans are
 * logged as run (rows and loops), so none may join rows with each other quadratically either: the dashboard once
 * compared every passkey offer of the day with every event of the day, planned for the few rows the statistics
 * expected of today.
 */
class QueryPlansTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> SEEDED = Set.of("users", "passkeys", "sessions", "refresh_tokens",
      "audit_events");
  /**
   * The dashboard's population totals (people, disabled, active, with a passkey, per provider) count every row by
   * nature: the janitor counts them in the background and stores them, and the dashboard reads the stored figures
   * (it counts itself only when they are missing or stale, as right after this seeding).
   */
  private static final List<String> WHOLE_POPULATION = List.of("AS with_passkey", "GROUP BY aaguid",
      // The janitor's pass over ended sessions, in the background every 10 minutes: a session's expiry moves at
      // every refresh, and an index on it would make each of those updates write index entries (no HOT update).
      "coalesce(revoked_at, expires_at) < now()");

  @TempDir
  Path data;

  @Test
  void hot_statements_use_indexes_on_a_seeded_database() throws Exception {
    Path log = data.resolve("log");
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(data.resolve("pg"))
        .setServerConfig("shared_preload_libraries", "auto_explain")
        .setServerConfig("auto_explain.log_format", "json")
        .setServerConfig("auto_explain.log_analyze", "on") // rows and loops as run (timing off: not needed)
        .setServerConfig("auto_explain.log_timing", "off")
        .setServerConfig("logging_collector", "on")
        .setServerConfig("log_destination", "jsonlog")
        .setServerConfig("log_directory", log.toString())
        .setServerConfig("log_filename", "postgresql.log")
        .start()) {
      String url = pg.getJdbcUrl("postgres", "postgres");
      try (TestServer server = TestServer.start(Map.of("SESAME_DATABASE_URL", url))) {
        try (Connection c = DriverManager.getConnection(url)) {
          Seed.seed(c, new Seed.Size(50_000, 2, 300_000));
        }
        String key = TestServer.cli(server, "service-key", "create", "plans", "--scopes", "stats:read,users:read")
            .stdout().strip();
        JsonNode client = JSON.readTree(TestServer.cli(server, "client", "create", "--name", "Plans",
            "--redirect-uri", "https://app.example/callback", "--scope", "openid email").stdout());
        explainFromNowOn(url, true);
        exercise(server, key, client);
        explainFromNowOn(url, false);
      }

      List<String> scans = new ArrayList<>();
      List<String> quadratic = new ArrayList<>();
      Set<String> seen = new LinkedHashSet<>();
      int plans = 0;
      List<String> lines = Files.readAllLines(log.resolve("postgresql.json"), StandardCharsets.UTF_8);
      for (String line : lines) {
        String message = JSON.readTree(line).path("message").asText();
        int at = message.indexOf("plan:");
        if (!message.startsWith("duration:") || at < 0) {
          continue;
        }
        JsonNode plan = JSON.readTree(message.substring(at + 5));
        plans++;
        String query = plan.path("Query Text").asText().replaceAll("\\s+", " ");
        walk(plan.path("Plan"), node -> {
          if (node.path("Rows Removed by Join Filter").asLong() > 100_000) {
            quadratic.add(node.path("Rows Removed by Join Filter").asLong() + " rows compared in a join: " + query);
          }
          String relation = node.path("Relation Name").asText();
          if (SEEDED.contains(relation)) {
            seen.add(relation);
            if (node.path("Node Type").asText().equals("Seq Scan")
                && WHOLE_POPULATION.stream().noneMatch(query::contains)) {
              scans.add(relation + ": " + query);
            }
          }
        });
      }
      assertTrue(plans > 50, "auto_explain logged " + plans + " plans in " + lines.size() + " lines, e.g. "
          + lines.subList(Math.max(0, lines.size() - 3), lines.size()));
      assertEquals(SEEDED, seen, "every seeded table was read by some statement");
      assertTrue(scans.isEmpty(), "whole-table scans:\n" + String.join("\n", scans));
      assertTrue(quadratic.isEmpty(), "joins comparing every row with every other:\n" + String.join("\n", quadratic));
    }
  }

  /** Sign-up, passkeys, refresh (and its reuse path), OIDC, the account's lists, sign-out, the admin reads. */
  private static void exercise(TestServer server, String key, JsonNode client) throws Exception {
    Http http = server.http();
    PasskeyClient passkeys = new PasskeyClient(http);
    Account account = Account.signUp(http);
    SoftwareAuthenticator device = passkeys.registerNewDevice(account, server.url());
    assertEquals(200, passkeys.signIn(device, account.email()).status());
    Http.Response usernameless = passkeys.signIn(device, null);
    assertEquals(200, usernameless.status(), usernameless.body());
    JsonNode tokens = usernameless.json();
    assertEquals(202, http.post("/v1/email/start", Map.of("email", "user4242@example.com")).status());
    JsonNode seededPerson = DevMailbox.signIn(http, "user777@example.com");

    String refresh = tokens.get("refresh_token").asText();
    JsonNode next = http.post("/v1/sessions/refresh", Map.of("refresh_token", refresh)).json();
    // Its successor used: presenting the first token again is reuse (an unused successor would be a retry).
    assertEquals(200, http.post("/v1/sessions/refresh", Map.of("refresh_token", next.get("refresh_token").asText()))
        .status());
    server.jdbi().useHandle(h -> h.execute(
        "UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 hour' WHERE token_hash = sha256(?)",
        refresh.getBytes(StandardCharsets.US_ASCII)));
    assertEquals(401, http.post("/v1/sessions/refresh", Map.of("refresh_token", refresh)).status(), "reuse");

    String bearer = "Bearer " + seededPerson.get("access_token").asText();
    for (String path : List.of("/v1/me", "/v1/me/passkeys", "/v1/sessions")) {
      assertEquals(200, http.get(path, "Authorization", bearer).status(), path);
    }
    String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(UUID.randomUUID().toString()
        .repeat(2).getBytes(StandardCharsets.US_ASCII));
    String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256")
        .digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    Http.Response authorized = http.post("/v1/authorize", Map.of("clientId", client.get("client_id").asText(),
        "redirectTo", "https://app.example/callback", "state", "s", "codeChallenge", challenge,
        "codeChallengeMethod", "S256", "scope", "openid email", "nonce", "n"), "Authorization", bearer);
    assertEquals(200, authorized.status(), authorized.body());
    String redirect = authorized.json().get("redirect").asText();
    String code = redirect.replaceAll(".*[?&]code=([^&]+).*", "$1");
    String basic = Base64.getEncoder().encodeToString((client.get("client_id").asText() + ":"
        + client.get("client_secret").asText()).getBytes(StandardCharsets.UTF_8));
    Http.Response exchanged = http.post("/v1/token", "grant_type=authorization_code&code=" + code
            + "&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&code_verifier=" + verifier,
        "Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic " + basic);
    assertEquals(200, exchanged.status(), exchanged.body());
    assertEquals(200, http.get("/v1/userinfo", "Authorization", "Bearer "
        + exchanged.json().get("access_token").asText()).status());
    assertEquals(204, http.post("/v1/sessions/logout", "", "Authorization", bearer).status());

    // A busy day so far, newer than the table's statistics (as today's events always are): the dashboard counts
    // today from its events and must not join them with themselves in a plan made for a few.
    server.jdbi().useHandle(h -> h.execute("""
        INSERT INTO audit_events (occurred_at, type, user_id, session_id, details)
        SELECT date_trunc('day', now()) + random() * (now() - date_trunc('day', now())),
               CASE WHEN i <= 3000 THEN 'email.sign_in.succeeded' ELSE 'passkey.added' END,
               md5('u' || i)::uuid, md5('today' || (CASE WHEN i <= 3000 THEN i ELSE i - 3000 END))::uuid,
               CASE WHEN i <= 3000 THEN jsonb_build_object('method', 'code', 'passkeyOffer', true)
                    ELSE jsonb_build_object('provider', 'iCloud Keychain') END
        FROM generate_series(1, 3300) i"""));
    String admin = "Bearer " + key;
    for (String path : List.of("/admin/v1/users?limit=50", "/admin/v1/users?limit=50&email=user4242",
        "/admin/v1/users?limit=50&has_passkey=false", "/admin/v1/users/" + account.userId(),
        "/admin/v1/stats?days=30")) {
      Http.Response r = http.get(path, "Authorization", admin);
      assertEquals(200, r.status(), path + " " + r.body());
    }
  }

  private static void explainFromNowOn(String url, boolean on) throws Exception {
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      s.execute("ALTER SYSTEM SET auto_explain.log_min_duration = " + (on ? "0" : "-1"));
      s.execute("SELECT pg_reload_conf()");
    }
    Thread.sleep(300); // every backend applies the reload before its next statement; the log collector catches up
  }

  private static void walk(JsonNode node, java.util.function.Consumer<JsonNode> visit) {
    visit.accept(node);
    for (JsonNode child : node.path("Plans")) {
      walk(child, visit);
    }
  }
}
