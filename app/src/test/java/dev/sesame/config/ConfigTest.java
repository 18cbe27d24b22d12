package dev.sesame.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
  @Test
  void defaults_are_a_working_local_setup() {
    Config c = Config.load(Map.of());
    assertEquals(8080, c.port());
    assertEquals("http://localhost:8080", c.issuer());
    assertEquals("localhost", c.rpId());
    assertEquals("Sesame", c.rpName());
    assertEquals(List.of("http://localhost:8080"), c.allowedOrigins());
    assertEquals(List.of("http://localhost:8080"), c.redirectAllowlist());
    assertTrue(c.databaseUrl().isEmpty());
    assertEquals(Path.of("./data"), c.dataDir());
    assertTrue(c.devMailbox());
    assertEquals(Duration.ofMinutes(10), c.emailTtl());
    assertEquals(Duration.ofMinutes(15), c.accessTokenTtl());
    assertEquals(Duration.ofDays(30), c.refreshTokenTtl());
    assertEquals("http://localhost:8080", c.tokenAudience());
    assertEquals("default", c.clientId());
    assertTrue(c.masterKey().isEmpty());
    assertEquals(new RateLimit(5, Duration.ofMinutes(15)), c.emailStartLimit());
    assertTrue(c.passkeys().userVerificationRequired());
    assertTrue(c.passkeys().platformOnly());
    assertFalse(c.passkeys().verifyAttestation());
    assertEquals(Duration.ofMinutes(5), c.passkeys().ceremonyTtl());
    assertEquals(List.of(), c.passkeys().relatedOrigins());
  }

  @Test
  void derived_defaults_follow_the_public_url() {
    Config c = Config.load(Map.of("SESAME_PUBLIC_URL", "https://login.example.com/",
        "SESAME_ALLOWED_ORIGINS", "https://app.example.com"));
    assertEquals(List.of("https://login.example.com", "https://app.example.com"), c.allowedOrigins(),
        "Sesame's own origin is always allowed");
    assertEquals("login.example.com", c.rpId());
    assertEquals("https://login.example.com", c.issuer());
    assertEquals("https://login.example.com", c.tokenAudience());
    assertEquals(List.of("https://login.example.com", "https://app.example.com"), c.redirectAllowlist());
    assertTrue(c.https());
    assertFalse(c.publicUrlIsLocalhost());
  }

  @Test
  void durations_accept_short_and_iso_forms() {
    assertEquals(Duration.ofSeconds(30), Durations.parse("30s"));
    assertEquals(Duration.ofMinutes(15), Durations.parse("15m"));
    assertEquals(Duration.ofHours(12), Durations.parse("12h"));
    assertEquals(Duration.ofDays(30), Durations.parse("30d"));
    assertEquals(Duration.ofMinutes(15), Durations.parse("PT15M"));
    assertEquals(Duration.ofDays(30), Durations.parse("P30D"));
    assertThrows(IllegalArgumentException.class, () -> Durations.parse("15 minutes"));
    Config c = Config.load(Map.of("SESAME_ACCESS_TOKEN_TTL", "PT5M", "SESAME_EMAIL_TTL", "30m"));
    assertEquals(Duration.ofMinutes(5), c.accessTokenTtl());
    assertEquals(Duration.ofMinutes(30), c.emailTtl());
  }

  @Test
  void a_wrong_value_names_its_variable() {
    Map<String, String> bad = Map.ofEntries(
        Map.entry("SESAME_PORT", "eighty"),
        Map.entry("SESAME_PUBLIC_URL", "localhost:8080"),
        Map.entry("SESAME_ALLOWED_ORIGINS", "https://app.example.com/path"),
        Map.entry("SESAME_DATABASE_URL", "postgres://u:p@h/db"),
        Map.entry("SESAME_SMTP_TLS", "maybe"),
        Map.entry("SESAME_EMAIL_TTL", "forever"),
        Map.entry("SESAME_ACCESS_TOKEN_TTL", "5s"),
        Map.entry("SESAME_MASTER_KEY", "short"),
        Map.entry("SESAME_TRUSTED_PROXIES", "proxy.internal"),
        Map.entry("SESAME_RATE_LIMIT_EMAIL", "lots"),
        Map.entry("SESAME_RP_ID", "other.example"),
        Map.entry("SESAME_DATABASE_POOL_SIZE", "0"),
        Map.entry("SESAME_USER_VERIFICATION", "discouraged"),
        Map.entry("SESAME_AUTHENTICATOR_ATTACHMENT", "cross-platform"),
        Map.entry("SESAME_ATTESTATION", "enterprise"),
        Map.entry("SESAME_CEREMONY_TTL", "2h"),
        Map.entry("SESAME_RELATED_ORIGINS", "shop.example.com"),
        Map.entry("SESAME_AAGUID_FILE", "/no/such/file.json"),
        Map.entry("SESAME_SESSION_IDLE_TTL", "1s"),
        Map.entry("SESAME_SESSION_MAX_TTL", "later"),
        Map.entry("SESAME_KEY_ROTATION", "1m"),
        Map.entry("SESAME_KEY_PREPUBLISH", "8d"),
        Map.entry("SESAME_TOKEN_ALG", "HS256"),
        Map.entry("SESAME_REFRESH_REUSE_GRACE", "5m"),
        Map.entry("SESAME_RATE_LIMIT_CODE", "10/1h,often"),
        Map.entry("SESAME_EMAIL_DOMAIN_CHECK", "smtp"),
        Map.entry("SESAME_DNS_SERVERS", "dns://8.8.8.8"),
        Map.entry("SESAME_DNS_TIMEOUT", "1m"),
        Map.entry("SESAME_BLOCKED_EMAIL_DOMAINS_FILE", "/no/such/list.txt"));
    for (Map.Entry<String, String> e : bad.entrySet()) {
      Map<String, String> env = e.getKey().equals("SESAME_SMTP_TLS")
          ? Map.of(e.getKey(), e.getValue(), "SESAME_SMTP_HOST", "smtp.example.com")
          : Map.of(e.getKey(), e.getValue());
      ConfigException thrown = assertThrows(ConfigException.class, () -> Config.load(env), e.getKey());
      assertTrue(thrown.getMessage().startsWith(e.getKey() + ": "), thrown.getMessage());
      assertFalse(thrown.getMessage().contains("\n"), "one line");
    }
  }

  @Test
  void the_next_key_must_be_published_before_the_rotation_is_due() {
    ConfigException e = assertThrows(ConfigException.class, () -> Config.load(Map.of("SESAME_KEY_ROTATION", "1h",
        "SESAME_KEY_PREPUBLISH", "2h")));
    assertTrue(e.getMessage().startsWith("SESAME_KEY_PREPUBLISH: "), e.getMessage());
    Config c = Config.load(Map.of("SESAME_TOKEN_ALG", "rs256"));
    assertEquals("RS256", c.tokenAlg());
    assertEquals(Duration.ofMinutes(15), c.keyPrepublish());
    assertEquals(Duration.ofDays(30), c.keyRotation());
    assertEquals(Duration.ofDays(30), c.sessionIdleTtl());
    assertEquals(Duration.ofDays(90), c.sessionMaxTtl());
  }

  @Test
  void secrets_never_print() {
    Config c = Config.load(Map.of("SESAME_MASTER_KEY", "m".repeat(40), "SESAME_SMTP_HOST", "smtp.example.com",
        "SESAME_SMTP_PASSWORD", "smtp-secret-value", "SESAME_DATABASE_URL",
        "jdbc:postgresql://db/sesame?password=url-secret", "SESAME_DATABASE_PASSWORD", "db-secret-value"));
    String printed = c.toString() + c.describe();
    for (String secret : List.of("m".repeat(40), "smtp-secret-value", "url-secret", "db-secret-value")) {
      assertFalse(printed.contains(secret), "leaked " + secret + " in " + printed);
    }
    assertEquals("***", c.masterKey().orElseThrow().toString());
    assertEquals("m".repeat(40), c.masterKey().orElseThrow().reveal());
  }

  @Test
  void a_database_that_cannot_be_reached_is_reported_without_the_password_in_its_url() {
    int closedPort = dev.sesame.support.TestServer.freePort();
    Config c = Config.load(Map.of("SESAME_DATABASE_URL",
        "jdbc:postgresql://127.0.0.1:" + closedPort + "/sesame?password=url-secret&connectTimeout=2"));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> dev.sesame.db.Database.open(c));
    assertTrue(e.getMessage().startsWith("cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:"),
        e.getMessage());
    assertFalse(e.getMessage().contains("url-secret"), e.getMessage());
  }

  @Test
  void smtp_settings_default_their_port_from_the_tls_mode() {
    assertEquals(587, Config.load(Map.of("SESAME_SMTP_HOST", "h")).smtp().orElseThrow().port());
    assertEquals(465, Config.load(Map.of("SESAME_SMTP_HOST", "h", "SESAME_SMTP_TLS", "tls")).smtp().orElseThrow()
        .port());
    assertEquals(25, Config.load(Map.of("SESAME_SMTP_HOST", "h", "SESAME_SMTP_TLS", "none")).smtp().orElseThrow()
        .port());
  }

  @Test
  void dot_env_is_read_and_the_real_environment_wins(@TempDir Path dir) throws Exception {
    Path file = dir.resolve(".env");
    Files.writeString(file, """
        # comment
        SESAME_RP_NAME="Acme Notes"
        export SESAME_PORT=9090
        SESAME_EMAIL_TTL='20m'
        """);
    Map<String, String> env = Env.load(file, Map.of("SESAME_PORT", "7070"));
    Config c = Config.load(env);
    assertEquals("Acme Notes", c.rpName());
    assertEquals(7070, c.port());
    assertEquals(Duration.ofMinutes(20), c.emailTtl());

    Files.writeString(file, "NOT A SETTING\n");
    ConfigException e = assertThrows(ConfigException.class, () -> Env.load(file, Map.of()));
    assertTrue(e.getMessage().startsWith(".env: line 1"), e.getMessage());
    assertEquals(Map.of(), Env.load(dir.resolve("missing.env"), Map.of()));
  }

  @Test
  void cidr_ranges_match_addresses() throws Exception {
    Cidr ten = Cidr.parse("10.0.0.0/8");
    assertTrue(ten.contains(InetAddress.getByName("10.200.3.4")));
    assertFalse(ten.contains(InetAddress.getByName("11.0.0.1")));
    assertFalse(ten.contains(InetAddress.getByName("::1")));
    assertTrue(Cidr.parse("192.168.1.7").contains(InetAddress.getByName("192.168.1.7")));
    assertFalse(Cidr.parse("192.168.1.7").contains(InetAddress.getByName("192.168.1.8")));
    assertTrue(Cidr.parse("172.16.0.0/12").contains(InetAddress.getByName("172.31.255.255")));
    assertFalse(Cidr.parse("172.16.0.0/12").contains(InetAddress.getByName("172.32.0.0")));
    assertTrue(Cidr.parse("fd00::/8").contains(InetAddress.getByName("fd12::1")));
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/33"));
  }
}
