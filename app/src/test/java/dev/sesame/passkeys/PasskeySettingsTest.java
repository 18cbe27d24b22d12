package dev.sesame.passkeys;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jwt.SignedJWT;
import dev.sesame.config.ConfigException;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasskeySettingsTest {
  static String signIn(TestServer server) {
    return DevMailbox.signIn(server.http(), "s-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com")
        .get("access_token").asText();
  }

  static List<String> amr(Http.Response tokens) throws Exception {
    return SignedJWT.parse(tokens.json().get("access_token").asText()).getJWTClaimsSet().getStringListClaim("amr");
  }

  @Test
  void preferred_user_verification_accepts_presence_only_and_says_so_in_amr() throws Exception {
    try (TestServer server = TestServer.start(Map.of("SESAME_USER_VERIFICATION", "preferred"))) {
      PasskeyClient passkeys = new PasskeyClient(server.http());
      SoftwareAuthenticator securityKey = new SoftwareAuthenticator(server.url());
      securityKey.userVerifying = false;
      String token = signIn(server);
      JsonNode options = passkeys.registrationOptions(token).get("publicKey");
      assertEquals("preferred", options.get("authenticatorSelection").get("userVerification").asText());
      assertEquals(201, passkeys.register(token, securityKey).status());
      Http.Response r = passkeys.signIn(securityKey, null);
      assertEquals(200, r.status(), r.body());
      assertEquals(List.of("swk"), amr(r), "no 'user' without user verification");
    }
  }

  @Test
  void a_device_bound_passkey_signs_in_as_hardware_key() throws Exception {
    try (TestServer server = TestServer.start()) {
      PasskeyClient passkeys = new PasskeyClient(server.http());
      SoftwareAuthenticator deviceBound = new SoftwareAuthenticator(server.url());
      deviceBound.backupEligible = false;
      Http.Response registered = passkeys.register(signIn(server), deviceBound);
      assertFalse(registered.json().get("passkey").get("backedUp").asBoolean());
      assertEquals(List.of("hwk", "user"), amr(passkeys.signIn(deviceBound, null)));
    }
  }

  @Test
  void attachment_any_drops_the_platform_requirement() {
    try (TestServer server = TestServer.start(Map.of("SESAME_AUTHENTICATOR_ATTACHMENT", "any"))) {
      JsonNode options = new PasskeyClient(server.http()).registrationOptions(signIn(server)).get("publicKey");
      assertFalse(options.get("authenticatorSelection").has("authenticatorAttachment"));
      assertEquals(0, options.get("hints").size());
    }
  }

  @Test
  void direct_attestation_verifies_the_statement_and_records_its_format() {
    try (TestServer server = TestServer.start(Map.of("SESAME_ATTESTATION", "direct"))) {
      PasskeyClient passkeys = new PasskeyClient(server.http());
      String token = signIn(server);
      assertEquals("direct", passkeys.registrationOptions(token).get("publicKey").get("attestation").asText());

      SoftwareAuthenticator packed = new SoftwareAuthenticator(server.url());
      packed.attestationFormat = "packed";
      assertEquals(201, passkeys.register(token, packed).status());
      String format = server.jdbi().withHandle(h -> h.createQuery("SELECT attestation_format FROM passkeys")
          .mapTo(String.class).one());
      assertEquals("packed", format);

      SoftwareAuthenticator forged = new SoftwareAuthenticator(server.url());
      forged.attestationFormat = "packed";
      forged.next.corruptSignature = true;
      assertProblem(passkeys.register(token, forged), 400, "invalid_attestation");
    }
  }

  @Test
  void related_origins_are_published_and_accepted() {
    try (TestServer plain = TestServer.start()) {
      assertProblem(plain.http().get("/.well-known/webauthn"), 404, "not_found");
    }
    try (TestServer server = TestServer.start(Map.of("SESAME_RELATED_ORIGINS", "https://shop.example.com"))) {
      JsonNode wellKnown = server.http().get("/.well-known/webauthn").json();
      assertEquals("https://shop.example.com", wellKnown.get("origins").get(0).asText());
      PasskeyClient passkeys = new PasskeyClient(server.http());
      SoftwareAuthenticator device = new SoftwareAuthenticator(server.url());
      assertEquals(201, passkeys.register(signIn(server), device).status());
      device.origin = "https://shop.example.com";
      assertEquals(200, passkeys.signIn(device, null).status());
      device.origin = "https://other.example.com";
      assertProblem(passkeys.signIn(device, null), 401, "origin_mismatch");
    }
  }

  @Test
  void provider_names_come_from_the_aaguid(@TempDir Path dir) throws Exception {
    UUID custom = UUID.randomUUID();
    Path file = dir.resolve("aaguids.json");
    Files.writeString(file, "{\"" + custom + "\": {\"name\": \"Acme Vault\", \"icon_light\": \"data:x\"},"
        + "\"fbfc3007-154e-4ecc-8c0b-6e020557d7bd\": {\"name\": \"iCloud Keychain\"}}");
    try (TestServer server = TestServer.start(Map.of("SESAME_AAGUID_FILE", file.toString()))) {
      PasskeyClient passkeys = new PasskeyClient(server.http());
      String token = signIn(server);
      SoftwareAuthenticator iphone = new SoftwareAuthenticator(server.url());
      iphone.aaguid = UUID.fromString("fbfc3007-154e-4ecc-8c0b-6e020557d7bd");
      JsonNode apple = passkeys.register(token, iphone).json().get("passkey");
      assertEquals("iCloud Keychain", apple.get("name").asText(), "the default name is the provider");
      assertEquals("iCloud Keychain", apple.get("provider").asText());
      SoftwareAuthenticator vault = new SoftwareAuthenticator(server.url());
      vault.aaguid = custom;
      assertEquals("Acme Vault", passkeys.register(token, vault).json().get("passkey").get("provider").asText());
    }
    assertEquals("Google Password Manager",
        Aaguids.builtIn().name(UUID.fromString("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")));
    assertEquals("Passkey", Aaguids.builtIn().name(null));

    Path broken = dir.resolve("broken.json");
    Files.writeString(broken, "[1, 2]");
    ConfigException e = assertThrows(ConfigException.class,
        () -> TestServer.start(Map.of("SESAME_AAGUID_FILE", broken.toString())));
    assertTrue(e.getMessage().startsWith("SESAME_AAGUID_FILE: "), e.getMessage());
  }
}
