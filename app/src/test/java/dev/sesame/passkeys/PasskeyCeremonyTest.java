package dev.sesame.passkeys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.sesame.support.Account;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.SoftwareAuthenticator.Alg;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PasskeyCeremonyTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.with(Map.of("SESAME_RP_NAME", "Acme Notes"));
  static PasskeyClient passkeys;

  @BeforeAll
  static void start() {
    passkeys = new PasskeyClient(sesame.http());
  }

  static Account newAccount() {
    return Account.signUp(sesame.http());
  }

  SoftwareAuthenticator authenticator() {
    return new SoftwareAuthenticator(sesame.server().url());
  }

  @ParameterizedTest
  @EnumSource(Alg.class)
  void register_and_sign_in_without_typing_an_email(Alg alg) throws Exception {
    Account account = newAccount();
    SoftwareAuthenticator device = authenticator();
    device.alg = alg;
    Http.Response registered = passkeys.register(account.accessToken(), device);
    assertEquals(201, registered.status(), registered.body());
    JsonNode passkey = registered.json().get("passkey");
    assertEquals("Passkey", passkey.get("name").asText());
    assertTrue(passkey.get("backedUp").asBoolean());
    assertTrue(passkey.get("transports").toString().contains("internal"));

    Http.Response signedIn = passkeys.signIn(device, null);
    assertEquals(200, signedIn.status(), signedIn.body());
    JsonNode tokens = signedIn.json();
    assertEquals(account.userId(), tokens.get("user").get("id").asText());
    // Verified offline with the published JWKS, as any backend would.
    DefaultJWTProcessor<SecurityContext> backend = new DefaultJWTProcessor<>();
    backend.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(new JOSEObjectType("at+jwt")));
    backend.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.ES256,
        new ImmutableJWKSet<>(JWKSet.parse(sesame.http().get("/.well-known/jwks.json").body()))));
    backend.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(sesame.server().url(),
        new JWTClaimsSet.Builder().issuer(sesame.server().url()).subject(account.userId()).build(), Set.of("exp", "sid")));
    JWTClaimsSet claims = backend.process(tokens.get("access_token").asText(), null);
    assertEquals("passkey", claims.getStringClaim("auth_method"));
    assertEquals(List.of("swk", "user"), claims.getStringListClaim("amr"));
    assertEquals(200, sesame.http().get("/v1/me", "Authorization", "Bearer " + tokens.get("access_token").asText()).status());
  }

  @Test
  void creation_options_follow_the_spec_and_the_settings() {
    Account account = newAccount();
    SoftwareAuthenticator device = authenticator();
    assertEquals(201, passkeys.register(account.accessToken(), device).status());
    JsonNode options = passkeys.registrationOptions(account.accessToken());
    JsonNode pk = options.get("publicKey");
    assertEquals("127.0.0.1", pk.get("rp").get("id").asText());
    assertEquals("Acme Notes", pk.get("rp").get("name").asText());
    assertEquals(account.email(), pk.get("user").get("name").asText());
    String userHandle = pk.get("user").get("id").asText();
    byte[] handle = java.util.Base64.getUrlDecoder().decode(userHandle);
    assertEquals(16, handle.length, "a random 128-bit handle");
    assertFalse(new String(handle, java.nio.charset.StandardCharsets.ISO_8859_1).contains(account.email()),
        "never the email");
    UUID userId = UUID.fromString(account.userId());
    byte[] idBytes = java.nio.ByteBuffer.allocate(16).putLong(userId.getMostSignificantBits())
        .putLong(userId.getLeastSignificantBits()).array();
    assertFalse(java.util.Arrays.equals(idBytes, handle), "not the user id either");
    assertEquals(userHandle, passkeys.registrationOptions(account.accessToken()).get("publicKey").get("user")
        .get("id").asText(), "stable per user");
    assertEquals(32, java.util.Base64.getUrlDecoder().decode(pk.get("challenge").asText()).length);
    List<Integer> algs = new ArrayList<>();
    pk.get("pubKeyCredParams").forEach(p -> algs.add(p.get("alg").asInt()));
    assertEquals(List.of(-8, -7, -257), algs);
    assertEquals(1, pk.get("excludeCredentials").size());
    assertEquals(java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(device.credentials().get(0).id),
        pk.get("excludeCredentials").get(0).get("id").asText());
    assertTrue(pk.get("excludeCredentials").get(0).get("transports").size() > 0);
    JsonNode selection = pk.get("authenticatorSelection");
    assertEquals("required", selection.get("residentKey").asText());
    assertTrue(selection.get("requireResidentKey").asBoolean());
    assertEquals("required", selection.get("userVerification").asText());
    assertEquals("platform", selection.get("authenticatorAttachment").asText());
    assertEquals("none", pk.get("attestation").asText());
    assertEquals(300000, pk.get("timeout").asInt());
    assertTrue(pk.get("extensions").get("credProps").asBoolean());
    assertEquals("client-device", pk.get("hints").get(0).asText());
  }
}
