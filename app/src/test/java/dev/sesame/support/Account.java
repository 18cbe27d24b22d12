package dev.sesame.support;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/** A person who signed up by email through the development mailbox: their address, token and id. */
public record Account(String email, String accessToken, String userId) {
  public static Account signUp(Http http) {
    String email = "u-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    JsonNode tokens = DevMailbox.signIn(http, email);
    return new Account(email, tokens.get("access_token").asText(), tokens.get("user").get("id").asText());
  }

  /** {@code Authorization} header name and value, for {@link Http}'s header varargs. */
  public String[] bearer() {
    return new String[] {"Authorization", "Bearer " + accessToken};
  }
}
