package dev.sesame.passkeys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.webauthn4j.WebAuthnManager;
import com.webauthn4j.converter.AuthenticatorDataConverter;
import com.webauthn4j.converter.util.ObjectConverter;
import com.webauthn4j.data.AuthenticationData;
import com.webauthn4j.data.attestation.authenticator.AuthenticatorData;
import dev.sesame.common.ApiException;
import dev.sesame.support.Cbor;
import dev.sesame.support.SoftwareAuthenticator;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Sign-in responses are parsed without webauthn4j's per-call ObjectConverter (see
 * {@link WebAuthnVerifier#authenticatorData}); what comes out must be exactly what webauthn4j's own parser makes.
 */
class AssertionParsingTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  final WebAuthnVerifier verifier = new WebAuthnVerifier(Set.of("https://id.example.com"), "id.example.com", true,
      false);
  final AuthenticatorDataConverter webauthn4j = new AuthenticatorDataConverter(new ObjectConverter());

  static byte[] authenticatorData(int flags, long signCount, byte[] rest) {
    ByteBuffer b = ByteBuffer.allocate(37 + rest.length);
    for (int i = 0; i < 32; i++) {
      b.put((byte) (i * 7 + 1));
    }
    return b.put((byte) flags).putInt((int) signCount).put(rest).array();
  }

  @ParameterizedTest
  @CsvSource({"0x01, 0", "0x05, 1", "0x1D, 2147483647", "0x1D, 2147483648", "0x05, 4294967295", "0x00, 7"})
  void readsPlainAuthenticatorDataAsWebauthn4jDoes(String flags, long signCount) {
    byte[] bytes = authenticatorData(Integer.decode(flags), signCount, new byte[0]);
    AuthenticatorData<?> ours = verifier.authenticatorData(bytes);
    AuthenticatorData<?> theirs = webauthn4j.convert(bytes);
    assertArrayEquals(theirs.getRpIdHash(), ours.getRpIdHash());
    assertEquals(theirs.getFlags(), ours.getFlags());
    assertEquals(signCount, ours.getSignCount());
    assertEquals(theirs.getSignCount(), ours.getSignCount());
    assertEquals(theirs.isFlagUV(), ours.isFlagUV());
    assertEquals(theirs.isFlagBS(), ours.isFlagBS());
    assertNull(ours.getAttestedCredentialData());
    assertEquals(Set.of(), ours.getExtensions().getKeys());
    assertEquals(theirs.getExtensions().getExtensions(), ours.getExtensions().getExtensions());
  }

  @Test
  void extensionsStillGoThroughWebauthn4j() {
    ByteArrayOutputStream extensions = new ByteArrayOutputStream();
    extensions.writeBytes(Cbor.encode(Map.of("credProtect", 2)));
    byte[] bytes = authenticatorData(0x85, 9, extensions.toByteArray()); // UP, UV, ED
    AuthenticatorData<?> ours = verifier.authenticatorData(bytes);
    assertEquals(Set.of("credProtect"), ours.getExtensions().getKeys());
    assertEquals(9, ours.getSignCount());
  }

  @Test
  void attestedDataFlagInASignInIsLeftToWebauthn4j() {
    byte[] bytes = authenticatorData(0x45, 1, new byte[0]); // AT set, though no attested credential data follows
    AuthenticatorData<?> ours = verifier.authenticatorData(bytes);
    AuthenticatorData<?> theirs = webauthn4j.convert(bytes);
    assertEquals(theirs, ours);
    assertEquals(true, ours.isFlagAT());
  }

  @Test
  void parsesARealResponseLikeWebauthn4j() throws Exception {
    SoftwareAuthenticator device = new SoftwareAuthenticator("https://id.example.com");
    ObjectNode create = JSON.createObjectNode();
    create.putObject("rp").put("id", "id.example.com").put("name", "Example");
    create.putObject("user").put("id", B64.encodeToString(new byte[] {1, 2, 3})).put("name", "a@example.com");
    create.put("challenge", B64.encodeToString(new byte[32]));
    device.create(create);
    ObjectNode get = JSON.createObjectNode().put("rpId", "id.example.com")
        .put("challenge", B64.encodeToString(new byte[] {9, 9, 9}));
    String response = JSON.writeValueAsString(device.get(get));

    AuthenticationData ours = verifier.parseAssertion(response).data();
    AuthenticationData theirs = WebAuthnManager.createNonStrictWebAuthnManager().parseAuthenticationResponseJSON(
        response);
    assertArrayEquals(theirs.getCredentialId(), ours.getCredentialId());
    assertArrayEquals(theirs.getUserHandle(), ours.getUserHandle());
    assertArrayEquals(theirs.getAuthenticatorDataBytes(), ours.getAuthenticatorDataBytes());
    assertArrayEquals(theirs.getAuthenticatorData().getRpIdHash(), ours.getAuthenticatorData().getRpIdHash());
    assertEquals(theirs.getAuthenticatorData().getFlags(), ours.getAuthenticatorData().getFlags());
    assertEquals(theirs.getAuthenticatorData().getSignCount(), ours.getAuthenticatorData().getSignCount());
    assertEquals(theirs.getCollectedClientData(), ours.getCollectedClientData());
    assertArrayEquals(theirs.getCollectedClientDataBytes(), ours.getCollectedClientDataBytes());
    assertEquals(theirs.getClientExtensions(), ours.getClientExtensions());
    assertArrayEquals(theirs.getSignature(), ours.getSignature());
  }

  @Test
  void incompleteResponsesAreRefused() throws Exception {
    for (String json : new String[] {"{}", "null", "[]", "{\"rawId\":\"AQ\",\"type\":\"public-key\"}",
        "{\"rawId\":\"AQ\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"e30\"}}"}) {
      ApiException e = assertThrows(ApiException.class, () -> verifier.parseAssertion(json), json);
      assertEquals("invalid_credential", e.code());
    }
  }
}
