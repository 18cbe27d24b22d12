package dev.sesame.admin;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Moving from Passage: its CSV export (the columns of Passage's user object) imported over the API and the CLI —
 * verified accounts that sign in by email and are offered a passkey; checked row by row, all or nothing; idempotent.
 */
class PassageImportTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();
  static Http http;
  static String writer;
  static String reader;

  @BeforeAll
  static void keys() {
    http = sesame.http();
    writer = TestServer.cli(sesame.server(), "service-key", "create", "importer", "--scopes",
        "users:read,users:write").stdout().strip();
    reader = TestServer.cli(sesame.server(), "service-key", "create", "viewer", "--scopes", "users:read")
        .stdout().strip();
  }

  static final String HEADER = "id,email,email_verified,phone,phone_verified,status,created_at,updated_at,"
      + "last_login_at,login_count,user_metadata,webauthn,webauthn_types,external_id,favourite_colour\n";

  static String row(String id, String email, String status, String created, String metadata, String colour) {
    return String.join(",", id, email, "true", "+15555550123", "false", status, created, "2025-11-02T10:00:00Z",
        "2025-12-24T08:15:00.123Z", "42", metadata, "true", "platform", "", colour) + "\n";
  }

  static Http.Response importCsv(String csv, String key) {
    return http.send("POST", "/admin/v1/users/import", csv, "Authorization", "Bearer " + key,
        "Content-Type", "text/csv");
  }

  @Test
  void a_passage_export_becomes_verified_accounts_that_sign_in_by_email_and_are_offered_a_passkey() {
    String tag = UUID.randomUUID().toString().substring(0, 6);
    String ada = "ada-" + tag + "@example.com";
    String grace = "Grace-" + tag + "@Example.com";
    String csv = HEADER
        + row("pas_Ada1", ada, "active", "2023-04-01T09:30:00Z",
            "\"{\"\"first_name\"\":\"\"Ada\"\",\"\"newsletter\"\":true}\"", "green")
        + row("pas_Grace2", grace, "inactive", "2024-01-15T12:00:00.5+01:00", "", "")
        + row("pas_Linus3", "linus-" + tag + "@example.com", "pending", "", "", "\"blue, with commas\"");
    assertProblem(importCsv(csv, reader), 403, "insufficient_scope");
    Http.Response imported = importCsv(csv, writer);
    assertEquals(200, imported.status(), imported.body());
    assertEquals(3, imported.json().get("users").asInt());
    assertEquals(3, imported.json().get("usersAdded").asInt());

    JsonNode adaUser = find(ada);
    assertTrue(adaUser.get("emailVerified").asBoolean(), "every row is a verified account");
    assertEquals("2023-04-01T09:30:00Z", adaUser.get("createdAt").asText(), "Passage's created_at is kept");
    assertEquals("Ada", adaUser.get("publicMetadata").get("first_name").asText());
    assertEquals("pas_Ada1", adaUser.get("publicMetadata").get("passage_id").asText(),
        "apps find the rows they keyed by Passage's id");
    JsonNode passage = adaUser.get("privateMetadata").get("passage");
    assertEquals("+15555550123", passage.get("phone").asText(), "nothing in the file is lost");
    assertEquals("42", passage.get("login_count").asText());
    assertEquals("green", passage.get("favourite_colour").asText(), "unknown columns kept as private metadata");
    assertFalse(passage.has("external_id"), "empty cells are not kept");
    assertEquals(0, adaUser.get("passkeys").asInt());
    JsonNode graceUser = find(grace.toLowerCase());
    assertFalse(graceUser.get("disabledAt").isNull(), "inactive at Passage: disabled here");
    assertEquals("2024-01-15T11:00:00.500Z", graceUser.get("createdAt").asText());
    assertEquals("blue, with commas", find("linus-" + tag + "@example.com").get("privateMetadata").get("passage")
        .get("favourite_colour").asText());

    // Ada signs in by email, into the imported account, and is offered a passkey, which she adds.
    JsonNode tokens = DevMailbox.signIn(http, ada);
    assertEquals(adaUser.get("id").asText(), tokens.get("user").get("id").asText());
    JsonNode events = http.get("/admin/v1/audit?user_id=" + adaUser.get("id").asText() + "&type=email.sign_in.succeeded",
        "Authorization", "Bearer " + TestServer.cli(sesame.server(), "service-key", "create", "aud-" + tag,
            "--scopes", "audit:read").stdout().strip()).json().get("events");
    assertTrue(events.get(0).get("details").get("passkeyOffer").asBoolean(), events.toString());
    SoftwareAuthenticator phone = new SoftwareAuthenticator(sesame.url());
    assertEquals(201, new PasskeyClient(http).register(tokens.get("access_token").asText(), phone).status());
    assertEquals(200, new PasskeyClient(http).signIn(phone, ada).status());
    // Grace is disabled: her sign-in gets the answer any failure gets.
    Http.Response started = http.post("/v1/email/start", Map.of("email", grace));
    assertEquals(202, started.status());

    // The same file again changes nothing.
    Http.Response again = importCsv(csv, writer);
    assertEquals(200, again.status(), again.body());
    assertEquals(0, again.json().get("usersAdded").asInt());
    assertEquals(1, find(ada).get("passkeys").asInt(), "Ada keeps the passkey she added");
  }

  @Test
  void a_file_with_wrong_rows_imports_nothing_and_names_every_wrong_line() {
    String tag = UUID.randomUUID().toString().substring(0, 6);
    String csv = HEADER
        + row("p1", "ok-" + tag + "@example.com", "active", "2024-01-01T00:00:00Z", "", "") // line 2
        + row("p2", "not an address", "active", "", "", "") // line 3
        + row("p3", "b-" + tag + "@example.com", "banned", "", "", "") // line 4
        + row("p4", "c-" + tag + "@example.com", "active", "yesterday", "", "") // line 5
        + row("p5", "d-" + tag + "@example.com", "active", "", "\"[1,2]\"", "") // line 6
        + row("p6", "OK-" + tag + "@example.com", "active", "", "", ""); // line 7: the same address as line 2
    Http.Response r = importCsv(csv, writer);
    assertProblem(r, 400, "invalid_import");
    List<String> errors = new java.util.ArrayList<>();
    r.json().get("errors").forEach(e -> errors.add(e.asText()));
    assertEquals(5, errors.size(), errors.toString());
    assertTrue(errors.get(0).startsWith("line 3: "), errors.toString());
    assertTrue(errors.get(1).startsWith("line 4: status"), errors.toString());
    assertTrue(errors.get(2).startsWith("line 5: created_at"), errors.toString());
    assertTrue(errors.get(3).startsWith("line 6: user_metadata"), errors.toString());
    assertTrue(errors.get(4).startsWith("line 7: ") && errors.get(4).contains("twice"), errors.toString());
    assertEquals(0, http.get("/admin/v1/users?email=ok-" + tag, "Authorization", "Bearer " + reader).json()
        .get("users").size(), "nothing was imported");

    assertProblem(importCsv("name,phone\nAda,1\n", writer), 400, "invalid_import");
    assertProblem(http.send("POST", "/admin/v1/users/import", "x", "Authorization", "Bearer " + writer,
        "Content-Type", "application/xml"), 415, "unsupported_media_type");
    assertProblem(importCsv(HEADER + "p1,\"unterminated\n", writer), 400, "invalid_import");
  }

  @Test
  void a_hundred_thousand_rows_import_through_the_api_and_the_cli_reads_the_same_csv() throws Exception {
    String tag = UUID.randomUUID().toString().substring(0, 6);
    StringBuilder csv = new StringBuilder(HEADER);
    for (int i = 0; i < 100_000; i++) {
      csv.append(row("pas_" + i, "bulk" + i + "-" + tag + "@example.com", "active", "2024-03-01T00:00:00Z",
          "\"{\"\"n\"\":" + i + "}\"", ""));
    }
    long start = System.nanoTime();
    Http.Response r = importCsv(csv.toString(), writer);
    double seconds = (System.nanoTime() - start) / 1e9;
    assertEquals(200, r.status(), r.body());
    assertEquals(100_000, r.json().get("usersAdded").asInt());
    System.out.printf("imported 100,000 Passage rows (%d MB) in %.1f s%n", csv.length() >> 20, seconds);

    // The CLI takes the same file (it goes by the .csv name): everyone is there already, so nothing changes.
    Path file = Files.createTempFile("passage-", ".csv");
    Files.writeString(file, csv.substring(0, 200_000).substring(0, csv.substring(0, 200_000).lastIndexOf('\n') + 1));
    TestServer.CliResult cli = TestServer.cli(sesame.server(), "users", "import", file.toString());
    assertEquals(0, cli.status(), cli.stderr());
    assertTrue(cli.stdout().contains("0 accounts added"), cli.stdout());
  }

  static JsonNode find(String email) {
    Http.Response r = http.get("/admin/v1/users?email=" + email, "Authorization", "Bearer " + reader);
    assertEquals(200, r.status(), r.body());
    assertEquals(1, r.json().get("users").size(), r.body());
    return r.json().get("users").get(0);
  }
}
