package dev.sesame.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.support.SesameServer;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** X-Request-Id: a trusted proxy's sane one is kept; anyone else's, or a malformed one, is replaced. */
class RequestIdTest {
  @RegisterExtension
  static final SesameServer behindProxy = SesameServer.with(Map.of("SESAME_TRUSTED_PROXIES", "127.0.0.1/32"));
  @RegisterExtension
  static final SesameServer direct = SesameServer.withDefaults();

  @Test
  void a_trusted_proxys_request_id_is_kept_and_returned() {
    assertEquals("req-42.a_b:c", behindProxy.http().get("/health", "X-Request-Id", "req-42.a_b:c")
        .header("X-Request-Id"));
    String replaced = behindProxy.http().get("/health", "X-Request-Id", "not sane <script>").header("X-Request-Id");
    assertTrue(replaced.matches("[0-9a-f]{24}"), replaced);
  }

  @Test
  void anyone_else_gets_a_new_one_on_every_response() {
    String id = direct.http().get("/health", "X-Request-Id", "chosen-by-client").header("X-Request-Id");
    assertNotEquals("chosen-by-client", id);
    assertTrue(id.matches("[0-9a-f]{24}"), id);
    assertNotEquals(id, direct.http().get("/no/such/page").header("X-Request-Id"), "one per request, 404s too");
  }
}
