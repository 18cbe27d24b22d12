package dev.sesame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.util.GreenMail;
import dev.sesame.support.Http;
import dev.sesame.support.MailInbox;
import dev.sesame.support.SmtpServers;
import dev.sesame.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar with {@code SESAME_LOG_FORMAT=json}: every line it writes is one JSON object; each request has an
 * access line (route template, method, status, duration) with a request id that the response also carries, and the
 * user id once authenticated; and no code, link token, access or refresh token of the sign-in appears anywhere.
 */
class JsonLogsIT {
  private static final Path JAR = Path.of(System.getProperty("sesame.jar", "target/sesame.jar"));
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void every_line_is_json_with_request_ids_and_no_secret(@TempDir Path workDir) throws Exception {
    int port = TestServer.freePort();
    int smtpPort = TestServer.freePort();
    GreenMail smtp = SmtpServers.start(smtpPort, "smtp");
    Path logFile = workDir.resolve("sesame.log");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", JAR.toAbsolutePath().toString())
        .directory(workDir.toFile()).redirectErrorStream(true).redirectOutput(logFile.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("SESAME_") || k.equals("JAVA_TOOL_OPTIONS"));
    pb.environment().putAll(Map.of("SESAME_PORT", Integer.toString(port), "SESAME_LOG_FORMAT", "json",
        "SESAME_EMAIL_DOMAIN_CHECK", "off", "SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(smtpPort), "SESAME_SMTP_TLS", "none"));
    Process process = pb.start();
    Http http = new Http("http://localhost:" + port);
    List<String> secrets = new ArrayList<>();
    String requestId;
    try {
      StartupIT.awaitReady(http, process, logFile);
      String email = "logs@example.com";
      Http.Response started = http.post("/v1/email/start", Map.of("email", email), "X-Request-Id", "from-client");
      assertEquals(202, started.status());
      requestId = started.header("X-Request-Id");
      assertNotEquals("from-client", requestId, "a client that is not a trusted proxy does not pick its request id");
      MailInbox.SignInMail mail = new MailInbox(smtp).next(email, Duration.ofSeconds(20));
      secrets.add(mail.code());
      secrets.add(mail.token());
      Http.Response verified = http.post("/v1/email/verify", Map.of("flowId", started.json().get("flowId").asText(),
          "code", mail.code()));
      assertEquals(200, verified.status(), verified.body());
      String access = verified.json().get("access_token").asText();
      secrets.add(access);
      secrets.add(verified.json().get("refresh_token").asText());
      assertEquals(200, http.get("/v1/me", "Authorization", "Bearer " + access).status());
      http.get("/email/confirm?token=" + mail.token()); // the link's page: its token in the query
      http.get("/no/such/page");
    } finally {
      process.destroy();
      assertTrue(process.waitFor(60, TimeUnit.SECONDS));
      smtp.stop();
    }
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(logFile)) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (Exception e) {
        throw new AssertionError("not a JSON line: " + line, e);
      }
      assertTrue(node.isObject() && node.has("level") && node.has("timestamp"), line);
      lines.add(node);
    }
    String all = Files.readString(logFile);
    for (String secret : secrets) {
      assertFalse(all.contains(secret), "the log holds a secret of the sign-in");
    }
    assertFalse(all.contains("enter this code"), "no email body");
    JsonNode start = access(lines, "POST", "/v1/email/start");
    assertEquals(requestId, start.get("mdc").get("request_id").asText(), "the response's request id is the log's");
    assertEquals(202, kv(start, "status").asInt());
    assertTrue(Double.parseDouble(kv(start, "duration_ms").asText()) >= 0); // Logback writes pairs' values as text
    JsonNode me = access(lines, "GET", "/v1/me");
    assertTrue(me.get("mdc").has("user_id"), "the user id once the request is authenticated: " + me);
    assertEquals(404, kv(access(lines, "GET", "unmatched"), "status").asInt());
    access(lines, "GET", "/email/confirm"); // logged by its route, not its query
  }

  /** The access line of a request, by method and route. */
  static JsonNode access(List<JsonNode> lines, String method, String route) {
    return lines.stream().filter(l -> "sesame.access".equals(l.path("loggerName").asText()))
        .filter(l -> method.equals(kv(l, "method").asText()) && route.equals(kv(l, "route").asText()))
        .findFirst().orElseThrow(() -> new AssertionError("no access line for " + method + " " + route));
  }

  /** A key-value pair of Logback's JSON line ({@code "kvpList": [{"route": "…"}, …]}). */
  static JsonNode kv(JsonNode line, String key) {
    for (JsonNode pair : line.path("kvpList")) {
      if (pair.has(key)) {
        return pair.get(key);
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }
}
