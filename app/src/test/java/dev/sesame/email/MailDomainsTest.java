package dev.sesame.email;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.common.ApiException;
import dev.sesame.config.Config;
import dev.sesame.support.DnsServer;
import dev.sesame.support.Http;
import dev.sesame.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Addresses whose domain cannot receive mail are refused, checked against a real DNS server on loopback. */
class MailDomainsTest {
  static DnsServer dns;

  @BeforeAll
  static void startDns() {
    dns = new DnsServer(List.of(
        "--mx-host=good.test,mail.good.test,10", "--host-record=mail.good.test,127.0.0.1",
        "--host-record=a-only.test,127.0.0.1", // no MX: mail goes to the A record (RFC 5321 §5.1)
        "--host-record=v6-only.test,::1",
        "--dns-rr=nullmx.test,15,000000", // RFC 7505 null MX: preference 0, host "."
        "--host-record=nullmx.test,127.0.0.1",
        "--txt-record=txt-only.test,hello", // exists, but neither MX nor an address
        "--mx-host=mailinator.test,mail.good.test,10", "--mx-host=sub.mailinator.test,mail.good.test,10"));
  }

  @AfterAll
  static void stopDns() {
    dns.close();
  }

  static MailDomains domains(List<String> servers, Optional<Path> blocklist) {
    return new MailDomains(new Config.MailDomainCheck(true, servers, Duration.ofSeconds(2), blocklist));
  }

  static void assertRefused(MailDomains domains, String email, String detailPart) {
    ApiException e = assertThrows(ApiException.class, () -> domains.check(email), email);
    assertEquals(400, e.status());
    assertEquals("invalid_email", e.code());
    assertTrue(e.detail().contains(detailPart), e.detail());
  }

  @Test
  void domains_that_receive_mail_are_accepted() {
    MailDomains domains = domains(List.of(dns.address()), Optional.empty());
    domains.check("ana@good.test");
    domains.check("ana@a-only.test");
    domains.check("ana@v6-only.test");
  }

  @Test
  void domains_that_cannot_receive_mail_are_refused_with_a_helpful_detail() {
    MailDomains domains = domains(List.of(dns.address()), Optional.empty());
    assertRefused(domains, "ana@gmial.test", "typo"); // NXDOMAIN
    assertRefused(domains, "ana@nullmx.test", "does not receive email"); // RFC 7505
    assertRefused(domains, "ana@txt-only.test", "does not receive email"); // no MX, A or AAAA
  }

  @Test
  void blocklisted_domains_and_their_subdomains_are_refused(@TempDir Path dir) throws Exception {
    Path list = dir.resolve("blocked.txt");
    Files.writeString(list, "# disposable mail\nmailinator.test\n\nTEMPMAIL.test.\n");
    MailDomains domains = domains(List.of(dns.address()), Optional.of(list));
    assertRefused(domains, "x@mailinator.test", "can't be used here");
    assertRefused(domains, "x@sub.mailinator.test", "can't be used here");
    assertRefused(domains, "x@tempmail.test", "can't be used here");
    domains.check("x@good.test");
    // The blocklist alone, without DNS checks.
    MailDomains listOnly = new MailDomains(new Config.MailDomainCheck(false, List.of(), Duration.ofSeconds(1),
        Optional.of(list)));
    assertRefused(listOnly, "x@mailinator.test", "can't be used here");
    listOnly.check("x@gmial.test");
  }

  @Test
  void when_dns_does_not_answer_the_address_is_accepted() {
    // A port nothing listens on: the lookup times out, and sign-in must not depend on the resolver being up.
    MailDomains domains = new MailDomains(new Config.MailDomainCheck(true,
        List.of("127.0.0.1:" + TestServer.freePort()), Duration.ofMillis(300), Optional.empty()));
    domains.check("ana@anything.test");
  }

  @Test
  void email_start_refuses_an_address_that_cannot_receive_mail() {
    try (TestServer server = TestServer.start(Map.of("SESAME_EMAIL_DOMAIN_CHECK", "dns",
        "SESAME_DNS_SERVERS", dns.address()))) {
      Http http = server.http();
      Http.Response typo = http.post("/v1/email/start", Map.of("email", "ana@gmial.test"));
      assertProblem(typo, 400, "invalid_email");
      assertTrue(typo.json().get("detail").asText().contains("gmial.test"), typo.body());
      assertEquals(202, http.post("/v1/email/start", Map.of("email", "ana@good.test")).status());
      int flows = server.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM email_flows")
          .mapTo(Integer.class).one());
      assertEquals(1, flows, "a refused address gets no flow and no email");
    }
  }
}
