package dev.sesame.email;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.Http;
import dev.sesame.support.Parallel;
import dev.sesame.support.SesameServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Guessing codes: limited per address across flows and client addresses; the link still works; one use ends all. */
class EmailCodeGuessingTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.with(Map.of("SESAME_RATE_LIMIT_CODE", "4/1h",
      "SESAME_RATE_LIMIT_EMAIL", "100/1m", "SESAME_TRUSTED_PROXIES", "127.0.0.1/32"));

  private static final Pattern CODE = Pattern.compile("enter this code: (\\d{6})");
  private static final Pattern LINK = Pattern.compile("(http\\S+/email/confirm\\?token=\\S+)");

  record Mail(String flowId, String code, String token) {}

  /** Starts a flow from {@code ip} and reads its email from the development mailbox. */
  static Mail start(String email, String ip) {
    Http.Response r = sesame.http().post("/v1/email/start", Map.of("email", email), "X-Forwarded-For", ip);
    assertEquals(202, r.status(), r.body());
    JsonNode latest = null;
    for (JsonNode m : sesame.http().get("/dev/mail", "Accept", "application/json").json()) {
      if (m.get("to").asText().equals(email)) {
        latest = m;
        break; // newest first
      }
    }
    String text = latest.get("text").asText();
    Matcher code = CODE.matcher(text);
    Matcher link = LINK.matcher(text);
    assertTrue(code.find() && link.find(), text);
    return new Mail(r.json().get("flowId").asText(), code.group(1), link.group(1).replaceAll(".*token=", ""));
  }

  static String wrong(String code) {
    return String.format("%06d", (Integer.parseInt(code) + 1) % 1_000_000);
  }

  static Http.Response verifyCode(Mail mail, String code, String ip) {
    return sesame.http().post("/v1/email/verify", Map.of("flowId", mail.flowId(), "code", code), "X-Forwarded-For", ip);
  }

  @Test
  void codes_per_address_are_capped_across_flows_and_client_addresses_but_the_link_still_works() {
    String email = "guessed@example.com";
    List<Mail> flows = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      flows.add(start(email, "203.0.113." + (10 + i)));
    }
    // 4 wrong codes, spread over three flows (each allows 5) and four client addresses.
    for (int i = 0; i < 4; i++) {
      Mail target = flows.get(i % 3);
      assertProblem(verifyCode(target, wrong(target.code()), "198.51.100." + i), 400, "wrong_code");
    }
    // The cap is on the address: even the right code is now refused, from anywhere.
    Http.Response limited = verifyCode(flows.get(2), flows.get(2).code(), "192.0.2.77");
    assertProblem(limited, 429, "code_attempts_limited");
    long retryAfter = Long.parseLong(limited.header("Retry-After"));
    assertTrue(retryAfter > 0 && retryAfter <= 3600, "Retry-After " + retryAfter);
    assertTrue(limited.json().get("detail").asText().contains("link"), "points to the link");
    // A fresh flow changes nothing for codes...
    Mail fresh = start(email, "203.0.113.99");
    assertProblem(verifyCode(fresh, fresh.code(), "192.0.2.78"), 429, "code_attempts_limited");
    // ...but the person who has the email signs in with its link.
    Http.Response byLink = sesame.http().post("/v1/email/verify", Map.of("token", fresh.token()));
    assertEquals(200, byLink.status(), byLink.body());
    int audited = sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT count(*) FROM audit_events WHERE type = 'email.code_guesses.limited'").mapTo(Integer.class).one());
    assertEquals(2, audited, "each refusal is audited");
  }

  @Test
  void concurrent_guesses_cannot_slip_past_the_cap() throws Exception {
    String email = "raced@example.com";
    List<Mail> flows = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      flows.add(start(email, "203.0.113." + (20 + i)));
    }
    List<Callable<Integer>> guesses = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      Mail target = flows.get(i % 4);
      String ip = "198.51.100." + (100 + i);
      guesses.add(() -> verifyCode(target, wrong(target.code()), ip).status());
    }
    List<Integer> statuses = Parallel.run(guesses);
    assertEquals(4, statuses.stream().filter(s -> s == 400).count(), statuses.toString());
    assertEquals(12, statuses.stream().filter(s -> s == 429).count(), statuses.toString());
    int checked = sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT sum(failed_attempts) FROM email_flows WHERE email = :email").bind("email", email)
        .mapTo(Integer.class).one());
    assertEquals(4, checked, "only 4 codes were ever compared");
  }

  @Test
  void a_successful_sign_in_ends_the_addresss_other_pending_flows() {
    String email = "many-mails@example.com";
    Mail older = start(email, "203.0.113.30");
    Mail oldest = start(email, "203.0.113.31");
    Mail used = start(email, "203.0.113.32");
    Mail otherPerson = start("someone-else@example.com", "203.0.113.33");
    assertEquals(200, verifyCode(used, used.code(), "203.0.113.32").status());
    assertProblem(verifyCode(older, older.code(), "203.0.113.30"), 410, "flow_used");
    assertProblem(sesame.http().post("/v1/email/verify", Map.of("token", oldest.token())), 410, "flow_used");
    assertTrue(sesame.http().get("/email/confirm?token=" + oldest.token()).body().contains("can’t be used"));
    assertEquals(200, verifyCode(otherPerson, otherPerson.code(), "203.0.113.33").status(), "others' flows stay");
  }
}
