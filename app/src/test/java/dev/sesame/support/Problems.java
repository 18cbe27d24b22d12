package dev.sesame.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

/** Assertions on error answers: RFC 9457 problems (Sesame's API) and RFC 6749 §5.2 errors (OAuth endpoints). */
public final class Problems {
  private Problems() {}

  public static void assertProblem(Http.Response r, int status, String code) {
    assertEquals(status, r.status(), r.body());
    String contentType = r.header("Content-Type");
    assertNotNull(contentType, "no Content-Type on " + r);
    assertTrue(contentType.startsWith("application/problem+json"), contentType);
    JsonNode p = r.json();
    assertEquals(code, p.get("code").asText(), r.body());
    assertEquals(status, p.get("status").asInt());
    assertEquals("urn:sesame:problem:" + code, p.get("type").asText());
    assertNotNull(p.get("title"));
    assertNotNull(p.get("detail"));
    assertFalse(r.body().contains("Exception") || r.body().contains("\tat "), "no stack trace: " + r.body());
  }

  /** An OAuth error (RFC 6749 §5.2): JSON {@code {"error", "error_description"}}, never cached. */
  public static void assertOAuthError(Http.Response r, int status, String error) {
    assertEquals(status, r.status(), r.body());
    String contentType = r.header("Content-Type");
    assertNotNull(contentType, "no Content-Type on " + r);
    assertTrue(contentType.startsWith("application/json"), contentType);
    JsonNode e = r.json();
    assertEquals(error, e.get("error").asText(), r.body());
    assertTrue(e.hasNonNull("error_description"), r.body());
    assertFalse(e.has("code") || e.has("type"), "not a problem+json: " + r.body());
    assertEquals("no-store", r.header("Cache-Control"));
    assertFalse(r.body().contains("Exception") || r.body().contains("\tat "), "no stack trace: " + r.body());
  }
}
