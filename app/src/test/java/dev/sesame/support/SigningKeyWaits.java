package dev.sesame.support;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Duration;

/** Waiting, with a bound, for a running node to publish or sign with a signing key. */
public final class SigningKeyWaits {
  private SigningKeyWaits() {}

  /** Polls the JWKS (bounded) until {@code kid} is in it. */
  public static void awaitPublished(Http http, String kid) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (JWKSet.parse(http.get("/.well-known/jwks.json").body()).getKeyByKeyId(kid) == null) {
      assertTrue(System.nanoTime() < deadline, kid + " was never published");
      Thread.sleep(100);
    }
  }

  /** Signs in (bounded retries) until a token comes signed with {@code kid}; returns that token response. */
  public static JsonNode awaitSignedWith(Http http, String kid) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      JsonNode tokens = DevMailbox.signIn(http, "k-" + java.util.UUID.randomUUID().toString().substring(0, 8) + "@example.com");
      if (SignedJWT.parse(tokens.get("access_token").asText()).getHeader().getKeyID().equals(kid)) {
        return tokens;
      }
      assertTrue(System.nanoTime() < deadline, "never signed with " + kid);
      Thread.sleep(500);
    }
  }
}
