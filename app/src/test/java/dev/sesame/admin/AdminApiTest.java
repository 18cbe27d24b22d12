package dev.sesame.admin;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.Account;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The admin API: who may call it (scoped service keys, administrators signed in with a passkey), and what it does. */
class AdminApiTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();
  static Http http;
  static String reader;
  static String writer;
  static String introspectionOnly;

  @BeforeAll
  static void keys() {
    http = sesame.http();
    reader = key("reader", "users:read");
    writer = key("writer", "users:read,users:write");
    TestServer.CliResult plain = TestServer.cli(sesame.server(), "service-key", "create", "plain");
    assertEquals(0, plain.status(), plain.stderr());
    introspectionOnly = plain.stdout().strip();
  }

  static String key(String name, String scopes) {
    TestServer.CliResult r = TestServer.cli(sesame.server(), "service-key", "create", name, "--scopes", scopes);
    assertEquals(0, r.status(), r.stderr());
    return r.stdout().strip();
  }

  static String[] as(String key) {
    return new String[] {"Authorization", "Bearer " + key};
  }

  @Test
  void only_keys_with_the_scope_or_administrators_may_call_it() {
    assertProblem(http.get("/admin/v1/users"), 401, "invalid_token");
    assertProblem(http.get("/admin/v1/users", as(introspectionOnly)), 403, "insufficient_scope");
    assertProblem(http.get("/admin/v1/users", as("sk_not-a-key")), 401, "invalid_client");
    Account person = Account.signUp(http);
    assertProblem(http.get("/admin/v1/users", person.bearer()), 401, "invalid_client"); // an app's token: no
    assertEquals(200, http.get("/admin/v1/users", as(reader)).status());
    assertProblem(http.post("/admin/v1/users/" + person.userId() + "/sessions/revoke", "", as(reader)), 403,
        "insufficient_scope");
    assertEquals(200, http.get("/v1/me", person.bearer()).status(), "the reader changed nothing");
    TestServer.CliResult list = TestServer.cli(sesame.server(), "service-key", "list");
    assertTrue(list.stdout().contains("writer\tusers:read,users:write"), list.stdout());
    assertTrue(list.stdout().contains("plain\tintrospection"), list.stdout());
    assertEquals(2, TestServer.cli(sesame.server(), "service-key", "create", "bad", "--scopes", "users:all")
        .status());
  }

  @Test
  void users_are_listed_in_pages_searched_by_email_prefix_and_filtered() {
    String tag = "pg" + UUID.randomUUID().toString().substring(0, 6);
    List<String> emails = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String email = tag + "-" + i + "@example.com";
      dev.sesame.support.DevMailbox.signIn(http, email);
      emails.add(email);
    }
    Set<String> seen = new HashSet<>();
    String cursor = null;
    int pages = 0;
    do {
      Http.Response page = http.get("/admin/v1/users?limit=2&email=" + tag.toUpperCase()
          + (cursor == null ? "" : "&cursor=" + cursor), as(reader));
      assertEquals(200, page.status(), page.body());
      page.json().get("users").forEach(u -> assertTrue(seen.add(u.get("email").asText()), "no user twice"));
      cursor = page.json().get("next").isNull() ? null : page.json().get("next").asText();
      pages++;
    } while (cursor != null);
    assertEquals(new HashSet<>(emails), seen, "prefix search is case-insensitive and paging misses nobody");
    assertEquals(3, pages);
    // LIKE's wildcards in the search are literal.
    assertEquals(0, http.get("/admin/v1/users?email=" + tag.substring(0, 2) + "_" + tag.substring(3), as(reader))
        .json().get("users").size());
    assertEquals(5, http.get("/admin/v1/users?has_passkey=false&email=" + tag, as(reader)).json().get("users")
        .size());
    assertEquals(0, http.get("/admin/v1/users?has_passkey=true&email=" + tag, as(reader)).json().get("users")
        .size());
    assertEquals(0, http.get("/admin/v1/users?email=" + tag + "&created_from=2999-01-01T00:00:00Z", as(reader))
        .json().get("users").size());
    assertProblem(http.get("/admin/v1/users?cursor=nonsense", as(reader)), 400, "invalid_cursor");
    assertProblem(http.get("/admin/v1/users?limit=1000", as(reader)), 400, "invalid_request");
    assertProblem(http.get("/admin/v1/users?created_from=yesterday", as(reader)), 400, "invalid_request");
  }

  @Test
  void an_operator_helps_someone_who_lost_their_phone() {
    Account person = Account.signUp(http);
    PasskeyClient passkeys = new PasskeyClient(http);
    passkeys.registerNewDevice(person, sesame.url());
    Http.Response detail = http.get("/admin/v1/users/" + person.userId(), as(reader));
    assertEquals(200, detail.status(), detail.body());
    JsonNode user = detail.json();
    assertEquals(person.email(), user.get("user").get("email").asText());
    assertEquals(1, user.get("passkeys").size());
    assertTrue(user.get("sessions").size() >= 1);
    assertTrue(user.get("events").toString().contains("passkey.added"), user.get("events").toString());
    String passkeyId = user.get("passkeys").get(0).get("id").asText();

    assertEquals(204, http.send("DELETE", "/admin/v1/users/" + person.userId() + "/passkeys/" + passkeyId, null,
        as(writer)).status());
    assertEquals(204, http.post("/admin/v1/users/" + person.userId() + "/sessions/revoke", "", as(writer)).status());
    assertEquals(401, http.get("/v1/me", person.bearer()).status(), "signed out everywhere");
    JsonNode after = http.get("/admin/v1/users/" + person.userId(), as(reader)).json();
    assertEquals(0, after.get("passkeys").size());
    assertEquals(0, after.get("sessions").size());
    // Every change is in the audit log with the operator who made it.
    List<String> byWriter = new ArrayList<>();
    after.get("events").forEach(e -> {
      if ("key:writer".equals(e.get("actor").asText(null))) {
        byWriter.add(e.get("type").asText());
      }
    });
    assertTrue(byWriter.contains("passkey.removed") && byWriter.contains("session.revoked"), byWriter.toString());
    assertProblem(http.get("/admin/v1/users/" + UUID.randomUUID(), as(reader)), 404, "user_not_found");
    assertProblem(http.get("/admin/v1/users/not-a-uuid", as(reader)), 404, "user_not_found");
  }

  @Test
  void a_person_administers_only_with_the_role_and_a_passkey_sign_in_on_sesames_origin() {
    Account admin = Account.signUp(http);
    SoftwareAuthenticator device = new PasskeyClient(http).registerNewDevice(admin, sesame.url());
    String emailCookie = cookieSession(http.post("/v1/email/verify", Map.of("flowId", http.post("/v1/email/start",
        Map.of("email", admin.email())).json().get("flowId").asText(), "code",
        dev.sesame.support.DevMailbox.latestCode(http, admin.email())), "Origin", sesame.url(),
        "X-Sesame-Session", "cookie"));
    String passkeyCookie = cookieSession(passkeySignIn(device, admin.email()));

    assertProblem(http.get("/admin/v1/users", "Cookie", passkeyCookie), 403, "admin_required");
    TestServer.CliResult granted = TestServer.cli(sesame.server(), "admin", "grant", admin.email());
    assertEquals(0, granted.status(), granted.stderr());
    assertTrue(TestServer.cli(sesame.server(), "admin", "list").stdout().contains(admin.email()));
    assertProblem(http.get("/admin/v1/users", "Cookie", emailCookie), 403, "passkey_required");
    assertEquals(200, http.get("/admin/v1/users", "Cookie", passkeyCookie).status());
    // Changes by cookie need the CSRF proof like every cookie request.
    Account other = Account.signUp(http);
    assertProblem(http.post("/admin/v1/users/" + other.userId() + "/sessions/revoke", "", "Cookie", passkeyCookie),
        403, "csrf_check_failed");
    assertEquals(204, http.post("/admin/v1/users/" + other.userId() + "/sessions/revoke", "", "Cookie",
        passkeyCookie, "Origin", sesame.url(), "X-Sesame-CSRF", "1").status());
    JsonNode events = http.get("/admin/v1/users/" + other.userId(), as(reader)).json().get("events");
    assertTrue(events.toString().contains("\"actor\":\"admin:" + admin.userId() + "\""), events.toString());
    assertEquals(0, TestServer.cli(sesame.server(), "admin", "revoke", admin.email()).status());
    assertProblem(http.get("/admin/v1/users", "Cookie", passkeyCookie), 403, "admin_required");
    assertEquals(1, TestServer.cli(sesame.server(), "admin", "grant", "nobody@example.com").status());
    assertFalse(TestServer.cli(sesame.server(), "admin", "list").stdout().contains(admin.email()));
  }

  Http.Response passkeySignIn(SoftwareAuthenticator device, String email) {
    JsonNode options = new PasskeyClient(http).signInOptions(email);
    return http.post("/v1/passkeys/login/verify", Map.of("ceremonyId", options.get("ceremonyId").asText(),
        "credential", device.get(options.get("publicKey"))), "Origin", sesame.url(), "X-Sesame-Session", "cookie");
  }

  static String cookieSession(Http.Response signedIn) {
    assertEquals(200, signedIn.status(), signedIn.body());
    return signedIn.headers().get("set-cookie").stream().filter(c -> c.startsWith("sesame_at=")).findFirst()
        .orElseThrow().split(";")[0];
  }

  static int mailsTo(String email) {
    int n = 0;
    for (JsonNode m : http.get("/dev/mail", "Accept", "application/json").json()) {
      if (m.get("to").asText().equals(email)) {
        n++;
      }
    }
    return n;
  }

  @Test
  void an_operator_creates_and_invites_a_person() {
    String email = "new-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    Http.Response created = http.post("/admin/v1/users", Map.of("email", email.toUpperCase(), "invite", true),
        as(writer));
    assertEquals(201, created.status(), created.body());
    assertEquals(email, created.json().get("email").asText(), "stored lower-cased");
    assertFalse(created.json().get("emailVerified").asBoolean(), "verified by the first sign-in");
    assertEquals(1, mailsTo(email), "the invitation: a sign-in link and code");
    assertProblem(http.post("/admin/v1/users", Map.of("email", email), as(writer)), 409, "user_exists");
    assertProblem(http.post("/admin/v1/users", Map.of("email", "not an address"), as(writer)), 400,
        "invalid_email");
    assertProblem(http.post("/admin/v1/users", Map.of("email", "x@example.com"), as(reader)), 403,
        "insufficient_scope");
    String id = created.json().get("id").asText();
    assertEquals(202, http.post("/admin/v1/users/" + id + "/sign-in-email", "", as(writer)).status());
    assertEquals(2, mailsTo(email));
    String events = http.get("/admin/v1/users/" + id, as(reader)).json().get("events").toString();
    assertTrue(events.contains("user.created_by_admin") && events.contains("user.sign_in_email_sent")
        && events.contains("\"actor\":\"key:writer\""), events);
    assertEquals(id, dev.sesame.support.DevMailbox.signIn(http, email).get("user").get("id").asText(),
        "the person signs in to the account made for them");
  }

  @Test
  void a_disabled_person_cannot_sign_in_and_learns_nothing_more() {
    Account person = Account.signUp(http);
    SoftwareAuthenticator device = new PasskeyClient(http).registerNewDevice(person, sesame.url());
    String pendingFlow = http.post("/v1/email/start", Map.of("email", person.email())).json().get("flowId")
        .asText();
    String pendingCode = dev.sesame.support.DevMailbox.latestCode(http, person.email());

    Http.Response disabled = http.post("/admin/v1/users/" + person.userId() + "/disable", "", as(writer));
    assertEquals(200, disabled.status(), disabled.body());
    assertFalse(disabled.json().get("disabledAt").isNull());
    assertEquals(401, http.get("/v1/me", person.bearer()).status(), "signed out everywhere");
    // Email: the same answers as for anyone, and no email.
    int before = mailsTo(person.email());
    assertEquals(202, http.post("/v1/email/start", Map.of("email", person.email())).status());
    assertEquals(before, mailsTo(person.email()), "no email to a disabled account");
    assertProblem(http.post("/v1/email/verify", Map.of("flowId", pendingFlow, "code", pendingCode)), 410,
        "flow_expired");
    // Passkey: refused like a passkey the sign-in did not ask for (never "unknown": the device keeps it).
    assertProblem(new PasskeyClient(http).signIn(device, null), 401, "credential_not_allowed");
    assertEquals(1, http.get("/admin/v1/users?disabled=true&email=" + person.email(), as(reader)).json()
        .get("users").size());

    assertEquals(200, http.post("/admin/v1/users/" + person.userId() + "/enable", "", as(writer)).status());
    assertEquals(200, new PasskeyClient(http).signIn(device, null).status(), "enabled: the passkey works again");
    JsonNode events = http.get("/admin/v1/users/" + person.userId(), as(reader)).json().get("events");
    assertTrue(events.toString().contains("user.disabled") && events.toString().contains("user.enabled")
        && events.toString().contains("\"actor\":\"key:writer\""), events.toString());
  }

  @Test
  void erasing_a_person_leaves_no_email_or_passkey_of_theirs_anywhere() {
    Account person = Account.signUp(http);
    SoftwareAuthenticator device = new PasskeyClient(http).registerNewDevice(person, sesame.url());
    http.post("/v1/email/start", Map.of("email", person.email())); // a pending flow and another email
    String credentialHex = java.util.HexFormat.of().formatHex(device.credentials().get(0).id);
    // Metadata, a finished address change (a notice went to the old address) and a pending one (a link to the next).
    String marker = "marker-" + UUID.randomUUID();
    assertEquals(200, http.send("PATCH", "/admin/v1/users/" + person.userId(), Http.toJson(Map.of(
        "publicMetadata", Map.of("nick", marker), "privateMetadata", Map.of("note", marker))), as(writer)).status());
    String oldEmail = person.email();
    String moved = "moved-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    assertEquals(202, http.post("/admin/v1/users/" + person.userId() + "/email", Map.of("email", moved),
        as(writer)).status());
    assertEquals(200, http.post("/v1/email/change", Map.of("token", AdminProfileTest.changeTokenOn(http, moved)))
        .status());
    String next = "next-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    assertEquals(202, http.post("/admin/v1/users/" + person.userId() + "/email", Map.of("email", next),
        as(writer)).status());

    assertProblem(http.send("DELETE", "/admin/v1/users/" + person.userId(), null, as(reader)), 403,
        "insufficient_scope"); // a key without users:write cannot delete
    assertEquals(200, http.get("/v1/me", person.bearer()).status(), "nothing happened");
    assertEquals(204, http.send("DELETE", "/admin/v1/users/" + person.userId(), null, as(writer)).status());
    assertEquals(401, http.get("/v1/me", person.bearer()).status());
    assertProblem(http.get("/admin/v1/users/" + person.userId(), as(reader)), 404, "user_not_found");
    // Every row of every table, as text: the address, the passkey's id, and (outside the audit log's pseudonymous
    // user id and the logout notices) the user id appear nowhere.
    List<String> tables = sesame.jdbi().withHandle(h -> h.createQuery("""
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
            """).mapTo(String.class).list());
    assertTrue(tables.contains("users") && tables.contains("audit_events") && tables.size() > 10, tables.toString());
    for (String table : tables) {
      for (String personal : List.of(moved, next, marker)) {
        assertEquals(0, count(table, personal), table + " still holds " + personal);
      }
      int withEmail = count(table, oldEmail);
      int withPasskey = count(table, credentialHex);
      assertEquals(0, withEmail, table + " still holds the address");
      assertEquals(0, withPasskey, table + " still holds the passkey");
      if (!table.equals("audit_events") && !table.equals("logout_notices")) {
        assertEquals(0, count(table, person.userId()), table + " still holds the user id");
      }
    }
    int events = sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT count(*) FROM audit_events WHERE user_id = CAST(:id AS uuid) AND type = 'user.erased' "
            + "AND actor = 'key:writer'").bind("id", person.userId()).mapTo(Integer.class).one());
    assertEquals(1, events, "the erasure itself is recorded, by whom");
  }

  static int count(String table, String needle) {
    return sesame.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM \"" + table + "\" x "
        + "WHERE position(lower(:needle) IN lower(x::text)) > 0").bind("needle", needle).mapTo(Integer.class).one());
  }

  @Test
  void the_audit_log_is_queried_by_user_type_and_time_newest_first_in_pages() {
    String auditor = key("auditor", "audit:read");
    Account person = Account.signUp(http);
    new PasskeyClient(http).registerNewDevice(person, sesame.url());
    assertProblem(http.get("/admin/v1/audit", as(reader)), 403, "insufficient_scope");
    Http.Response all = http.get("/admin/v1/audit?user_id=" + person.userId(), as(auditor));
    assertEquals(200, all.status(), all.body());
    List<String> types = new ArrayList<>();
    long previous = Long.MAX_VALUE;
    for (JsonNode e : all.json().get("events")) {
      types.add(e.get("type").asText());
      assertTrue(e.get("id").asLong() < previous, "newest first");
      previous = e.get("id").asLong();
    }
    assertTrue(types.containsAll(List.of("user.created", "email.sign_in.succeeded", "passkey.added")),
        types.toString());
    Http.Response first = http.get("/admin/v1/audit?limit=1&user_id=" + person.userId(), as(auditor));
    String next = first.json().get("next").asText();
    Http.Response second = http.get("/admin/v1/audit?limit=1&user_id=" + person.userId() + "&cursor=" + next,
        as(auditor));
    assertTrue(second.json().get("events").get(0).get("id").asLong() < first.json().get("events").get(0)
        .get("id").asLong());
    assertEquals(1, http.get("/admin/v1/audit?type=passkey.added&user_id=" + person.userId(), as(auditor)).json()
        .get("events").size());
    assertEquals(0, http.get("/admin/v1/audit?from=2999-01-01T00:00:00Z", as(auditor)).json().get("events")
        .size());
    assertProblem(http.get("/admin/v1/audit?cursor=x", as(auditor)), 400, "invalid_cursor");
  }

  @Test
  void clients_are_managed_over_the_api_as_with_the_cli() {
    String clientAdmin = key("client-admin", "clients:read,clients:write,audit:read");
    Map<String, Object> metadata = Map.of("client_id", "billing-portal", "client_name", "Billing",
        "redirect_uris", List.of("https://billing.example/cb"));
    assertProblem(http.post("/admin/v1/clients", metadata, as(reader)), 403, "insufficient_scope");
    Http.Response created = http.post("/admin/v1/clients", metadata, as(clientAdmin));
    assertEquals(201, created.status(), created.body());
    String secret = created.json().get("client_secret").asText();
    assertTrue(secret.length() >= 32, "shown once, at creation");
    assertEquals("managed", created.json().get("source").asText());
    assertProblem(http.post("/admin/v1/clients", metadata, as(clientAdmin)), 409, "client_exists");
    assertProblem(http.post("/admin/v1/clients", Map.of("redirect_uris", List.of("http://evil.example/cb")),
        as(clientAdmin)), 400, "invalid_redirect_uri");
    JsonNode listed = http.get("/admin/v1/clients", as(clientAdmin)).json().get("clients");
    assertTrue(listed.toString().contains("billing-portal"), listed.toString());
    assertFalse(listed.toString().contains(secret), "a secret is never shown again");

    Http.Response updated = http.send("PATCH", "/admin/v1/clients/billing-portal",
        Http.toJson(Map.of("client_name", "Billing portal")), "Content-Type", "application/json", as(clientAdmin)[0],
        as(clientAdmin)[1]);
    assertEquals(200, updated.status(), updated.body());
    assertEquals("Billing portal", http.get("/admin/v1/clients/billing-portal", as(clientAdmin)).json()
        .get("client_name").asText());
    assertEquals("https://billing.example/cb", updated.json().get("redirect_uris").get(0).asText(), "the rest stays");
    String rotated = http.post("/admin/v1/clients/billing-portal/secret", "", as(clientAdmin)).json()
        .get("client_secret").asText();
    assertFalse(rotated.equals(secret));
    assertEquals(204, http.send("DELETE", "/admin/v1/clients/billing-portal", null, as(clientAdmin)).status());
    assertProblem(http.get("/admin/v1/clients/billing-portal", as(clientAdmin)), 404, "client_not_found");
    JsonNode events = http.get("/admin/v1/audit?type=client.secret_rotated", as(clientAdmin)).json().get("events");
    assertEquals("key:client-admin", events.get(0).get("actor").asText());
    assertEquals("billing-portal", events.get(0).get("details").get("clientId").asText());
  }

  @Test
  void passkey_sign_ins_racing_a_disable_leave_no_live_session() throws Exception {
    for (int round = 0; round < 4; round++) {
      Account person = Account.signUp(http);
      SoftwareAuthenticator device = new PasskeyClient(http).registerNewDevice(person, sesame.url());
      PasskeyClient passkeys = new PasskeyClient(http);
      List<JsonNode> assertions = new ArrayList<>();
      List<String> ceremonies = new ArrayList<>();
      for (int i = 0; i < 6; i++) { // ready before the race, so the race is on the verify step
        JsonNode options = passkeys.signInOptions(null);
        ceremonies.add(options.get("ceremonyId").asText());
        assertions.add(device.get(options.get("publicKey")));
      }
      List<java.util.concurrent.Callable<Integer>> calls = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        int n = i;
        calls.add(() -> passkeys.finishSignIn(ceremonies.get(n), assertions.get(n)).status());
      }
      calls.add(() -> http.post("/admin/v1/users/" + person.userId() + "/disable", "", as(writer)).status());
      List<Integer> statuses = dev.sesame.support.Parallel.run(calls);
      assertEquals(200, statuses.get(6), "the disable went through");
      int live = sesame.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM sessions "
          + "WHERE user_id = CAST(:id AS uuid) AND revoked_at IS NULL").bind("id", person.userId())
          .mapTo(Integer.class).one());
      assertEquals(0, live, "round " + round + ": a sign-in that raced the disable kept a session: " + statuses);
    }
  }

  /** The entry of {@code email} in an export by {@code key}. */
  static JsonNode exported(String email) {
    Http.Response r = http.get("/admin/v1/users/export", as(reader));
    assertEquals(200, r.status(), r.body());
    for (JsonNode u : r.json().get("users")) {
      if (u.get("email").asText().equals(email)) {
        return u;
      }
    }
    throw new AssertionError(email + " not exported");
  }

  @Test
  void a_users_write_key_cannot_take_over_an_administrator() {
    Account admin = Account.signUp(http);
    new PasskeyClient(http).registerNewDevice(admin, sesame.url());
    assertEquals(0, TestServer.cli(sesame.server(), "admin", "grant", admin.email()).status());
    String adminsKey = key("admins-" + UUID.randomUUID().toString().substring(0, 6),
        "users:read,users:write,admins:write");

    // (b) Moving the administrator's address to the key holder's mailbox.
    String path = "/admin/v1/users/" + admin.userId() + "/email";
    assertProblem(http.post(path, Map.of("email", "attacker-" + UUID.randomUUID() + "@example.com"), as(writer)), 403,
        "administrator_target");
    for (String p : List.of("/disable", "/passkeys/" + UUID.randomUUID())) {
      Http.Response r = p.startsWith("/passkeys") ? http.send("DELETE", "/admin/v1/users/" + admin.userId() + p,
          null, as(writer)) : http.post("/admin/v1/users/" + admin.userId() + p, "", as(writer));
      assertProblem(r, 403, "administrator_target");
    }
    assertProblem(http.send("DELETE", "/admin/v1/users/" + admin.userId(), null, as(writer)), 403,
        "administrator_target");

    // (a) Planting the key holder's passkey on the administrator through an import of their exported entry.
    Account attacker = Account.signUp(http);
    new PasskeyClient(http).registerNewDevice(attacker, sesame.url());
    JsonNode attackersPasskey = exported(attacker.email()).get("passkeys").get(0);
    assertEquals(204, http.send("DELETE", "/admin/v1/users/" + attacker.userId(), null, as(writer)).status());
    com.fasterxml.jackson.databind.node.ObjectNode entry = (com.fasterxml.jackson.databind.node.ObjectNode)
        exported(admin.email()).deepCopy();
    entry.putArray("passkeys").add(attackersPasskey);
    String file = "{\"format\":\"sesame-users/1\",\"users\":[" + entry + "]}";
    Http.Response refused = http.post("/admin/v1/users/import", file, "Content-Type", "application/json",
        "Authorization", "Bearer " + writer);
    assertProblem(refused, 400, "invalid_import");
    assertTrue(refused.body().contains("administrator"), refused.body());
    JsonNode events = http.get("/admin/v1/users/" + admin.userId(), as(reader)).json();
    assertEquals(1, events.get("passkeys").size(), "nothing was added");

    // With admins:write both go ahead, and the import's passkey is on the administrator's record.
    Http.Response imported = http.post("/admin/v1/users/import", file, "Content-Type", "application/json",
        "Authorization", "Bearer " + adminsKey);
    assertEquals(200, imported.status(), imported.body());
    assertEquals(1, imported.json().get("passkeysAdded").asInt());
    JsonNode after = http.get("/admin/v1/users/" + admin.userId(), as(reader)).json();
    assertEquals(2, after.get("passkeys").size());
    assertTrue(after.get("events").toString().contains("\"via\":\"import\""), after.get("events").toString());
    assertEquals(202, http.post(path, Map.of("email", "moved-" + UUID.randomUUID() + "@example.com"),
        as(adminsKey)).status());
  }

  @Test
  void an_unknown_query_parameter_is_400_naming_it() {
    Http.Response misspelt = http.get("/admin/v1/users?emial=ana", as(reader));
    assertProblem(misspelt, 400, "unknown_parameter");
    assertTrue(misspelt.body().contains("'emial'") && misspelt.body().contains("email"), misspelt.body());
    assertProblem(http.get("/admin/v1/audit?user=x", as(reader)), 400, "unknown_parameter");
    assertProblem(http.get("/admin/v1/clients?client_id=x", as(reader)), 400, "unknown_parameter");
    assertEquals(200, http.get("/admin/v1/users?email=ana&limit=5", as(reader)).status());
  }

  @Test
  void the_console_cannot_lock_itself_out() {
    Account admin = Account.signUp(http);
    SoftwareAuthenticator device = new PasskeyClient(http).registerNewDevice(admin, sesame.url());
    assertEquals(0, TestServer.cli(sesame.server(), "admin", "grant", admin.email()).status());
    String console = cookieSession(passkeySignIn(device, admin.email()));
    String[] csrf = {"Cookie", console, "Origin", sesame.url(), "X-Sesame-CSRF", "1"};
    assertProblem(http.post("/admin/v1/users/" + admin.userId() + "/disable", "", csrf), 409, "own_account");
    assertProblem(http.send("DELETE", "/admin/v1/users/" + admin.userId(), null, csrf), 409, "own_account");
    // The last administrator who can sign in: not even a key with admins:write disables or erases them.
    List<String> others = new ArrayList<>();
    for (String line : TestServer.cli(sesame.server(), "admin", "list").stdout().lines().toList()) {
      String email = line.strip().split("\\s+")[0];
      if (email.contains("@") && !email.equals(admin.email())) {
        others.add(email);
      }
    }
    for (String email : others) {
      assertEquals(0, TestServer.cli(sesame.server(), "admin", "revoke", email).status());
    }
    String keeper = key("keeper-" + UUID.randomUUID().toString().substring(0, 6), "users:write,admins:write");
    assertProblem(http.post("/admin/v1/users/" + admin.userId() + "/disable", "", as(keeper)), 409,
        "last_administrator");
    assertProblem(http.send("DELETE", "/admin/v1/users/" + admin.userId(), null, as(keeper)), 409,
        "last_administrator");
    // With a second administrator, the key may.
    Account second = Account.signUp(http);
    assertEquals(0, TestServer.cli(sesame.server(), "admin", "grant", second.email()).status());
    assertEquals(200, http.post("/admin/v1/users/" + admin.userId() + "/disable", "", as(keeper)).status());
    assertEquals(200, http.post("/admin/v1/users/" + admin.userId() + "/enable", "", as(keeper)).status());
  }
}
