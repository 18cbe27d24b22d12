package dev.sesame.email;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import static dev.sesame.support.Problems.assertProblem;

import dev.sesame.support.Http;
import dev.sesame.support.MailInbox;
import dev.sesame.support.SmtpServers;
import dev.sesame.support.TestServer;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class EmailSignInTest {
  @RegisterExtension
  static GreenMailExtension greenMail =
      new GreenMailExtension(SmtpServers.smtpSetup()).withPerMethodLifecycle(false);

  static TestServer server;
  static Http http;
  static MailInbox inbox;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(
        "SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(greenMail.getSmtp().getPort()),
        "SESAME_SMTP_TLS", "none",
        "SESAME_RP_NAME", "Acme Notes",
        "SESAME_REDIRECT_ALLOWLIST", "https://app.example/welcome"));
    http = server.http();
    inbox = new MailInbox(greenMail);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String newEmail() {
    return "user-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
  }

  static JsonNode startFlow(String email) {
    Http.Response r = http.post("/v1/email/start", Map.of("email", email));
    assertEquals(202, r.status(), r.body());
    return r.json();
  }

  @Test
  void link_flow_signs_in_a_new_user_from_the_real_email() {
    String email = newEmail();
    JsonNode started = startFlow(email);
    assertEquals(600, started.get("expiresIn").asInt());
    assertNotNull(UUID.fromString(started.get("flowId").asText()));

    MailInbox.SignInMail mail = inbox.next(email);
    assertTrue(mail.subject().contains("Acme Notes"), mail.subject());
    assertTrue(mail.html().contains("Sign in to Acme Notes"));
    assertTrue(mail.html().contains(mail.code()), "the HTML part carries the code too");
    assertTrue(mail.link().startsWith(server.url() + "/email/confirm?token="), mail.link());
    assertTrue(mail.text().contains("expire in 10 minutes"), mail.text());

    Http.Response r = http.post("/v1/email/verify", Map.of("token", mail.token()));
    assertEquals(200, r.status(), r.body());
    JsonNode tokens = r.json();
    assertEquals("Bearer", tokens.get("token_type").asText());
    assertEquals(900, tokens.get("expires_in").asInt());
    assertEquals(30 * 86400, tokens.get("refresh_expires_in").asInt());
    assertFalse(tokens.get("access_token").asText().isEmpty());
    assertFalse(tokens.get("refresh_token").asText().isEmpty());
    assertNotNull(UUID.fromString(tokens.get("session_id").asText()));
    assertEquals(email, tokens.get("user").get("email").asText());
    assertTrue(tokens.get("user").get("emailVerified").asBoolean());
    assertEquals("no-store", r.header("Cache-Control"));

    Http.Response me = http.get("/v1/me", "Authorization", "Bearer " + tokens.get("access_token").asText());
    assertEquals(200, me.status(), me.body());
    assertEquals(tokens.get("user").get("id").asText(), me.json().get("id").asText());
    assertTrue(me.json().get("emailVerified").asBoolean());

    List<String> events = server.jdbi().withHandle(h -> h.createQuery(
            "SELECT type FROM audit_events WHERE user_id = :id ORDER BY id")
        .bind("id", UUID.fromString(tokens.get("user").get("id").asText())).mapTo(String.class).list());
    assertEquals(List.of("user.created", "email.sign_in.succeeded"), events);
    // The sign-in's event is written with its session (same statement): it names that session and the address.
    Map<String, Object> signIn = server.jdbi().withHandle(h -> h.createQuery(
            "SELECT session_id, ip, details->>'method' AS method FROM audit_events"
                + " WHERE type = 'email.sign_in.succeeded' AND user_id = :id")
        .bind("id", UUID.fromString(tokens.get("user").get("id").asText())).mapToMap().one());
    assertEquals(UUID.fromString(tokens.get("session_id").asText()), signIn.get("session_id"));
    assertEquals("127.0.0.1", signIn.get("ip"));
    assertNotNull(signIn.get("method"));
  }

  @Test
  void code_flow_signs_in_and_the_second_sign_in_reuses_the_account() {
    String email = newEmail();
    JsonNode first = startFlow(email);
    MailInbox.SignInMail mail1 = inbox.next(email);
    Http.Response r1 = http.post("/v1/email/verify",
        Map.of("flowId", first.get("flowId").asText(), "code", mail1.code()));
    assertEquals(200, r1.status(), r1.body());

    // The same person, typing their address differently, is the same account.
    JsonNode second = startFlow("  " + email.toUpperCase() + " ");
    MailInbox.SignInMail mail2 = inbox.next(email);
    Http.Response r2 = http.post("/v1/email/verify",
        Map.of("flowId", second.get("flowId").asText(), "code", mail2.code()));
    assertEquals(200, r2.status(), r2.body());
    assertEquals(r1.json().get("user").get("id"), r2.json().get("user").get("id"));
    assertNotEquals(r1.json().get("session_id"), r2.json().get("session_id"));
  }

  @Test
  void opening_the_link_with_get_or_head_never_consumes_it() {
    String email = newEmail();
    startFlow(email);
    MailInbox.SignInMail mail = inbox.next(email);
    String path = mail.link().substring(server.url().length());
    for (int i = 0; i < 3; i++) {
      Http.Response page = http.get(path);
      assertEquals(200, page.status());
      assertTrue(page.header("Content-Type").startsWith("text/html"));
      assertTrue(page.body().contains(email), "the confirm page shows who is signing in");
      assertTrue(page.body().contains(">Sign in</button>"));
      assertEquals("no-referrer", page.header("Referrer-Policy"));
      assertEquals(200, http.head(path).status());
    }
    assertEquals(200, http.post("/v1/email/verify", Map.of("token", mail.token())).status());

    Http.Response afterUse = http.get(path);
    assertEquals(200, afterUse.status());
    assertTrue(afterUse.body().contains("can’t be used"));
    assertFalse(afterUse.body().contains(email));
  }

  @Test
  void a_link_or_code_works_only_once() {
    String email = newEmail();
    JsonNode flow = startFlow(email);
    MailInbox.SignInMail mail = inbox.next(email);
    assertEquals(200, http.post("/v1/email/verify", Map.of("token", mail.token())).status());

    Http.Response again = http.post("/v1/email/verify", Map.of("token", mail.token()));
    assertProblem(again, 410, "flow_used");
    Http.Response code = http.post("/v1/email/verify",
        Map.of("flowId", flow.get("flowId").asText(), "code", mail.code()));
    assertProblem(code, 410, "flow_used");
  }

  @Test
  void an_expired_link_or_code_is_refused() {
    String email = newEmail();
    JsonNode flow = startFlow(email);
    MailInbox.SignInMail mail = inbox.next(email);
    server.jdbi().useHandle(h -> h.execute(
        "UPDATE email_flows SET expires_at = now() - interval '1 second' WHERE id = ?",
        UUID.fromString(flow.get("flowId").asText())));

    assertProblem(http.post("/v1/email/verify", Map.of("token", mail.token())), 410, "flow_expired");
    assertProblem(http.post("/v1/email/verify", Map.of("flowId", flow.get("flowId").asText(), "code", mail.code())),
        410, "flow_expired");
    assertTrue(http.get("/email/confirm?token=" + mail.token()).body().contains("can’t be used"));
  }

  @Test
  void unknown_tokens_and_flows_are_refused() {
    assertProblem(http.post("/v1/email/verify", Map.of("token", "not-a-real-token")), 400, "flow_not_found");
    assertProblem(http.post("/v1/email/verify", Map.of("flowId", UUID.randomUUID().toString(), "code", "123456")),
        400, "flow_not_found");
    assertProblem(http.post("/v1/email/verify", Map.of("flowId", "nope", "code", "123456")), 400, "flow_not_found");
    assertProblem(http.post("/v1/email/verify", Map.of("flowId", UUID.randomUUID().toString(), "code", "12ab56")),
        400, "invalid_code");
  }

  @Test
  void five_wrong_codes_kill_the_flow_even_for_the_right_code() {
    String email = newEmail();
    JsonNode flow = startFlow(email);
    MailInbox.SignInMail mail = inbox.next(email);
    String wrong = mail.code().equals("000000") ? "111111" : "000000";
    String flowId = flow.get("flowId").asText();
    for (int attempt = 1; attempt <= 4; attempt++) {
      Http.Response r = http.post("/v1/email/verify", Map.of("flowId", flowId, "code", wrong));
      assertProblem(r, 400, "wrong_code");
      assertTrue(r.json().get("detail").asText().contains((5 - attempt) + " attempt"), r.body());
    }
    assertProblem(http.post("/v1/email/verify", Map.of("flowId", flowId, "code", wrong)), 410, "flow_locked");
    assertProblem(http.post("/v1/email/verify", Map.of("flowId", flowId, "code", mail.code())), 410, "flow_locked");
    assertProblem(http.post("/v1/email/verify", Map.of("token", mail.token())), 410, "flow_locked");
    List<String> reasons = server.jdbi().withHandle(h -> h.createQuery("""
            SELECT details->>'reason' FROM audit_events
            WHERE type = 'email.sign_in.failed' AND details->>'flowId' = :f ORDER BY id""")
        .bind("f", flowId).mapTo(String.class).list());
    assertEquals(List.of("wrong_code", "wrong_code", "wrong_code", "wrong_code", "wrong_code", "flow_locked",
        "flow_locked"), reasons);
  }

  @Test
  void unknown_and_known_emails_get_the_same_answer_and_the_same_email() {
    String known = newEmail();
    startFlow(known);
    assertEquals(200, http.post("/v1/email/verify", Map.of("token", inbox.next(known).token())).status());

    String unknown = newEmail();
    Http.Response forKnown = http.post("/v1/email/start", Map.of("email", known));
    Http.Response forUnknown = http.post("/v1/email/start", Map.of("email", unknown));
    assertEquals(forKnown.status(), forUnknown.status());
    assertEquals(202, forUnknown.status());
    assertEquals(fieldNames(forKnown.json()), fieldNames(forUnknown.json()));
    MailInbox.SignInMail toKnown = inbox.next(known);
    MailInbox.SignInMail toUnknown = inbox.next(unknown);
    assertEquals(toKnown.text().replace(toKnown.link(), "").replace(toKnown.code(), ""),
        toUnknown.text().replace(toUnknown.link(), "").replace(toUnknown.code(), ""),
        "the email itself does not differ between new and existing accounts");
    int accounts = server.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM users WHERE email = :e")
        .bind("e", unknown).mapTo(Integer.class).one());
    assertEquals(0, accounts, "no account exists before the email is verified");
  }

  @Test
  void a_newer_email_leaves_the_older_one_usable() {
    String email = newEmail();
    JsonNode first = startFlow(email);
    MailInbox.SignInMail mail1 = inbox.next(email);
    startFlow(email);
    inbox.next(email);
    Http.Response r = http.post("/v1/email/verify", Map.of("flowId", first.get("flowId").asText(),
        "code", mail1.code()));
    assertEquals(200, r.status(), r.body());
  }

  @Test
  void invalid_emails_are_refused_and_idn_domains_accepted() {
    for (String bad : List.of("", "plainaddress", "@example.com", "a@", "a@b", "a b@example.com",
        "a@exa mple.com", "a@-example.com", "a@example..com", "x".repeat(65) + "@example.com", "a@127.0.0.1")) {
      assertProblem(http.post("/v1/email/start", Map.of("email", bad)), 400, "invalid_email");
    }
    String idn = "jürgen-" + UUID.randomUUID().toString().substring(0, 6) + "@Bücher.example";
    Http.Response ok = http.post("/v1/email/start", Map.of("email", idn.replace("jürgen", "juergen")));
    assertEquals(202, ok.status(), ok.body());
    assertNotNull(inbox.next(idn.replace("jürgen", "juergen").replace("Bücher", "xn--bcher-kva").toLowerCase()));
  }

  @Test
  void redirect_targets_must_be_allow_listed() {
    String email = newEmail();
    String challenge = "c".repeat(43);
    assertEquals(202, http.post("/v1/email/start", Map.of("email", email,
        "redirectTo", "https://app.example/welcome/next?x=1", "codeChallenge", challenge)).status());
    for (String bad : List.of("https://evil.example/welcome", "https://app.example/other",
        "https://app.example.evil.com/welcome", "https://app.example/welcome/../admin", "javascript:alert(1)",
        "/welcome", "https://user@app.example/welcome")) {
      assertProblem(http.post("/v1/email/start", Map.of("email", email, "redirectTo", bad,
          "codeChallenge", challenge)), 400, "invalid_redirect");
    }
  }

  @Test
  void only_hashes_of_tokens_and_codes_are_stored_and_delivered_mail_is_wiped() throws Exception {
    String email = newEmail();
    JsonNode flow = startFlow(email);
    MailInbox.SignInMail mail = inbox.next(email);
    Map<String, Object> row = server.jdbi().withHandle(h -> h.createQuery(
        "SELECT * FROM email_flows WHERE id = :id").bind("id", UUID.fromString(flow.get("flowId").asText()))
        .mapToMap().one());
    String dump = row.toString() + HexFormat.of().formatHex((byte[]) row.get("token_hash"))
        + HexFormat.of().formatHex((byte[]) row.get("code_hash"));
    assertFalse(dump.contains(mail.token()));
    assertFalse(dump.contains(mail.code()));
    assertEquals(32, ((byte[]) row.get("token_hash")).length);

    // Once delivered, the outbox keeps no copy of the live link and code.
    Map<String, Object> outboxRow = awaitSent(email);
    assertNull(outboxRow.get("text_body"));
    assertNull(outboxRow.get("html_body"));
  }

  private Map<String, Object> awaitSent(String email) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      Map<String, Object> row = server.jdbi().withHandle(h -> h.createQuery(
          "SELECT * FROM email_outbox WHERE recipient = :r ORDER BY id DESC LIMIT 1").bind("r", email)
          .mapToMap().one());
      if ("sent".equals(row.get("status"))) {
        return row;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("outbox row for " + email + " never marked sent");
  }

  static List<String> fieldNames(JsonNode node) {
    List<String> names = new java.util.ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Test
  void the_waiting_page_can_ask_where_its_sign_in_stands_and_a_wrong_code_says_the_tries_left() {
    String email = newEmail();
    String flowId = startFlow(email).get("flowId").asText();
    MailInbox.SignInMail mail = inbox.next(email);
    assertEquals("pending", http.get("/v1/email/flows/" + flowId).json().get("status").asText());
    Http.Response wrong = http.post("/v1/email/verify", Map.of("flowId", flowId,
        "code", mail.code().equals("000000") ? "111111" : "000000"));
    assertProblem(wrong, 400, "wrong_code");
    assertEquals(4, wrong.json().get("attemptsLeft").asInt());
    assertEquals(200, http.post("/v1/email/verify", Map.of("token", mail.token())).status());
    assertEquals("finished", http.get("/v1/email/flows/" + flowId).json().get("status").asText(),
        "finished with the link elsewhere");
    server.jdbi().useHandle(h -> h.execute("UPDATE email_flows SET consumed_at = NULL, expires_at = now() "
        + "- interval '1 minute' WHERE id = CAST(? AS uuid)", flowId));
    assertEquals("ended", http.get("/v1/email/flows/" + flowId).json().get("status").asText());
    assertEquals("pending", http.get("/v1/email/flows/" + UUID.randomUUID()).json().get("status").asText(),
        "no flow (a disabled account's start writes none) looks like any pending one");
    assertProblem(http.get("/v1/email/flows/not-a-uuid"), 404, "flow_not_found");
  }
}
