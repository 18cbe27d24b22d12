package dev.sesame.webhooks;

import dev.sesame.outbound.Destinations;
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
  static final SesameServer sesame = SesameServer.with(Map.of("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true",
      "SESAME_METRICS_TOKEN", "webhook-test-metrics-token"));
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
    String metrics = http.get("/metrics", "Authorization", "Bearer webhook-test-metrics-token").body();
    assertTrue(metrics.contains("sesame_webhook_deliveries_total{result=\"delivered\"}")
        && metrics.contains("sesame_webhook_deliveries_total{result=\"retry\"}"), "the deliveries are counted");
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
    for (String url : List.of("http://93.184.215.14/x", "ftp://example.com/x", "https://user:pw@93.184.215.14/x")) {
      try {
        development.check(url);
        throw new AssertionError(url + " was allowed");
      } catch (IllegalArgumentException expected) {
        // refused with a reason
      }
    }
    strict.check("https://93.184.215.14/hooks"); // a public address
    strict.check("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hooks"); // a public IPv6 address
    strict.check("https://[2002:5db8:d70e::1]/hooks"); // 6to4 of a public IPv4 address
    // Special-purpose ranges, and addresses that lead to internal ones through a translation (NAT64, 6to4, mapped).
    for (String url : List.of("https://198.18.0.1/x", "https://192.0.0.170/x", "https://192.0.2.1/x",
        "https://[64:ff9b::7f00:1]/x", "https://[64:ff9b::a9fe:a9fe]/x", "https://[64:ff9b:1::1]/x",
        "https://[2002:7f00:1::1]/x", "https://[2002:a9fe:a9fe::1]/x", "https://[2001:0:4136:e378::1]/x",
        "https://[2001:db8::1]/x", "https://[::ffff:10.0.0.1]/x", "https://[::127.0.0.1]/x", "https://[100::1]/x",
        "https://[ff02::1]/x", "https://[fec0::1]/x", "https://255.255.255.255/x", "https://224.0.0.1/x")) {
      try {
        strict.check(url);
        throw new AssertionError(url + " was allowed");
      } catch (IllegalArgumentException expected) {
        assertTrue(expected.getMessage().contains("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS"), expected.getMessage());
      }
    }
    assertEquals("https://203.0.113.7:8443/hooks", WebhookSender.loggable("https://203.0.113.7:8443/hooks?token=s3cret"),
        "a receiver's token in the query never reaches the log");
    // The HTTP client connects only through this resolver: a name that resolves to a private address when the
    // connection is made (re-pointed after registration: DNS rebinding) is refused then too.
    try {
      strict.addresses("localhost", 443);
      throw new AssertionError("localhost was resolvable for a connection");
    } catch (IllegalArgumentException expected) {
      assertTrue(expected.getMessage().contains("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS"), expected.getMessage());
    }
    assertEquals(1, strict.addresses("93.184.215.14", 443).size());
    TestServer.CliResult bad = TestServer.cli(sesame.server(), "webhook", "create", "https://x.invalid/hooks");
    assertEquals(2, bad.status());
    TestServer.CliResult unknown = TestServer.cli(sesame.server(), "webhook", "create", "http://127.0.0.1:9/x",
        "--events", "user.exploded");
    assertEquals(2, unknown.status());
    assertTrue(unknown.stderr().contains("user.exploded"), unknown.stderr());
  }

  @Test
  void operators_manage_endpoints_rotate_with_overlap_see_attempts_resend_and_failing_endpoints_are_disabled()
      throws Exception {
    AppProcesses.npmInstall(RECEIVER);
    Http http = sesame.http();
    String writer = TestServer.cli(sesame.server(), "service-key", "create", "hooks", "--scopes",
        "webhooks:read,webhooks:write").stdout().strip();
    String reader = TestServer.cli(sesame.server(), "service-key", "create", "hooks-ro", "--scopes", "webhooks:read")
        .stdout().strip();
    int port = TestServer.freePort();
    dev.sesame.support.Problems.assertProblem(http.post("/admin/v1/webhooks", Map.of("url", "http://127.0.0.1:"
        + port + "/h"), "Authorization", "Bearer " + reader), 403, "insufficient_scope");
    dev.sesame.support.Problems.assertProblem(http.post("/admin/v1/webhooks", Map.of("url", "ftp://example.com/h"),
        "Authorization", "Bearer " + writer), 400, "invalid_webhook");
    Http.Response created = http.post("/admin/v1/webhooks", Map.of("url", "http://127.0.0.1:" + port + "/h",
        "events", List.of("user.disabled", "user.created")), "Authorization", "Bearer " + writer);
    assertEquals(201, created.status(), created.body());
    String id = created.json().get("webhook").get("id").asText();
    String oldSecret = created.json().get("secret").asText();

    // Rotation: the new secret is shown once, and for a day both sign.
    Http.Response rotated = http.post("/admin/v1/webhooks/" + id + "/secret", "", "Authorization", "Bearer " + writer);
    assertEquals(200, rotated.status(), rotated.body());
    String newSecret = rotated.json().get("secret").asText();
    PROCESSES.start("webhook-receiver-2", RECEIVER, List.of("node", "receiver.mjs", Integer.toString(port),
        oldSecret, newSecret), Map.of(), port);
    String admin = TestServer.cli(sesame.server(), "service-key", "create", "people", "--scopes",
        "users:read,users:write").stdout().strip();
    Http.Response person = http.post("/admin/v1/users", Map.of("email", "hooked-" + java.util.UUID.randomUUID()
        .toString().substring(0, 6) + "@example.com"), "Authorization", "Bearer " + admin);
    String userId = person.json().get("id").asText();
    assertEquals(200, http.post("/admin/v1/users/" + userId + "/disable", "", "Authorization", "Bearer " + admin)
        .status());
    JsonNode got = awaitVerified(port, 2);
    assertEquals(List.of("user.created", "user.disabled"), List.of(got.get("verified").get(0).get("type").asText(),
        got.get("verified").get(1).get("type").asText()));
    assertEquals("[0,1]", got.get("verified").get(0).get("by").toString(), "signed with the old and the new secret");
    assertEquals("key:people", got.get("verified").get(1).get("payload").get("data").get("actor").asText());

    // The attempts, and a re-send with the same webhook-id.
    JsonNode deliveries = http.get("/admin/v1/webhooks/" + id + "/deliveries", "Authorization", "Bearer " + reader)
        .json().get("deliveries");
    assertEquals("delivered", deliveries.get(0).get("status").asText());
    assertEquals(204, deliveries.get(0).get("lastStatus").asInt());
    long first = deliveries.get(1).get("id").asLong();
    assertEquals(202, http.post("/admin/v1/webhooks/" + id + "/deliveries/" + first + "/resend", "",
        "Authorization", "Bearer " + writer).status());
    JsonNode again = awaitVerified(port, 3);
    assertEquals(again.get("verified").get(0).get("id").asText(), again.get("verified").get(2).get("id").asText(),
        "the same webhook-id, so the receiver can tell");

    // An endpoint whose deliveries fail for 3 days is disabled, with an audit event; its deliveries wait.
    int deadPort = TestServer.freePort();
    String dead = http.post("/admin/v1/webhooks", Map.of("url", "http://127.0.0.1:" + deadPort + "/h"),
        "Authorization", "Bearer " + writer).json().get("webhook").get("id").asText();
    Account.signUp(http);
    sesame.jdbi().useHandle(h -> h.createUpdate("""
        UPDATE webhook_deliveries SET created_at = now() - interval '4 days', next_attempt_at = now()
        WHERE endpoint_id = CAST(:id AS uuid)""").bind("id", dead).execute());
    JsonNode endpoint = null;
    for (int i = 0; i < 100; i++) {
      for (JsonNode w : http.get("/admin/v1/webhooks", "Authorization", "Bearer " + reader).json().get("webhooks")) {
        if (w.get("id").asText().equals(dead)) {
          endpoint = w;
        }
      }
      if (!endpoint.get("enabled").asBoolean()) {
        break;
      }
      Thread.sleep(100);
    }
    assertFalse(endpoint.get("enabled").asBoolean(), endpoint.toString());
    assertTrue(endpoint.get("disabledReason").asText().contains("3 days"), endpoint.toString());
    long audited = sesame.jdbi().withHandle(h -> h.createQuery("""
        SELECT count(*) FROM audit_events WHERE type = 'webhook.disabled' AND details->>'endpointId' = :id""")
        .bind("id", dead).mapTo(Long.class).one());
    assertEquals(1, audited);
    TestServer.CliResult listed = TestServer.cli(sesame.server(), "webhook", "list");
    assertTrue(listed.stdout().contains(dead) && listed.stdout().contains("disabled"), listed.stdout());
    TestServer.CliResult rotatedByCli = TestServer.cli(sesame.server(), "webhook", "rotate", dead);
    assertEquals(0, rotatedByCli.status(), rotatedByCli.stderr());
    assertTrue(rotatedByCli.stdout().strip().startsWith("whsec_"));
    Http.Response enabled = http.post("/admin/v1/webhooks/" + dead + "/enable", "", "Authorization",
        "Bearer " + writer);
    assertTrue(enabled.json().get("enabled").asBoolean() && enabled.json().get("disabledReason").isNull());
    assertEquals(204, http.send("DELETE", "/admin/v1/webhooks/" + dead, null, "Authorization", "Bearer " + writer)
        .status());
  }

  @Test
  void deliveries_waiting_when_sesame_stops_go_out_after_it_starts_again() throws Exception {
    AppProcesses.npmInstall(RECEIVER);
    int port = TestServer.freePort();
    Map<String, String> settings = Map.of("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true");
    TestServer first = TestServer.start(settings);
    String secret;
    String userId;
    try {
      TestServer.CliResult created = TestServer.cli(first, "webhook", "create", "http://127.0.0.1:" + port + "/h",
          "--events", "user.created");
      assertEquals(0, created.status(), created.stderr());
      secret = created.stdout().strip();
      userId = Account.signUp(first.http()).userId(); // the receiver is down: the delivery waits
    } finally {
      first.close();
    }
    TestServer second = TestServer.start(Map.of("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true",
        "SESAME_DATABASE_URL", first.databaseUrl()));
    try {
      PROCESSES.start("webhook-receiver-3", RECEIVER, List.of("node", "receiver.mjs", Integer.toString(port), secret),
          Map.of(), port);
      JsonNode got = awaitVerified(port, 1);
      assertEquals(userId, got.get("verified").get(0).get("payload").get("data").get("userId").asText(),
          "the delivery written before the stop went out from the restarted server");
    } finally {
      second.close();
    }
  }

  @Test
  void with_email_delivery_by_webhook_the_rendered_message_goes_to_the_endpoint_that_asks_for_it() throws Exception {
    AppProcesses.npmInstall(RECEIVER);
    int port = TestServer.freePort();
    int allPort = TestServer.freePort();
    try (TestServer server = TestServer.start(Map.of("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true",
        "SESAME_EMAIL_DELIVERY", "webhook"))) {
      TestServer.CliResult mail = TestServer.cli(server, "webhook", "create", "http://127.0.0.1:" + port + "/mail",
          "--events", "email.send");
      assertEquals(0, mail.status(), mail.stderr());
      String everything = TestServer.cli(server, "webhook", "create", "http://127.0.0.1:" + allPort + "/all")
          .stdout().strip();
      PROCESSES.start("webhook-mail", RECEIVER, List.of("node", "receiver.mjs", Integer.toString(port),
          mail.stdout().strip()), Map.of(), port);
      PROCESSES.start("webhook-all", RECEIVER, List.of("node", "receiver.mjs", Integer.toString(allPort), everything),
          Map.of(), allPort);
      Http http = server.http();
      assertEquals(404, http.get("/dev/mail").status(), "no development mailbox: mail has somewhere to go");
      String email = "via-hook@example.com";
      String flow = http.post("/v1/email/start", Map.of("email", email)).json().get("flowId").asText();
      JsonNode sent = awaitVerified(port, 1).get("verified").get(0);
      assertEquals("email.send", sent.get("type").asText());
      JsonNode data = sent.get("payload").get("data");
      assertEquals(email, data.get("to").asText());
      java.util.regex.Matcher code = java.util.regex.Pattern.compile("enter this code: (\\d{6})")
          .matcher(data.get("text").asText());
      assertTrue(code.find(), data.toString());
      assertTrue(data.get("html").asText().contains(code.group(1)));
      assertEquals(200, http.post("/v1/email/verify", Map.of("flowId", flow, "code", code.group(1))).status(),
          "the code the app's own mail provider would send signs in");
      String stored = server.jdbi().withHandle(h -> h.createQuery(
          "SELECT payload::text FROM webhook_deliveries WHERE event_type = 'email.send'").mapTo(String.class).one());
      assertFalse(stored.contains(code.group(1)), "a delivered email.send keeps no code: " + stored);
      // Erasing a person also removes the messages to them still waiting as email.send (address and live code).
      TestServer.CliResult dead = TestServer.cli(server, "webhook", "create", "http://127.0.0.1:"
          + TestServer.freePort() + "/down", "--events", "email.send");
      assertEquals(0, dead.status(), dead.stderr());
      assertEquals(202, http.post("/v1/email/start", Map.of("email", email)).status());
      String ops = TestServer.cli(server, "service-key", "create", "ops", "--scopes", "users:read,users:write")
          .stdout().strip();
      String userId = http.get("/admin/v1/users?email=" + email, "Authorization", "Bearer " + ops).json()
          .get("users").get(0).get("id").asText();
      long waiting = 0;
      for (int i = 0; i < 50 && waiting == 0; i++) {
        Thread.sleep(100);
        waiting = server.jdbi().withHandle(h -> h.createQuery("""
            SELECT count(*) FROM webhook_deliveries WHERE event_type = 'email.send' AND status = 'pending'
              AND payload->'data'->>'to' = :email""").bind("email", email).mapTo(Long.class).one());
      }
      assertTrue(waiting > 0, "a message waits for the endpoint that is down");
      assertEquals(204, http.send("DELETE", "/admin/v1/users/" + userId, null, "Authorization", "Bearer " + ops)
          .status());
      assertEquals(0, (long) server.jdbi().withHandle(h -> h.createQuery("""
          SELECT count(*) FROM webhook_deliveries WHERE position(:email IN payload::text) > 0""")
          .bind("email", email).mapTo(Long.class).one()), "no message to the erased person is left");
      // The all-events endpoint got the sign-up and sign-in, never the email itself.
      JsonNode all = awaitVerified(allPort, 2);
      for (JsonNode m : all.get("verified")) {
        assertFalse(m.get("type").asText().equals("email.send"), all.toString());
      }
    }
  }

  @Test
  void redirects_are_not_followed_and_waits_grow_with_jitter() throws Exception {
    // A receiver that answers every delivery with a redirect to a place Sesame must not go.
    com.sun.net.httpserver.HttpServer redirecting = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    java.util.concurrent.atomic.AtomicInteger hits = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger followed = new java.util.concurrent.atomic.AtomicInteger();
    redirecting.createContext("/h", exchange -> {
      hits.incrementAndGet();
      exchange.getResponseHeaders().set("Location", "http://127.0.0.1:" + exchange.getLocalAddress().getPort()
          + "/elsewhere");
      exchange.sendResponseHeaders(307, -1);
      exchange.close();
    });
    redirecting.createContext("/elsewhere", exchange -> {
      followed.incrementAndGet();
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    redirecting.start();
    try {
      String writer = TestServer.cli(sesame.server(), "service-key", "create", "redir", "--scopes",
          "webhooks:read,webhooks:write").stdout().strip();
      String id = sesame.http().post("/admin/v1/webhooks", Map.of("url", "http://127.0.0.1:"
              + redirecting.getAddress().getPort() + "/h", "events", List.of("user.created")),
          "Authorization", "Bearer " + writer).json().get("webhook").get("id").asText();
      Account.signUp(sesame.http());
      JsonNode delivery = null;
      for (int i = 0; i < 100 && hits.get() == 0; i++) {
        Thread.sleep(100);
      }
      for (int i = 0; i < 50; i++) {
        delivery = sesame.http().get("/admin/v1/webhooks/" + id + "/deliveries", "Authorization", "Bearer " + writer)
            .json().get("deliveries").get(0);
        if (delivery.path("lastStatus").asInt() == 307) {
          break;
        }
        Thread.sleep(100);
      }
      assertEquals(307, delivery.get("lastStatus").asInt(), delivery.toString());
      assertEquals("pending", delivery.get("status").asText(), "a redirect is a failure, retried later");
      assertEquals(0, followed.get(), "the redirect was not followed");
    } finally {
      redirecting.stop(0);
    }
    // Back-off: 5 s doubling to 6 hours, each ±25%.
    for (int attempt = 1; attempt <= 30; attempt++) {
      long base = Math.min(Duration.ofHours(6).toMillis(), 5_000L << Math.min(20, attempt - 1));
      long wait = WebhookSender.backoff(attempt).toMillis();
      assertTrue(wait >= base * 0.75 && wait <= base * 1.25, attempt + ": " + wait);
    }
  }

  @Test
  void two_nodes_on_one_database_send_each_delivery_once_and_in_order_per_person() throws Exception {
    AppProcesses.npmInstall(RECEIVER);
    int port = TestServer.freePort();
    Map<String, String> settings = Map.of("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true");
    try (TestServer a = TestServer.start(settings)) {
      try (TestServer b = TestServer.start(Map.of("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true",
          "SESAME_DATABASE_URL", a.databaseUrl()))) {
        String secret = TestServer.cli(a, "webhook", "create", "http://127.0.0.1:" + port + "/h", "--events",
            "user.created,signin.succeeded").stdout().strip();
        PROCESSES.start("webhook-two-nodes", RECEIVER, List.of("node", "receiver.mjs", Integer.toString(port),
            secret), Map.of(), port);
        List<String> people = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
          people.add(Account.signUp(i % 2 == 0 ? a.http() : b.http()).userId());
        }
        JsonNode got = awaitVerified(port, 20);
        Thread.sleep(1500); // any duplicate would arrive by now
        got = received(port);
        List<String> ids = new ArrayList<>();
        for (JsonNode m : got.get("verified")) {
          ids.add(m.get("id").asText());
        }
        assertEquals(20, ids.size(), "each delivery once: " + ids);
        assertEquals(20, ids.stream().distinct().count());
        for (String person : people) {
          List<String> order = new ArrayList<>();
          for (JsonNode m : got.get("verified")) {
            if (person.equals(m.get("payload").get("data").path("userId").asText())) {
              order.add(m.get("type").asText());
            }
          }
          assertEquals(List.of("user.created", "signin.succeeded"), order, person);
        }
      }
    }
  }
}
