package dev.sesame.ratelimit;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.Account;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.Parallel;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One account must not grow the database without bound (the audit: 3,538 refreshes and 1,599 passkey sign-ins in
 * 20 s, each writing rows): refreshes per session, successful passkey sign-ins per account and passkey sign-in
 * attempts per address are limited, inside the statements that would write, so a refused one writes nothing.
 */
class AccountLimitsTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.with(Map.of("SESAME_RATE_LIMIT_REFRESH", "3/1h",
      "SESAME_RATE_LIMIT_SIGN_IN", "2/1h"));

  static int count(String sql, Object arg) {
    return sesame.jdbi().withHandle(h -> h.createQuery(sql).bind(0, arg).mapTo(Integer.class).one());
  }

  @Test
  void refreshes_per_session_are_limited_and_a_refused_one_writes_nothing() {
    JsonNode signedIn = DevMailbox.signIn(sesame.http(), "r-" + UUID.randomUUID() + "@example.com");
    String session = signedIn.get("session_id").asText();
    String token = signedIn.get("refresh_token").asText();
    for (int i = 0; i < 3; i++) {
      Http.Response r = sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token));
      assertEquals(200, r.status(), r.body());
      token = r.json().get("refresh_token").asText();
    }
    int tokens = count("SELECT count(*) FROM refresh_tokens WHERE session_id = CAST(? AS uuid)", session);
    Http.Response limited = sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token));
    assertProblem(limited, 429, "rate_limited");
    assertTrue(Long.parseLong(limited.header("Retry-After")) >= 1);
    assertEquals(tokens, count("SELECT count(*) FROM refresh_tokens WHERE session_id = CAST(? AS uuid)", session));
    // The token was not spent by the refusal: it still works once the session may refresh again.
    sesame.jdbi().useHandle(h -> h.execute("DELETE FROM rate_limits WHERE bucket = ?", "refresh:session:" + session));
    assertEquals(200, sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token)).status());
  }

  @Test
  void tabs_refreshing_at_once_get_exactly_what_the_limit_allows() throws Exception {
    JsonNode signedIn = DevMailbox.signIn(sesame.http(), "t-" + UUID.randomUUID() + "@example.com");
    String token = signedIn.get("refresh_token").asText();
    List<Http.Response> answers = Parallel.run(Collections.nCopies(8,
        () -> sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token))));
    long ok = answers.stream().filter(r -> r.status() == 200).count();
    long limited = answers.stream().filter(r -> r.status() == 429).count();
    assertEquals(3, ok, answers.toString());
    assertEquals(5, limited, answers.toString());
  }

  @Test
  void successful_passkey_sign_ins_per_account_are_limited() {
    Account person = Account.signUp(sesame.http());
    PasskeyClient passkeys = new PasskeyClient(sesame.http());
    SoftwareAuthenticator device = passkeys.registerNewDevice(person, sesame.url());
    int before = count("SELECT count(*) FROM sessions WHERE user_id = CAST(? AS uuid)", person.userId());
    assertEquals(200, passkeys.signIn(device, null).status());
    assertEquals(200, passkeys.signIn(device, null).status());
    assertProblem(passkeys.signIn(device, null), 429, "rate_limited");
    assertEquals(before + 2, count("SELECT count(*) FROM sessions WHERE user_id = CAST(? AS uuid)",
        person.userId()), "the refused sign-in started no session");
    // Another person is not held up by it.
    Account other = Account.signUp(sesame.http());
    assertEquals(200, passkeys.signIn(passkeys.registerNewDevice(other, sesame.url()), null).status());
  }

  @Test
  void passkey_sign_in_attempts_per_address_are_limited() {
    // Each kind of request has its own bucket per address (email starts, code checks, passkey sign-ins).
    try (TestServer server = TestServer.start(Map.of("SESAME_RATE_LIMIT_IP", "3/1h"))) {
      Http http = server.http();
      Account person = Account.signUp(http);
      PasskeyClient passkeys = new PasskeyClient(http);
      SoftwareAuthenticator device = passkeys.registerNewDevice(person, server.url());
      for (int i = 0; i < 3; i++) {
        assertEquals(200, passkeys.signIn(device, null).status());
      }
      Http.Response limited = passkeys.signIn(device, null);
      assertProblem(limited, 429, "rate_limited");
      int sessions = server.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM sessions WHERE user_id = "
          + "CAST(:u AS uuid)").bind("u", person.userId()).mapTo(Integer.class).one());
      assertEquals(4, sessions, "the sign-up's and three sign-ins'; the refused attempt started none");
    }
  }
}
