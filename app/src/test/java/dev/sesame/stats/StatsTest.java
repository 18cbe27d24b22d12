package dev.sesame.stats;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.sesame.passkeys.Aaguids;
import dev.sesame.support.Account;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.Parallel;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The dashboard's figures: sign-ins by method (incl. a link opened in another browser), the passkey offer, failures,
 * totals — counted live for today, and the same after the day is rolled up.
 */
class StatsTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();
  private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  @Test
  void sign_ins_offers_and_failures_are_counted_and_rolled_up_without_change() throws Exception {
    Http http = sesame.http();
    String key = TestServer.cli(sesame.server(), "service-key", "create", "dash", "--scopes", "stats:read")
        .stdout().strip();
    JsonNode before = today(http.get("/admin/v1/stats?days=1", "Authorization", "Bearer " + key));

    // 1. Email code, then the offer accepted: a passkey added in that session, then a passkey sign-in.
    Account accepted = Account.signUp(http);
    SoftwareAuthenticator device = new PasskeyClient(http).registerNewDevice(accepted, sesame.url());
    assertEquals(200, new PasskeyClient(http).signIn(device, accepted.email()).status());
    // 2. Email code, offer not taken.
    Account.signUp(http);
    // 2b. Email code, then the automatic upgrade (conditional create): a passkey made without presence.
    Account upgraded = Account.signUp(http);
    SoftwareAuthenticator automatic = new SoftwareAuthenticator(sesame.url());
    automatic.next.userPresent = false;
    JsonNode conditional = http.post("/v1/passkeys/register/options", Map.of("conditional", true),
        upgraded.bearer()).json();
    assertEquals(201, new PasskeyClient(http).finishRegistration(upgraded.accessToken(),
        conditional.get("ceremonyId").asText(), automatic.create(conditional.get("publicKey"))).status());
    // 3. The link, opened in the browser that asked for it; 4. in another browser.
    String sameBrowser = "u-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    signInByLink(http, sameBrowser, "Browser A", "Browser A");
    signInByLink(http, "u-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com", "Laptop", "Phone");
    // A second email sign-in of someone with a passkey: no offer.
    DevMailbox.signIn(http, accepted.email());
    // Two people imported from Passage: new people today, whatever their creation time was there.
    String importer = TestServer.cli(sesame.server(), "service-key", "create", "imp", "--scopes", "users:write")
        .stdout().strip();
    String tag = UUID.randomUUID().toString().substring(0, 6);
    assertEquals(200, http.send("POST", "/admin/v1/users/import", "email,created_at\nold1-" + tag
        + "@example.com,2021-01-01T00:00:00Z\nold2-" + tag + "@example.com,\n", "Authorization", "Bearer " + importer,
        "Content-Type", "text/csv").status());
    // 5. A wrong code.
    String flow = http.post("/v1/email/start", Map.of("email", sameBrowser)).json().get("flowId").asText();
    String right = DevMailbox.latestCode(http, sameBrowser);
    assertEquals(400, http.post("/v1/email/verify", Map.of("flowId", flow, "code",
        right.equals("000000") ? "111111" : "000000")).status());

    Http.Response response = http.get("/admin/v1/stats?days=1&fresh=true", "Authorization", "Bearer " + key);
    JsonNode day = today(response);
    assertEquals(1, delta(before, day, "signIns", "passkey"));
    assertEquals(4, delta(before, day, "signIns", "email_code"));
    assertEquals(1, delta(before, day, "signIns", "email_link"));
    assertEquals(1, delta(before, day, "signIns", "email_link_other_device"));
    assertEquals(1, delta(before, day, "failures", "email:wrong_code"));
    assertEquals(5, day.get("passkeyOfferShown").asLong() - before.get("passkeyOfferShown").asLong(),
        "offered on the first email sign-in of each of five people, not to the one who has a passkey");
    assertEquals(2, day.get("passkeyOfferAccepted").asLong() - before.get("passkeyOfferAccepted").asLong(),
        "the offer taken, and the automatic upgrade");
    assertEquals(7, day.get("newUsers").asLong() - before.get("newUsers").asLong(), "5 signed up, 2 imported");
    assertTrue(day.get("activeUsers").asLong() >= 4);
    JsonNode totals = response.json().get("totals");
    long users = sesame.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM users").mapTo(Long.class).one());
    assertEquals(users, totals.get("users").asLong());
    assertEquals(users, totals.get("withPasskey").asLong() + totals.get("emailOnly").asLong());
    assertTrue(totals.get("passkeysByProvider").size() >= 1, totals.toString());
    long automaticPasskeys = sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT count(*) FROM passkeys WHERE created_automatically").mapTo(Long.class).one());
    assertTrue(automaticPasskeys >= 1);
    assertEquals(automaticPasskeys, totals.get("passkeysAutomatic").asLong(), "the share of automatic upgrades");

    // Rolled up (as the janitor does after midnight, on two nodes at once): the same figures, now from stats_daily.
    LocalDate todayUtc = LocalDate.parse(day.get("day").asText());
    Instant afterMidnight = todayUtc.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().plus(Stats.GRACE)
        .plusSeconds(1);
    Stats tomorrow = new Stats(sesame.jdbi(), Aaguids.builtIn(), Clock.fixed(afterMidnight, ZoneOffset.UTC));
    List<Integer> rolled = Parallel.run(List.of(tomorrow::rollUp, tomorrow::rollUp));
    assertTrue(rolled.stream().mapToInt(Integer::intValue).sum() >= 1, rolled.toString());
    assertEquals(0, tomorrow.rollUp(), "nothing is rolled up twice");
    long rows = sesame.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM stats_daily WHERE day = :d")
        .bind("d", todayUtc).mapTo(Long.class).one());
    assertTrue(rows > 0);
    JsonNode fromRollUp = JSON.valueToTree(tomorrow.dashboard(2)).get("days").get(0);
    assertEquals(todayUtc.toString(), fromRollUp.get("day").asText());
    for (String field : List.of("newUsers", "signIns", "failures", "passkeyOfferShown", "passkeyOfferAccepted", "activeUsers",
        "passkeysAdded")) {
      assertEquals(day.get(field).toString(), fromRollUp.get(field).toString(), field);
    }
  }

  @Test
  void only_keys_with_stats_read_see_the_dashboard() throws Exception {
    Http http = sesame.http();
    String users = TestServer.cli(sesame.server(), "service-key", "create", "nostats", "--scopes", "users:read")
        .stdout().strip();
    assertProblem(http.get("/admin/v1/stats", "Authorization", "Bearer " + users), 403, "insufficient_scope");
    assertProblem(http.get("/admin/v1/settings", "Authorization", "Bearer " + users), 403, "insufficient_scope");
    String settingsKey = TestServer.cli(sesame.server(), "service-key", "create", "conf", "--scopes", "settings:read")
        .stdout().strip();
    Http.Response settings = http.get("/admin/v1/settings", "Authorization", "Bearer " + settingsKey);
    assertEquals(200, settings.status(), settings.body());
    assertEquals("10m", settings.json().get("emailTtl").asText());
    assertTrue(List.of("set", "not set").contains(settings.json().get("masterKey").asText()),
        "the master key is never shown");
    String key = TestServer.cli(sesame.server(), "service-key", "create", "dash2", "--scopes", "stats:read")
        .stdout().strip();
    assertProblem(http.get("/admin/v1/stats?days=0", "Authorization", "Bearer " + key), 400, "invalid_request");
    assertProblem(http.get("/admin/v1/stats?days=401", "Authorization", "Bearer " + key), 400, "invalid_request");
    Http.Response year = http.get("/admin/v1/stats?days=400", "Authorization", "Bearer " + key);
    assertEquals(200, year.status(), year.body());
    assertEquals(400, year.json().get("days").size());
    // Totals are read from the last count (the janitor's, every 10 minutes) unless fresh=true asks for a new one.
    String counted = year.json().get("totals").get("asOf").asText();
    assertEquals(counted, http.get("/admin/v1/stats?days=1", "Authorization", "Bearer " + key).json()
        .get("totals").get("asOf").asText());
    assertTrue(Instant.parse(http.get("/admin/v1/stats?days=1&fresh=true", "Authorization", "Bearer " + key).json()
        .get("totals").get("asOf").asText()).isAfter(Instant.parse(counted)));
    // Several dashboards counting the totals at once: each answers (one upsert does not fail another).
    List<java.util.concurrent.Callable<Integer>> calls = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      calls.add(() -> http.get("/admin/v1/stats?days=30&fresh=true", "Authorization", "Bearer " + key).status());
    }
    assertEquals(java.util.Collections.nCopies(6, 200), Parallel.run(calls));
  }

  private static JsonNode today(Http.Response r) {
    assertEquals(200, r.status(), r.body());
    JsonNode days = r.json().get("days");
    return days.get(days.size() - 1);
  }

  private static long delta(JsonNode before, JsonNode after, String group, String key) {
    return after.get(group).path(key).asLong(0) - before.get(group).path(key).asLong(0);
  }

  private static final Pattern LINK = Pattern.compile("token=([A-Za-z0-9_-]+)");

  /** Asks for the email in one browser and opens its link (the confirm page's POST) in another. */
  private static void signInByLink(Http http, String email, String askingAgent, String openingAgent) {
    assertEquals(202, http.post("/v1/email/start", Map.of("email", email), "User-Agent", askingAgent).status());
    String text = null;
    for (JsonNode message : http.get("/dev/mail", "Accept", "application/json").json()) {
      if (message.get("to").asText().equals(email)) {
        text = message.get("text").asText();
        break;
      }
    }
    Matcher m = LINK.matcher(text);
    assertTrue(m.find(), text);
    Http.Response r = http.post("/v1/email/verify", Map.of("token", m.group(1)), "User-Agent", openingAgent);
    assertEquals(200, r.status(), r.body());
  }
}
