package dev.sesame.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Single sign-on from a browser's Sesame session (its cookie) into a registered confidential client. */
public final class AppSignIn {
  private AppSignIn() {}

  /** The authorization code flow for {@code clientId} with {@code scope}: its token response. */
  public static JsonNode codeFlow(SesameServer sesame, String clientId, String secret, String redirectUri,
                                  String scope, String browserCookie) {
    Http.Response r = sesame.http().get("/authorize?response_type=code&scope=" + scope.replace(" ", "%20")
        + "&client_id=" + clientId + "&redirect_uri=" + redirectUri, "Cookie", browserCookie);
    assertEquals(302, r.status(), r.body());
    String code = r.header("Location").replaceAll(".*[?&]code=([^&]+).*", "$1");
    Http.Response tokens = sesame.http().post("/v1/token", "grant_type=authorization_code&code=" + code
        + "&redirect_uri=" + redirectUri, "Content-Type", "application/x-www-form-urlencoded",
        "Authorization", basic(clientId, secret));
    assertEquals(200, tokens.status(), tokens.body());
    return tokens.json();
  }

  public static String basic(String clientId, String secret) {
    return "Basic " + Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
  }
}
