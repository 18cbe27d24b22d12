package dev.sesame.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.Account;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One database connection is a valid setting: start-up (Flyway holds two connections at once, so it has its own)
 * and every main flow must work without ever needing a second pooled connection while holding one.
 */
class SmallPoolTest {
  @Test
  void everything_works_with_a_pool_of_one_connection() {
    try (TestServer server = TestServer.start(Map.of("SESAME_DATABASE_POOL_SIZE", "1"))) {
      Http http = server.http();
      Account account = Account.signUp(http); // email start, code, session start
      PasskeyClient passkeys = new PasskeyClient(http);
      SoftwareAuthenticator device = passkeys.registerNewDevice(account, server.url());
      Http.Response signIn = passkeys.signIn(device, null);
      assertEquals(200, signIn.status(), signIn.body());
      JsonNode tokens = signIn.json();
      Http.Response refreshed = http.post("/v1/sessions/refresh",
          Map.of("refresh_token", tokens.get("refresh_token").asText()));
      assertEquals(200, refreshed.status(), refreshed.body());
      assertEquals(200, http.get("/v1/me", "Authorization", "Bearer " + tokens.get("access_token").asText())
          .status());
    }
  }
}
