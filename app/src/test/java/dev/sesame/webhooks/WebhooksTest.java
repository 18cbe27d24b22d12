package dev.sesame.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.Account;
import dev.sesame.support.AppProcesses;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Webhooks received by a Node receiver that verifies every signature with the npm {@code standardwebhooks} package:
 * events arrive signed, in order per person, once each (by id), and deliveries that failed while the receiver was
 * down arrive when it is back. URLs to private networks are refused unless allowed.
 */
class WebhooksTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.with(Map.of("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true"));
  static final AppProcesses PROCESSES = new AppProcesses();
  static final Path RECEIVER = AppProcesses.ROOT.resolve("app/src/test/webhooks/receiver");

  @AfterAll
  static void stop() throws InterruptedException {
    PROCESSES.close();
  }

  static String create(String url, String... events) {
    List<String> args = new ArrayList<>(List.of("webhook", "create", url));
    if (events.length > 0) {
      args.add("--events");
      args.add(String.join(",", events));
    }
    TestServer.CliResult r = TestServer.cli(sesame.server(), args.toArray(String[]::new));
    assertEquals(0, r.status(), r.stderr());
    assertTrue(r.stdout().strip().startsWith("whsec_"), r.stdout());
    return r.stdout().strip();
  }

  static JsonNode received(int port) {
    return new Http("http://127.0.0.1:" + port).get("/").json();
  }

  static JsonNode awaitVerified(int port, int count) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
    JsonNode got = received(port);
    while (got.get("verified").size() < count && System.nanoTime() < deadline) {
      Thread.sleep(200);
      got = received(port);
    }
    assertTrue(got.get("verified").size() >= count, got.toString());
    return got;
  }

  @Test
  void events_arrive_signed_in_order_and_survive_a_receiver_outage() throws Exception {
    AppProcesses.npmInstall(RECEIVER);
    int port = TestServer.freePort();
    String secret = create("http://127.0.0.1:" + port + "/hooks", "user.created", "signin.succeeded",
        "passkey.added", "session.revoked");
    // The receiver is down while the first events happen: they wait and are retried with back-off.
    Http http = sesame.http();
    Account person = Account.signUp(http);
    new PasskeyClient(http).registerNewDevice(person, sesame.url());
    assertEquals(204, http.post("/v1/sessions/logout", "", person.bearer()).status());
    Thread.sleep(1500); // the first attempts fail: nobody listens
    PROCESSES.start("webhook-receiver", RECEIVER, List.of("node", "receiver.mjs", Integer.toString(port), secret),
        Map.of(), port);

    JsonNode got = awaitVerified(port, 4);
    assertEquals(0, got.get("rejected").asInt(), "every signature verified: " + got);
    List<String> mine = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (JsonNode m : got.get("verified")) {
      if (person.userId().equals(m.get("payload").get("data").path("userId").asText())) {
        mine.add(m.get("type").asText());
        ids.add(m.get("id").asText());
      }
    }
    assertEquals(List.of("user.created", "signin.succeeded", "passkey.added", "session.revoked"), mine,
        "one person's events in the order they happened");
    assertEquals(ids.size(), ids.stream().distinct().count(), "each event once");
    JsonNode signIn = got.get("verified").get(1).get("payload");
    assertEquals("email_code", signIn.get("data").get("method").asText());
    assertFalse(got.toString().contains(person.email()), "payloads carry ids, not addresses");
    assertFalse(got.toString().contains(person.accessToken()), "never a token");
    long retried = sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered' AND attempts > 1").mapTo(Long.class)
        .one());
    assertTrue(retried >= 1, "retried after the outage");
  }

  @Test
  void private_addresses_and_plain_http_elsewhere_are_refused() {
    Destinations strict = new Destinations(false);
    for (String url : List.of("http://127.0.0.1:9/x", "https://10.1.2.3/x", "https://192.168.0.10/x",
        "https://169.254.169.254/latest/meta-data", "https://[::1]/x", "https://[fd00::1]/x", "https://100.64.0.1/x",
        "https://0.0.0.0/x")) {
      try {
        strict.check(url);
        throw new AssertionError(url + " was allowed");
      } catch (IllegalArgumentException expected) {
        assertTrue(expected.getMessage().contains("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS"), expected.getMessage());
      }
    }
    Destinations development = new Destinations(true);
    development.check("http://127.0.0.1:9/x"); // allowed for development
    for (String url : List.of("http://203.0.113.7/x", "ftp://example.com/x", "https://user:pw@203.0.113.7/x")) {
      try {
        development.check(url);
        throw new AssertionError(url + " was allowed");
      } catch (IllegalArgumentException expected) {
        // refused with a reason
      }
    }
    strict.check("https://203.0.113.7/hooks"); // a public address
    TestServer.CliResult bad = TestServer.cli(sesame.server(), "webhook", "create", "https://x.invalid/hooks");
    assertEquals(2, bad.status());
    TestServer.CliResult unknown = TestServer.cli(sesame.server(), "webhook", "create", "http://127.0.0.1:9/x",
        "--events", "user.exploded");
    assertEquals(2, unknown.status());
    assertTrue(unknown.stderr().contains("user.exploded"), unknown.stderr());
  }
}
