package dev.sesame.email;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.http.ClientIps;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.TestServer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Who may read the development mailbox: only a client on this machine that talks to Sesame directly. */
class DevMailboxAccessTest {
  @Test
  void loopback_peers_without_proxy_headers_are_allowed() {
    assertTrue(EmailEndpoints.devMailboxAllowed("127.0.0.1", Set.of("Host", "Accept")));
    assertTrue(EmailEndpoints.devMailboxAllowed("127.0.0.2", Set.of()));
    assertTrue(EmailEndpoints.devMailboxAllowed("0:0:0:0:0:0:0:1", Set.of()));
    // What Jetty hands over for an IPv6 peer, brackets and all: Chrome reaches http://localhost over ::1 first.
    assertTrue(EmailEndpoints.devMailboxAllowed("[0:0:0:0:0:0:0:1]", Set.of()));
    assertTrue(EmailEndpoints.devMailboxAllowed("[::1]", Set.of()));
    assertTrue(EmailEndpoints.devMailboxAllowed("::ffff:127.0.0.1", Set.of()));
  }

  @Test
  void client_addresses_have_one_spelling() {
    assertEquals("::1", ClientIps.normalize("[0:0:0:0:0:0:0:1]"));
    assertEquals("127.0.0.1", ClientIps.normalize("::ffff:127.0.0.1"));
    assertEquals("2001:db8::1:0:0:1", ClientIps.normalize("[2001:0DB8:0:0:1:0:0:1]"));
    assertEquals("2001:db8:0:1:1:1:1:1", ClientIps.normalize("2001:db8:0:1:1:1:1:1"), "one zero group stays");
    assertEquals("fe80::1", ClientIps.normalize("fe80::1%eth0"));
    assertEquals("203.0.113.5", ClientIps.normalize("203.0.113.5"));
    assertEquals("evil.example", ClientIps.normalize("evil.example"), "no lookup, returned as it is");
  }

  @Test
  void the_mailbox_answers_over_ipv6_loopback_and_the_audit_log_names_the_client_plainly() {
    try (TestServer server = TestServer.startOnLocalhost(Map.of("SESAME_BIND_HOST", "::1"))) {
      String v6 = server.url().replace("localhost", "[::1]");
      Http http = new Http(v6);
      String email = "v6-" + java.util.UUID.randomUUID().toString().substring(0, 8) + "@example.com";
      assertEquals(202, http.post("/v1/email/start", Map.of("email", email)).status());
      Http.Response mail = http.get("/dev/mail", "Accept", "application/json");
      assertEquals(200, mail.status(), "the README's first click, from a browser that reached localhost over ::1");
      assertTrue(mail.body().contains(email));
      String page = http.get("/dev/mail").body();
      assertTrue(page.contains("<a href=\"" + server.url() + "/email/confirm?token="), "the link can be clicked");
      DevMailbox.signIn(http, email);
      List<String> ips = server.jdbi().withHandle(h -> h.createQuery("SELECT DISTINCT ip FROM audit_events "
          + "WHERE ip IS NOT NULL").mapTo(String.class).list());
      assertEquals(List.of("::1"), ips);
    }
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
