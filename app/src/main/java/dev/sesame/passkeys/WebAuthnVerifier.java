package dev.sesame.passkeys;

import com.webauthn4j.WebAuthnManager;
import com.webauthn4j.converter.AuthenticatorDataConverter;
import com.webauthn4j.converter.CollectedClientDataConverter;
import com.webauthn4j.converter.util.ObjectConverter;
import com.webauthn4j.credential.CredentialRecord;
import com.webauthn4j.credential.CredentialRecordImpl;
import com.webauthn4j.data.AuthenticationData;
import com.webauthn4j.data.AuthenticationParameters;
import com.webauthn4j.data.AuthenticatorAssertionResponse;
import com.webauthn4j.data.AuthenticatorTransport;
import com.webauthn4j.data.PublicKeyCredential;
import com.webauthn4j.data.PublicKeyCredentialParameters;
import com.webauthn4j.data.PublicKeyCredentialType;
import com.webauthn4j.data.RegistrationData;
import com.webauthn4j.data.RegistrationParameters;
import com.webauthn4j.data.attestation.authenticator.AAGUID;
import com.webauthn4j.data.attestation.authenticator.AttestedCredentialData;
import com.webauthn4j.data.attestation.authenticator.AuthenticatorData;
import com.webauthn4j.data.attestation.authenticator.COSEKey;
import com.webauthn4j.data.attestation.statement.COSEAlgorithmIdentifier;
import com.webauthn4j.data.attestation.statement.NoneAttestationStatement;
import com.webauthn4j.data.client.Origin;
import com.webauthn4j.data.client.challenge.DefaultChallenge;
import com.webauthn4j.data.extension.authenticator.AuthenticationExtensionAuthenticatorOutput;
import com.webauthn4j.data.extension.authenticator.AuthenticationExtensionsAuthenticatorOutputs;
import com.webauthn4j.data.extension.client.AuthenticationExtensionClientOutput;
import com.webauthn4j.server.ServerProperty;
import com.webauthn4j.verifier.attestation.statement.androidkey.AndroidKeyAttestationStatementVerifier;
import com.webauthn4j.verifier.attestation.statement.androidsafetynet.AndroidSafetyNetAttestationStatementVerifier;
import com.webauthn4j.verifier.attestation.statement.apple.AppleAnonymousAttestationStatementVerifier;
import com.webauthn4j.verifier.attestation.statement.none.NoneAttestationStatementVerifier;
import com.webauthn4j.verifier.attestation.statement.packed.PackedAttestationStatementVerifier;
import com.webauthn4j.verifier.attestation.statement.tpm.TPMAttestationStatementVerifier;
import com.webauthn4j.verifier.attestation.statement.u2f.FIDOU2FAttestationStatementVerifier;
import com.webauthn4j.verifier.attestation.trustworthiness.certpath.NullCertPathTrustworthinessVerifier;
import com.webauthn4j.verifier.attestation.trustworthiness.self.DefaultSelfAttestationTrustworthinessVerifier;
import com.webauthn4j.verifier.exception.BadAlgorithmException;
import com.webauthn4j.verifier.exception.BadAttestationStatementException;
import com.webauthn4j.verifier.exception.BadBackupEligibleFlagException;
import com.webauthn4j.verifier.exception.BadChallengeException;
import com.webauthn4j.verifier.exception.BadOriginException;
import com.webauthn4j.verifier.exception.BadRpIdException;
import com.webauthn4j.verifier.exception.BadSignatureException;
import com.webauthn4j.verifier.exception.CrossOriginException;
import com.webauthn4j.verifier.exception.InconsistentClientDataTypeException;
import com.webauthn4j.verifier.exception.MaliciousCounterValueException;
import com.webauthn4j.verifier.exception.NotAllowedAlgorithmException;
import com.webauthn4j.verifier.exception.UserNotPresentException;
import com.webauthn4j.verifier.exception.UserNotVerifiedException;
import com.webauthn4j.verifier.exception.VerificationException;
import dev.sesame.common.ApiException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Sesame's boundary to webauthn4j: parses WebAuthn Level 3 JSON responses and runs the ceremony checks of WebAuthn L3
 * §7.1 (registration) and §7.2 (authentication). Stateless and database-free; the caller supplies the challenge and
 * the stored credential, and persists what comes back. Every webauthn4j failure becomes an {@link ApiException} with
 * a Sesame error code, so no library exception crosses this class.
 */
final class WebAuthnVerifier {
  /** Offered to authenticators, in order of preference (§5.4.1 pubKeyCredParams). RS256 is for Windows Hello. */
  static final List<Long> ALGORITHMS = List.of(-8L, -7L, -257L);

  private static final List<PublicKeyCredentialParameters> OFFERED = ALGORITHMS.stream()
      .map(alg -> new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY,
          COSEAlgorithmIdentifier.create(alg)))
      .toList();

  private final WebAuthnManager manager;
  private static final TypeReference<PublicKeyCredential<AuthenticatorAssertionResponse,
      AuthenticationExtensionClientOutput>> ASSERTION_JSON = new TypeReference<>() {};
  private static final int FLAG_AT = 0x40;
  private static final int FLAG_ED = 0x80;

  private final ObjectConverter converter = new ObjectConverter();
  private final AuthenticatorDataConverter authenticatorDataConverter = new AuthenticatorDataConverter(converter);
  private final CollectedClientDataConverter clientDataConverter = new CollectedClientDataConverter(converter);
  private final Set<Origin> origins;
  private final String rpId;
  private final boolean userVerificationRequired;
  private final boolean verifyAttestation;

  WebAuthnVerifier(Set<String> origins, String rpId, boolean userVerificationRequired, boolean verifyAttestation) {
    this.origins = origins.stream().map(Origin::new).collect(Collectors.toUnmodifiableSet());
    this.rpId = rpId;
    this.userVerificationRequired = userVerificationRequired;
    this.verifyAttestation = verifyAttestation;
    this.manager = verifyAttestation
        // The attestation statement's signature and format are verified (§8); its certificate chain is not
        // evaluated against a trust store (no FIDO metadata service here), so the format is recorded, not trusted.
        ? new WebAuthnManager(List.of(new NoneAttestationStatementVerifier(), new PackedAttestationStatementVerifier(),
            new FIDOU2FAttestationStatementVerifier(), new AndroidKeyAttestationStatementVerifier(),
            new AndroidSafetyNetAttestationStatementVerifier(), new TPMAttestationStatementVerifier(),
            new AppleAnonymousAttestationStatementVerifier()),
            new NullCertPathTrustworthinessVerifier(), new DefaultSelfAttestationTrustworthinessVerifier(), converter)
        : WebAuthnManager.createNonStrictWebAuthnManager(converter);
  }

  /** What registration establishes, to be stored with the passkey. */
  record VerifiedRegistration(byte[] credentialId, byte[] coseKey, long algorithm, long signCount,
                              Set<String> transports, UUID aaguid, boolean backupEligible, boolean backupState,
                              boolean userVerified, String attestationFormat) {}

  /** A parsed sign-in response: who it claims to be, before anything is checked. */
  record Assertion(AuthenticationData data) {
    byte[] credentialId() {
      return data.getCredentialId();
    }

    byte[] userHandle() {
      return data.getUserHandle();
    }
  }

  /** A stored passkey, as sign-in verification needs it. */
  record StoredCredential(byte[] credentialId, byte[] coseKey, long signCount, boolean backupEligible,
                          boolean backupState, boolean uvInitialized, Set<String> transports, UUID aaguid) {}

  /** What a verified sign-in tells about the authenticator now. */
  record VerifiedAssertion(long signCount, boolean backupState, boolean userVerified) {}

  /**
   * §7.1. {@code conditional}: the ceremony was a conditional create (an automatic upgrade, L3 §5.1.3 with
   * {@code mediation: "conditional"}), where the client may have the authenticator create the credential without
   * a test of user presence or verification; for every other registration both stay required (step 14-15).
   */
  VerifiedRegistration verifyRegistration(String responseJson, byte[] challenge, boolean conditional) {
    RegistrationData data;
    try {
      data = manager.parseRegistrationResponseJSON(responseJson);
    } catch (RuntimeException e) {
      throw ApiException.badRequest("invalid_credential",
          "The credential is not a valid WebAuthn registration response.");
    }
    if (data.getAttestationObject() == null || data.getCollectedClientData() == null
        || data.getAttestationObject().getAuthenticatorData().getAttestedCredentialData() == null) {
      throw ApiException.badRequest("invalid_credential",
          "The credential is not a valid WebAuthn registration response.");
    }
    RegistrationParameters parameters = new RegistrationParameters(serverProperty(challenge), OFFERED,
        userVerificationRequired && !conditional, !conditional);
    try {
      manager.verify(data, parameters);
    } catch (VerificationException e) {
      throw refusal(400, e, true);
    } catch (RuntimeException e) {
      throw ApiException.badRequest("invalid_credential", "The registration response could not be verified.");
    }
    AuthenticatorData<?> authData = data.getAttestationObject().getAuthenticatorData();
    AttestedCredentialData attested = authData.getAttestedCredentialData();
    COSEKey key = attested.getCOSEKey();
    if (key.getAlgorithm() == null) {
      throw ApiException.badRequest("algorithm_not_allowed", "The credential public key names no algorithm.");
    }
    Set<String> transports = data.getTransports() == null ? Set.of() : data.getTransports().stream()
        .map(AuthenticatorTransport::getValue).collect(Collectors.toCollection(LinkedHashSet::new));
    AAGUID aaguid = attested.getAaguid();
    return new VerifiedRegistration(attested.getCredentialId(), converter.getCborConverter().writeValueAsBytes(key),
        key.getAlgorithm().getValue(), authData.getSignCount(), transports,
        aaguid == null || aaguid.equals(AAGUID.ZERO) ? null : aaguid.getValue(), authData.isFlagBE(),
        authData.isFlagBS(), authData.isFlagUV(), recordedFormat(data.getAttestationObject().getFormat()));
  }

  /**
   * §7.1 steps 21-22: only a statement whose signature was verified may be recorded as what it claims. With
   * {@code SESAME_ATTESTATION=none} none was asked for and none is checked, so whatever came is recorded as
   * {@code none}: an unverified "packed" must never look like an attested passkey (in the audit log or the API).
   */
  String recordedFormat(String sentFormat) {
    return verifyAttestation ? sentFormat : "none";
  }

  Assertion parseAssertion(String responseJson) {
    try {
      PublicKeyCredential<AuthenticatorAssertionResponse, AuthenticationExtensionClientOutput> credential =
          converter.getJsonMapper().readValue(responseJson, ASSERTION_JSON);
      AuthenticatorAssertionResponse response = credential == null ? null : credential.getResponse();
      if (response == null || credential.getRawId() == null || response.getAuthenticatorData() == null
          || response.getClientDataJSON() == null || response.getSignature() == null) {
        throw new IllegalArgumentException("incomplete");
      }
      // What webauthn4j's parseAuthenticationResponseJSON builds, but with authenticatorData(..) below.
      return new Assertion(new AuthenticationData(credential.getRawId(), response.getUserHandle(),
          authenticatorData(response.getAuthenticatorData()), response.getAuthenticatorData(),
          clientDataConverter.convert(response.getClientDataJSON()), response.getClientDataJSON(),
          credential.getClientExtensionResults(), response.getSignature()));
    } catch (RuntimeException e) {
      throw ApiException.badRequest("invalid_credential",
          "The credential is not a valid WebAuthn authentication response.");
    }
  }

  /**
   * Authenticator data of a sign-in (WebAuthn §6.1): rpIdHash (32 bytes), flags (1), signCount (4, big-endian), then
   * attested credential data if AT is set and extensions if ED is set. webauthn4j 0.31's converter gives data without
   * extensions a {@code new AuthenticationExtensionsAuthenticatorOutputs()}, which builds a whole new ObjectConverter
   * (two Jackson mappers with cold caches) on every sign-in: about 15% of the sign-in's CPU in the profile. The common
   * shape, exactly 37 bytes with neither AT nor ED, is read here with the shared converter; anything else goes
   * through webauthn4j's converter. Either way webauthn4j's verifier checks every field and the signature over the
   * raw bytes.
   */
  AuthenticatorData<AuthenticationExtensionAuthenticatorOutput> authenticatorData(byte[] bytes) {
    if (bytes.length == 37 && (bytes[32] & (FLAG_AT | FLAG_ED)) == 0) {
      long signCount = ByteBuffer.wrap(bytes, 33, 4).getInt() & 0xFFFF_FFFFL;
      return new AuthenticatorData<>(Arrays.copyOf(bytes, 32), bytes[32], signCount,
          new AuthenticationExtensionsAuthenticatorOutputs<>(JsonNodeFactory.instance.objectNode(), converter));
    }
    return authenticatorDataConverter.convert(bytes);
  }

  VerifiedAssertion verifyAssertion(Assertion assertion, byte[] challenge, StoredCredential stored) {
    COSEKey key = converter.getCborConverter().readValue(stored.coseKey(), COSEKey.class);
    AttestedCredentialData attested = new AttestedCredentialData(
        stored.aaguid() == null ? AAGUID.ZERO : new AAGUID(stored.aaguid()), stored.credentialId(), key);
    Set<AuthenticatorTransport> transports = stored.transports().stream().map(AuthenticatorTransport::create)
        .collect(Collectors.toSet());
    CredentialRecord record = new CredentialRecordImpl(new NoneAttestationStatement(), stored.uvInitialized(),
        stored.backupEligible(), stored.backupState(), stored.signCount(), attested, null, null, null, transports);
    AuthenticationParameters parameters = new AuthenticationParameters(serverProperty(challenge), record, null,
        userVerificationRequired, true);
    try {
      manager.verify(assertion.data(), parameters);
    } catch (VerificationException e) {
      throw refusal(401, e, false);
    } catch (RuntimeException e) {
      throw ApiException.unauthorized("invalid_credential", "The authentication response could not be verified.");
    }
    AuthenticatorData<?> authData = assertion.data().getAuthenticatorData();
    return new VerifiedAssertion(authData.getSignCount(), authData.isFlagBS(), authData.isFlagUV());
  }

  private static final String CLONED = "The signature counter went backwards: this passkey may have been cloned.";

  /** §7.2 step 22's refusal, for a counter found stale only when the sign-in is written (see PasskeyService). */
  ApiException clonedRefusal() {
    return new ApiException(401, "credential_cloned", CLONED);
  }

  private ServerProperty serverProperty(byte[] challenge) {
    return ServerProperty.builder().origins(origins).rpId(rpId).challenge(new DefaultChallenge(challenge)).build();
  }

  /** Maps each WebAuthn check to a code clients and audit logs can tell apart. */
  private static ApiException refusal(int status, VerificationException e, boolean registration) {
    String code;
    String detail;
    if (e instanceof BadOriginException || e instanceof CrossOriginException) {
      code = "origin_mismatch"; // §7.1 step 9 / §7.2 step 13
      detail = "The credential was created on an origin that is not allowed.";
    } else if (e instanceof BadRpIdException) {
      code = "rp_id_mismatch"; // rpIdHash, §7.1 step 13 / §7.2 step 15
      detail = "The authenticator data is for another relying party.";
    } else if (e instanceof InconsistentClientDataTypeException) {
      code = "client_data_type_mismatch"; // §7.1 step 7 / §7.2 step 11
      detail = "The client data type does not match this ceremony.";
    } else if (e instanceof BadChallengeException) {
      code = "challenge_mismatch"; // §7.1 step 8 / §7.2 step 12
      detail = "The response does not answer this ceremony's challenge.";
    } else if (e instanceof UserNotPresentException) {
      code = "user_not_present"; // UP flag, §7.1 step 14 / §7.2 step 16
      detail = "The authenticator did not confirm user presence.";
    } else if (e instanceof UserNotVerifiedException) {
      code = "user_not_verified"; // UV flag, §7.1 step 15 / §7.2 step 17
      detail = "The authenticator did not verify the user (biometrics or PIN are required).";
    } else if (e instanceof NotAllowedAlgorithmException || e instanceof BadAlgorithmException) {
      code = "algorithm_not_allowed"; // §7.1 step 18
      detail = "The credential uses an algorithm that was not offered.";
    } else if (e instanceof BadSignatureException && registration) {
      code = "invalid_attestation"; // the only signature in a registration is the attestation's, §7.1 step 21
      detail = "The attestation statement's signature does not verify.";
    } else if (e instanceof BadSignatureException) {
      code = "bad_signature"; // §7.2 step 21
      detail = "The signature does not verify with the stored public key.";
    } else if (e instanceof MaliciousCounterValueException) {
      code = "credential_cloned"; // §7.2 step 22
      detail = CLONED;
    } else if (e instanceof BadBackupEligibleFlagException) {
      code = "backup_eligibility_changed"; // §6.1.3: BE never changes for a credential
      detail = "The authenticator's backup eligibility changed.";
    } else if (e instanceof BadAttestationStatementException) {
      code = "invalid_attestation"; // §7.1 step 21
      detail = "The attestation statement does not verify.";
    } else {
      code = "verification_failed";
      detail = "The WebAuthn response failed verification.";
    }
    return new ApiException(status, code, detail);
  }
}
