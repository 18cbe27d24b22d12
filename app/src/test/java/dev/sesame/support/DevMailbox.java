package dev.sesame.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Email sign-in through the development mailbox ({@code /dev/mail}) of a server without SMTP. */
public final class DevMailbox {
  private static final Pattern CODE = Pattern.compile("enter this code: (\\d{6})");

  private DevMailbox() {}

  /** Signs {@code email} in with the emailed code and returns the token response. */
  public static JsonNode signIn(Http http, String email) {
    Http.Response started = http.post("/v1/email/start", Map.of("email", email));
    assertEquals(202, started.status(), started.body());
    String flowId = started.json().get("flowId").asText();
    Http.Response verified = http.post("/v1/email/verify", Map.of("flowId", flowId, "code", latestCode(http, email)));
    assertEquals(200, verified.status(), verified.body());
    return verified.json();
  }

  public static String latestCode(Http http, String email) {
    for (JsonNode message : http.get("/dev/mail", "Accept", "application/json").json()) {
      if (message.get("to").asText().equals(email)) {
        Matcher m = CODE.matcher(message.get("text").asText());
        if (m.find()) {
          return m.group(1);
        }
      }
    }
    throw new AssertionError("no message to " + email + " in /dev/mail");
  }
}
