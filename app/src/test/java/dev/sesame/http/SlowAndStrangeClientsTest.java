package dev.sesame.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Clients that send requests in ways meant to exhaust the server: invented method names (each was a new metrics
 * series and method-table entry: the audit ran a 64 MB heap out of memory), and bodies trickled a byte at a time
 * (which held every request thread, so {@code /health} stopped answering).
 */
class SlowAndStrangeClientsTest {
  static final String TOKEN = "metrics-token-for-slow-clients-test-0123456789";

  @RegisterExtension
  static final SesameServer sesame = SesameServer.with(Map.of("SESAME_METRICS_TOKEN", TOKEN,
      "SESAME_DATABASE_POOL_SIZE", "2"));

  static int port() {
    return URI.create(sesame.url()).getPort();
  }

  /** Sends {@code request} raw and returns the status line (or what there was). */
  static String raw(String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      return new String(s.getInputStream().readNBytes(400), StandardCharsets.ISO_8859_1);
    }
  }

  static long series(String metricsText) {
    return metricsText.lines().filter(l -> l.startsWith("http_server_requests_seconds_count")).count();
  }

  @Test
  void invented_methods_are_501_and_make_no_series() throws Exception {
    Http http = sesame.http();
    for (int i = 0; i < 3; i++) {
      http.get("/health");
    }
    String before = http.get("/metrics", "Authorization", "Bearer " + TOKEN).body();
    for (int i = 0; i < 3000; i++) {
      String answer = raw("MX" + Integer.toString(i, 36).toUpperCase() + "QQ /health HTTP/1.1\r\nHost: x\r\n"
          + "Connection: close\r\n\r\n");
      if (i % 500 == 0) {
        assertTrue(answer.startsWith("HTTP/1.1 501"), answer);
        assertTrue(answer.contains("method_not_implemented"), answer);
      }
    }
    // Paths: every unknown one is the same "unmatched" route.
    for (int i = 0; i < 300; i++) {
      http.get("/no-such-page-" + i);
    }
    String after = http.get("/metrics", "Authorization", "Bearer " + TOKEN).body();
    assertFalse(after.contains("MX"), "no series names an invented method");
    assertFalse(after.contains("no-such-page"), "no series names a raw path");
    assertTrue(series(after) <= series(before) + 3, series(before) + " → " + series(after));
    assertEquals(200, http.get("/health").status());
  }

  @Test
  void trickled_bodies_hold_no_request_thread_and_end_in_408() throws Exception {
    // With a pool of 2 the server has 16 request threads; twice that many connections trickle their bodies.
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 32; i++) {
        Socket s = new Socket("127.0.0.1", port());
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/email/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: 60000\r\n\r\n{").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        slow.add(s);
      }
      // The server keeps answering while they trickle (each sends one more byte now and then).
      for (int round = 0; round < 3; round++) {
        for (Socket s : slow) {
          s.getOutputStream().write('"');
          s.getOutputStream().flush();
        }
        CompletableFuture<Integer> health = CompletableFuture.supplyAsync(() -> sesame.http().get("/health")
            .status());
        assertEquals(200, health.get(5, TimeUnit.SECONDS), "/health answers beside the slow bodies");
        assertEquals(200, sesame.http().get("/.well-known/jwks.json").status());
        Thread.sleep(1000);
      }
      // Each slow body gets 408 when its time is up, and its connection closes.
      Pattern status = Pattern.compile("^HTTP/1.1 (\\d{3})");
      for (Socket s : slow) {
        InputStream in = s.getInputStream();
        String answer = new String(in.readNBytes(400), StandardCharsets.ISO_8859_1);
        Matcher m = status.matcher(answer);
        assertTrue(m.find(), answer);
        assertEquals("408", m.group(1), answer);
        assertTrue(answer.contains("request_timeout"), answer);
      }
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
    // A body that arrives promptly, in pieces, is served as always.
    try (Socket s = new Socket("127.0.0.1", port())) {
      s.setSoTimeout(20_000);
      String body = "{\"email\":\"x\"}";
      s.getOutputStream().write(("POST /v1/email/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Connection: close\r\nContent-Length: " + body.length() + "\r\n\r\n{").getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      Thread.sleep(300);
      s.getOutputStream().write(body.substring(1).getBytes(StandardCharsets.UTF_8));
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
      assertTrue(answer.contains("invalid_email"), answer);
    }
  }
}
