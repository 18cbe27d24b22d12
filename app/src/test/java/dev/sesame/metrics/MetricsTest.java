package dev.sesame.metrics;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.support.Account;
import dev.sesame.support.AppProcesses;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /metrics}, read by the Prometheus Python client's own text-format parser: served on its own port and to the
 * token on the main port (nobody else), and each series moves when its event happens.
 */
class MetricsTest {
  static final String TOKEN = "metrics-" + UUID.randomUUID();
  static final int PORT = TestServer.freePort();
  @RegisterExtension
  static final SesameServer sesame = SesameServer.with(Map.of(
      "SESAME_METRICS_TOKEN", TOKEN,
      "SESAME_METRICS_PORT", Integer.toString(PORT),
      "SESAME_RATE_LIMIT_EMAIL", "3/15m",
      "SESAME_REFRESH_REUSE_GRACE", "0s"));
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void python() throws Exception {
    AppProcesses.requirePythonModules("prometheus_client", "python3-prometheus-client");
  }

  /** Every sample, as the Prometheus client's parser reads the exposition. */
  static JsonNode scrape() {
    try {
      String text = sesame.http().get("/metrics", "Authorization", "Bearer " + TOKEN).body();
      Process p = new ProcessBuilder(AppProcesses.python(),
          AppProcesses.ROOT.resolve(Path.of("app", "src", "test", "metrics", "parse.py")).toString())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "the parser read the exposition");
      return JSON.readTree(out);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static double value(JsonNode samples, String series) {
    JsonNode v = samples.get(series);
    return v == null ? 0 : v.asDouble();
  }

  /** Asserts that {@code action} moves {@code series} by {@code by} (polling briefly: some are counted later). */
  static void moves(String series, double by, Supplier<?> action) throws InterruptedException {
    double before = value(scrape(), series);
    action.get();
    double after = 0;
    for (int i = 0; i < 50; i++) {
      after = value(scrape(), series);
      if (after - before >= by) {
        break;
      }
      Thread.sleep(100);
    }
    assertEquals(by, after - before, 0.001, series);
  }

  @Test
  void only_the_metrics_port_and_the_token_get_metrics() throws Exception {
    assertProblem(sesame.http().get("/metrics"), 401, "invalid_token");
    assertProblem(sesame.http().get("/metrics", "Authorization", "Bearer wrong"), 401, "invalid_token");
    HttpResponse<String> own = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + PORT + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, own.statusCode());
    assertTrue(own.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    assertTrue(own.body().contains("sesame_sign_ins_total"), "the same meters on both");
    JsonNode samples = scrape();
    for (String present : new String[] {"jvm_memory_used_bytes", "jvm_threads_live_threads", "hikaricp_connections",
        "hikaricp_connections_acquire_seconds_count", "sesame_email_outbox_depth",
        "sesame_email_outbox_oldest_seconds", "sesame_database_embedded_restarts_total", "process_uptime_seconds"}) {
      assertTrue(samples.fieldNames().hasNext() && samples.toString().contains("\"" + present),
          present + " is exposed");
    }
  }

  @Test
  void each_series_moves_when_its_event_happens() throws Exception {
    Http http = sesame.http();
    String email = "m-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    moves("sesame_sign_ups_total{}", 1, () -> DevMailbox.signIn(http, email));
    moves("sesame_sign_ins_total{method=\"email_code\",result=\"succeeded\"}", 1, () -> DevMailbox.signIn(http, email));
    moves("http_server_requests_seconds_count{method=\"POST\",route=\"/v1/email/verify\",status=\"200\"}", 1,
        () -> DevMailbox.signIn(http, email));
    moves("sesame_email_deliveries_total{result=\"sent\"}", 1,
        () -> http.post("/v1/email/start", Map.of("email", "d-" + email)));
    String flow = http.post("/v1/email/start", Map.of("email", "w-" + email)).json().get("flowId").asText();
    String code = DevMailbox.latestCode(http, "w-" + email);
    moves("sesame_sign_ins_total{method=\"email\",result=\"failed\"}", 1, () -> http.post("/v1/email/verify",
        Map.of("flowId", flow, "code", code.equals("000000") ? "111111" : "000000")));

    Account person = Account.signUp(http);
    SoftwareAuthenticator device = new PasskeyClient(http).registerNewDevice(person, sesame.url());
    moves("sesame_sign_ins_total{method=\"passkey\",result=\"succeeded\"}", 1,
        () -> new PasskeyClient(http).signIn(device, null));

    // A refresh token presented again after rotation (no grace here): detected and counted.
    JsonNode tokens = DevMailbox.signIn(http, "r-" + email);
    String first = tokens.get("refresh_token").asText();
    Http.Response rotated = http.post("/v1/sessions/refresh", Map.of("refresh_token", first));
    assertEquals(200, rotated.status());
    // Its successor used: the first token again is a second holder, not a retry after a lost answer.
    assertEquals(200, http.post("/v1/sessions/refresh", Map.of("refresh_token",
        rotated.json().get("refresh_token").asText())).status());
    moves("sesame_refresh_token_reuse_total{}", 1,
        () -> http.post("/v1/sessions/refresh", Map.of("refresh_token", first)));

    // The fourth email to one address within the limit's window is refused, and counted by limit.
    String limited = "l-" + email;
    for (int i = 0; i < 3; i++) {
      assertEquals(202, http.post("/v1/email/start", Map.of("email", limited)).status());
    }
    moves("sesame_rate_limited_total{limit=\"email-start:email\"}", 1,
        () -> http.post("/v1/email/start", Map.of("email", limited)));
    // An unknown path is one series, whatever the path (no series per id or typo).
    moves("http_server_requests_seconds_count{method=\"GET\",route=\"unmatched\",status=\"404\"}", 2, () -> {
      http.get("/no/such/" + UUID.randomUUID());
      return http.get("/no/such/" + UUID.randomUUID());
    });
    assertTrue(scrape().toString().contains("http_server_requests_seconds_bucket"), "duration histograms");
  }
}
