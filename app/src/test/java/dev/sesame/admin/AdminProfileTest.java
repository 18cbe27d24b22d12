package dev.sesame.admin;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.Account;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.Parallel;
import dev.sesame.support.SesameServer;
import dev.sesame.support.TestServer;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What an operator changes about a person: metadata (public and private, size-limited) and the address. */
class AdminProfileTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();
  static Http http;
  static String reader;
  static String writer;

  @BeforeAll
  static void keys() {
    http = sesame.http();
    reader = TestServer.cli(sesame.server(), "service-key", "create", "r", "--scopes", "users:read").stdout().strip();
    writer = TestServer.cli(sesame.server(), "service-key", "create", "w", "--scopes", "users:read,users:write")
        .stdout().strip();
  }

  static Http.Response patch(String id, Object body, String key) {
    return http.send("PATCH", "/admin/v1/users/" + id, Http.toJson(body), "Authorization", "Bearer " + key,
        "Content-Type", "application/json");
  }

  @Test
  void metadata_is_set_checked_and_audited() {
    Account person = Account.signUp(http);
    Http.Response r = patch(person.userId(), Map.of("publicMetadata", Map.of("plan", "pro"),
        "privateMetadata", Map.of("note", "VIP <b>")), writer);
    assertEquals(200, r.status(), r.body());
    assertEquals("pro", r.json().get("publicMetadata").get("plan").asText());
    // Only the given one is replaced.
    r = patch(person.userId(), Map.of("publicMetadata", Map.of()), writer);
    assertEquals(0, r.json().get("publicMetadata").size());
    assertEquals("VIP <b>", r.json().get("privateMetadata").get("note").asText());

    assertProblem(patch(person.userId(), Map.of("publicMetadata", Map.of("x", "y")), reader), 403,
        "insufficient_scope");
    assertProblem(patch(person.userId(), Map.of("publicMetadata", List.of(1, 2)), writer), 400, "invalid_metadata");
    assertProblem(patch(person.userId(), Map.of("publicMetadata", "text"), writer), 400, "invalid_metadata");
    assertProblem(patch(person.userId(), Map.of("privateMetadata", Map.of("big", "x".repeat(5000))), writer), 400,
        "metadata_too_large");
    assertProblem(patch(person.userId(), Map.of(), writer), 400, "invalid_request");
    assertProblem(patch(UUID.randomUUID().toString(), Map.of("publicMetadata", Map.of()), writer), 404,
        "user_not_found");
    JsonNode events = http.get("/admin/v1/users/" + person.userId(), "Authorization", "Bearer " + reader).json()
        .get("events");
    assertTrue(events.toString().contains("\"type\":\"user.updated\""), events.toString());
    assertTrue(events.toString().contains("\"actor\":\"key:w\""), events.toString());
  }

  private static final Pattern CHANGE_LINK = Pattern.compile("/email/change\\?token=([A-Za-z0-9_-]+)");

  static String changeToken(String to) {
    return changeTokenOn(http, to);
  }

  /** The token of the newest address-change link sent to {@code to}, from the development mailbox. */
  static String changeTokenOn(Http http, String to) {
    for (JsonNode message : http.get("/dev/mail", "Accept", "application/json").json()) {
      if (message.get("to").asText().equals(to)) {
        Matcher m = CHANGE_LINK.matcher(message.get("text").asText());
        if (m.find()) {
          return m.group(1);
        }
      }
    }
    throw new AssertionError("no change link to " + to);
  }

  static String newAddress() {
    return "n-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
  }

  @Test
  void a_new_address_takes_effect_only_when_confirmed_from_it() {
    Account person = Account.signUp(http);
    String to = newAddress();
    // A sign-in email to the old address, pending while the address changes.
    String pendingFlow = http.post("/v1/email/start", Map.of("email", person.email())).json().get("flowId").asText();
    String pendingCode = DevMailbox.latestCode(http, person.email());

    Http.Response asked = http.post("/admin/v1/users/" + person.userId() + "/email", Map.of("email", to.toUpperCase()),
        "Authorization", "Bearer " + writer);
    assertEquals(202, asked.status(), asked.body());
    assertEquals(to, asked.json().get("pendingEmail").asText());
    assertEquals(person.email(), user(person).get("email").asText(), "nothing changes before the confirmation");
    String token = changeToken(to);
    Http.Response page = http.get("/email/change?token=" + token);
    assertEquals(200, page.status());
    assertTrue(page.body().contains(to), "the page names the new address");
    assertTrue(page.body().contains("expires in 24 hours"), "a day in hours, not 1,432 minutes: " + page.body());
    assertEquals(person.email(), user(person).get("email").asText(), "opening the page changes nothing");

    Http.Response confirmed = http.post("/v1/email/change", Map.of("token", token));
    assertEquals(200, confirmed.status(), confirmed.body());
    assertEquals(to, user(person).get("email").asText());
    assertProblem(http.post("/v1/email/change", Map.of("token", token)), 410, "link_expired");
    assertTrue(http.get("/email/change?token=" + token).body().contains("can’t be used"));
    // The old address is told, and its pending sign-in email no longer signs in (it would create a new account):
    // what Sesame kept about the old address is gone.
    assertTrue(http.get("/dev/mail", "Accept", "application/json").body().contains("was changed"));
    assertProblem(http.post("/v1/email/verify", Map.of("flowId", pendingFlow, "code", pendingCode)), 400,
        "flow_not_found");
    // The person signs in with the new address, into the same account.
    assertEquals(person.userId(), DevMailbox.signIn(http, to).get("user").get("id").asText());
    String events = user(person).toString();
    JsonNode all = http.get("/admin/v1/users/" + person.userId(), "Authorization", "Bearer " + reader).json();
    assertTrue(all.get("events").toString().contains("user.email_change_requested"), events);
    assertTrue(all.get("events").toString().contains("user.email_changed"), events);
  }

  @Test
  void an_address_in_use_is_refused_and_two_people_cannot_both_take_one() throws Exception {
    Account a = Account.signUp(http);
    Account b = Account.signUp(http);
    assertProblem(http.post("/admin/v1/users/" + a.userId() + "/email", Map.of("email", b.email()),
        "Authorization", "Bearer " + writer), 409, "email_taken");
    assertProblem(http.post("/admin/v1/users/" + a.userId() + "/email", Map.of("email", a.email()),
        "Authorization", "Bearer " + writer), 400, "same_email");
    assertProblem(http.post("/admin/v1/users/" + a.userId() + "/email", Map.of("email", "not an address"),
        "Authorization", "Bearer " + writer), 400, "invalid_email");
    assertProblem(http.post("/admin/v1/users/" + a.userId() + "/email", Map.of("email", newAddress()),
        "Authorization", "Bearer " + reader), 403, "insufficient_scope");
    assertProblem(http.post("/v1/email/change", Map.of("token", "nonsense")), 410, "link_expired");

    // Both asked to move to one free address; both confirm at once: one gets it, the other a clear 409.
    String contested = newAddress();
    for (Account p : List.of(a, b)) {
      assertEquals(202, http.post("/admin/v1/users/" + p.userId() + "/email", Map.of("email", contested),
          "Authorization", "Bearer " + writer).status());
    }
    List<String> tokens = List.of(changeTokens(contested).get(0), changeTokens(contested).get(1));
    List<Callable<Integer>> calls = tokens.stream().<Callable<Integer>>map(t ->
        () -> http.post("/v1/email/change", Map.of("token", t)).status()).toList();
    List<Integer> statuses = Parallel.run(calls);
    assertEquals(List.of(200, 409), statuses.stream().sorted().toList(), statuses.toString());
    long holders = sesame.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM users WHERE email = :e")
        .bind("e", contested).mapTo(Long.class).one());
    assertEquals(1, holders);
  }

  static List<String> changeTokens(String to) {
    List<String> out = new java.util.ArrayList<>();
    for (JsonNode message : http.get("/dev/mail", "Accept", "application/json").json()) {
      if (message.get("to").asText().equals(to)) {
        Matcher m = CHANGE_LINK.matcher(message.get("text").asText());
        if (m.find()) {
          out.add(m.group(1));
        }
      }
    }
    return out;
  }

  static JsonNode user(Account person) {
    return http.get("/admin/v1/users/" + person.userId(), "Authorization", "Bearer " + reader).json().get("user");
  }
}
