package dev.sesame.email;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** Who may read the development mailbox: only a client on this machine that talks to Sesame directly. */
class DevMailboxAccessTest {
  @Test
  void loopback_peers_without_proxy_headers_are_allowed() {
    assertTrue(EmailEndpoints.devMailboxAllowed("127.0.0.1", Set.of("Host", "Accept")));
    assertTrue(EmailEndpoints.devMailboxAllowed("127.0.0.2", Set.of()));
    assertTrue(EmailEndpoints.devMailboxAllowed("0:0:0:0:0:0:0:1", Set.of()));
  }

  @Test
  void any_other_peer_is_refused() {
    // What the attacker of the finding was: another machine, here a docker bridge gateway and public addresses.
    for (String peer : new String[] {"172.17.0.1", "192.168.1.20", "203.0.113.5", "2001:db8::1", "::ffff:10.0.0.1",
        "0.0.0.0", "", "localhost", "evil.example"}) {
      assertFalse(EmailEndpoints.devMailboxAllowed(peer, Set.of()), peer);
    }
    assertFalse(EmailEndpoints.devMailboxAllowed(null, Set.of()));
  }

  @Test
  void forwarded_requests_are_refused_even_from_loopback() {
    for (String header : new String[] {"X-Forwarded-For", "x-forwarded-host", "Forwarded", "X-Real-IP", "Via"}) {
      assertFalse(EmailEndpoints.devMailboxAllowed("127.0.0.1", Set.of("Host", header)), header);
    }
  }
}
