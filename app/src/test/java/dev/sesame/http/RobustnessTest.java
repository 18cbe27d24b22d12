package dev.sesame.http;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import dev.sesame.support.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RobustnessTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();

  @Test
  void bodies_over_64_kb_are_refused_with_413() {
    String big = "{\"email\":\"" + "a".repeat(70 * 1024) + "@example.com\"}";
    assertProblem(sesame.http().post("/v1/email/start", big), 413, "payload_too_large");
    assertProblem(sesame.http().post("/v1/sessions/refresh", big), 413, "payload_too_large");
  }

  @Test
  void malformed_json_wrong_types_and_missing_fields_are_400() {
    assertProblem(sesame.http().post("/v1/email/start", "{not json"), 400, "invalid_json");
    assertProblem(sesame.http().post("/v1/email/start", ""), 400, "invalid_json");
    assertProblem(sesame.http().post("/v1/email/start", "[1,2]"), 400, "invalid_json");
    assertProblem(sesame.http().post("/v1/email/start", "\"a@example.com\""), 400, "invalid_json");
    assertProblem(sesame.http().post("/v1/email/start", "{}"), 400, "invalid_request");
    assertProblem(sesame.http().post("/v1/email/start", "{\"email\": 42}"), 400, "invalid_request");
    assertProblem(sesame.http().post("/v1/email/start", "{\"email\": {\"x\": 1}}"), 400, "invalid_request");
    assertProblem(sesame.http().post("/v1/email/start", "{\"email\": \"a@example.com\", \"redirectTo\": true}"), 400,
        "invalid_request");
    assertProblem(sesame.http().post("/v1/email/verify", "{}"), 400, "invalid_request");
    assertProblem(sesame.http().post("/v1/email/verify", "{\"flowId\": \"x\"}"), 400, "invalid_request");
    assertProblem(sesame.http().post("/v1/email/verify", "{\"token\": 1}"), 400, "invalid_request");
    assertProblem(sesame.http().post("/v1/sessions/refresh", "{\"refresh_token\": null}"), 400, "invalid_request");
    assertProblem(sesame.http().post("/v1/email/start", "email=a@example.com", "Content-Type",
        "application/x-www-form-urlencoded"), 415, "unsupported_media_type");
  }

  @Test
  void unknown_routes_and_methods_are_problem_json() {
    assertProblem(sesame.http().get("/nope"), 404, "not_found");
    assertProblem(sesame.http().get("/v1/email/start"), 404, "not_found");
    assertProblem(sesame.http().send("DELETE", "/v1/me", null), 404, "not_found");
    assertProblem(sesame.http().get("/assets/../../etc/passwd"), 400, "bad_request");
    assertProblem(sesame.http().get("/assets/%2e%2e/%2e%2e/etc/passwd"), 400, "bad_request");
  }

  @Test
  void health_and_readiness() {
    Http.Response health = sesame.http().get("/health");
    assertEquals(200, health.status());
    assertEquals("up", health.json().get("status").asText());
    Http.Response ready = sesame.http().get("/ready");
    assertEquals(200, ready.status());
    assertEquals("ready", ready.json().get("status").asText());
  }

  @Test
  void every_answer_carries_the_security_headers() {
    for (Http.Response r : new Http.Response[] {sesame.http().get("/health"), sesame.http().get("/nope"),
        sesame.http().get("/email/confirm?token=x"), sesame.http().get("/assets/sesame.css")}) {
      assertEquals("nosniff", r.header("X-Content-Type-Options"));
      assertTrue(r.header("Content-Security-Policy").contains("frame-ancestors 'none'"));
      assertTrue(r.header("Content-Security-Policy").contains("script-src 'self'"));
      assertEquals(null, r.header("Strict-Transport-Security"), "no HSTS on plain http");
    }
  }

  @Test
  void the_development_mailbox_exists_on_localhost_only_without_smtp() {
    assertEquals(200, sesame.http().get("/dev/mail").status());
    // A request a reverse proxy on this machine forwards comes from loopback too: it names its client, and is refused.
    for (String header : new String[] {"X-Forwarded-For", "Forwarded", "X-Real-IP", "Via"}) {
      assertProblem(sesame.http().get("/dev/mail", header, "203.0.113.9"), 404, "not_found");
    }
    try (TestServer publicHost = TestServer.start(Map.of("SESAME_PUBLIC_URL", "https://login.example.com"))) {
      Http.Response r = publicHost.http().get("/dev/mail");
      assertProblem(r, 404, "not_found");
      assertTrue(r.header("Strict-Transport-Security").startsWith("max-age="), "HSTS when the public URL is https");
    }
    try (TestServer withSmtp = TestServer.start(Map.of("SESAME_SMTP_HOST", "127.0.0.1", "SESAME_SMTP_PORT", "1",
        "SESAME_SMTP_TLS", "none"))) {
      assertProblem(withSmtp.http().get("/dev/mail"), 404, "not_found");
    }
  }

  @Test
  void in_flight_requests_finish_when_the_server_stops() throws Exception {
    try (TestServer stopping = TestServer.start()) {
      int port = Integer.parseInt(stopping.url().substring(stopping.url().lastIndexOf(':') + 1));
      String body = "{\"email\":\"graceful@example.com\"}";
      try (Socket socket = new Socket("127.0.0.1", port)) {
        OutputStream out = socket.getOutputStream();
        // The request has begun (headers sent) but its body is still on the way when shutdown starts.
        out.write(("POST /v1/email/start HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body.substring(0, 5).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(300);
        CompletableFuture<Void> closing = CompletableFuture.runAsync(stopping::close);
        Thread.sleep(500);
        out.write(body.substring(5).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String response = readAll(socket.getInputStream());
        assertTrue(response.startsWith("HTTP/1.1 202"), response);
        closing.get(30, TimeUnit.SECONDS);
      }
    }
  }

  private static String readAll(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  @Test
  void refused_requests_are_not_500s_for_absurd_inputs() {
    assertProblem(sesame.http().post("/v1/email/verify", Map.of("token", "x".repeat(3000))), 400, "invalid_request");
    assertProblem(sesame.http().post("/v1/email/verify", Map.of("flowId", "\u0000", "code", "123456")), 400,
        "flow_not_found");
    assertProblem(sesame.http().get("/v1/me", "Authorization", "Bearer " + "x".repeat(7000)), 401, "invalid_token");
    assertProblem(sesame.http().get("/v1/me", "Authorization", "Bearer " + "x".repeat(9000)), 431, "headers_too_large");
  }
}
