package dev.sesame.passkeys;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sesame.support.Account;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every WebAuthn verification rule, broken on purpose, must be refused with a clear 4xx. */
class PasskeyVerificationTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();
  static PasskeyClient passkeys;

  @BeforeAll
  static void start() {
    passkeys = new PasskeyClient(sesame.http());
  }

  static Account newAccount() {
    return Account.signUp(sesame.http());
  }

  SoftwareAuthenticator device() {
    return new SoftwareAuthenticator(sesame.server().url());
  }

  /** An account with one registered passkey on a new device. */
  SoftwareAuthenticator registered(Account account) {
    return passkeys.registerNewDevice(account, sesame.server().url());
  }

  Http.Response registerWith(Account account, SoftwareAuthenticator device) {
    return passkeys.register(account.accessToken(), device);
  }

  // ---- registration rules ----

  @Test
  void registration_from_a_foreign_origin_is_refused() {
    SoftwareAuthenticator device = device();
    device.next.origin = "https://evil.example";
    assertProblem(registerWith(newAccount(), device), 400, "origin_mismatch");
  }

  @Test
  void registration_for_another_rp_id_is_refused() {
    SoftwareAuthenticator device = device();
    device.next.rpIdForHash = "evil.example";
    assertProblem(registerWith(newAccount(), device), 400, "rp_id_mismatch");
  }

  @Test
  void registration_without_user_presence_or_verification_is_refused() {
    SoftwareAuthenticator noUp = device();
    noUp.next.userPresent = false;
    assertProblem(registerWith(newAccount(), noUp), 400, "user_not_present");
    SoftwareAuthenticator noUv = device();
    noUv.next.userVerified = false;
    assertProblem(registerWith(newAccount(), noUv), 400, "user_not_verified");
  }

  /**
   * WebAuthn L3 conditional create (an automatic upgrade) may make the credential without a test of user presence;
   * only a ceremony started for it accepts one, and the passkey records that it was made this way. A credential made
   * for an ordinary ceremony, or a conditional ceremony's options used for an ordinary registration, gains nothing.
   */
  @Test
  void a_credential_without_user_presence_is_accepted_only_for_a_conditional_create() {
    Account account = newAccount();
    SoftwareAuthenticator ordinary = device();
    ordinary.next.userPresent = false;
    assertProblem(registerWith(account, ordinary), 400, "user_not_present");

    SoftwareAuthenticator automatic = device();
    automatic.next.userPresent = false;
    automatic.next.userVerified = false;
    JsonNode options = sesame.http().post("/v1/passkeys/register/options", Map.of("conditional", true),
        account.bearer()).json();
    assertEquals("preferred", options.at("/publicKey/authenticatorSelection/userVerification").asText(),
        "the browser asks the person nothing");
    Http.Response made = passkeys.finishRegistration(account.accessToken(), options.get("ceremonyId").asText(),
        automatic.create(options.get("publicKey")));
    assertEquals(201, made.status(), made.body());
    assertTrue(made.json().at("/passkey/automatic").asBoolean());
    JsonNode listed = sesame.http().get("/v1/me/passkeys", account.bearer()).json().get("passkeys");
    assertTrue(listed.get(0).get("automatic").asBoolean());
    // Signing in with it still needs user verification, as every sign-in does.
    automatic.next.userVerified = false;
    assertProblem(passkeys.signIn(automatic, null), 401, "user_not_verified");
    assertEquals(200, passkeys.signIn(automatic, null).status());

    // An ordinary ceremony's credential made without presence stays refused, whatever was asked before.
    SoftwareAuthenticator again = device();
    again.next.userPresent = false;
    JsonNode plain = sesame.http().post("/v1/passkeys/register/options", Map.of("conditional", false),
        account.bearer()).json();
    assertProblem(passkeys.finishRegistration(account.accessToken(), plain.get("ceremonyId").asText(),
        again.create(plain.get("publicKey"))), 400, "user_not_present");
  }

  /** Passkey and email sign-ins answer with the Signal API's arguments: the account's passkeys as they are now. */
  @Test
  void every_sign_in_answers_with_the_accounts_passkeys_for_the_signal_api() {
    Account account = newAccount();
    SoftwareAuthenticator first = registered(account);
    SoftwareAuthenticator second = registered(account);
    JsonNode byPasskey = passkeys.signIn(first, null).json().get("webauthn");
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    assertEquals(List.of(b64.encodeToString(first.credentials().get(0).id),
            b64.encodeToString(second.credentials().get(0).id)),
        List.of(byPasskey.at("/allAcceptedCredentialIds/0").asText(), byPasskey.at("/allAcceptedCredentialIds/1")
            .asText()));
    assertEquals(account.email(), byPasskey.get("name").asText());
    assertEquals(b64.encodeToString(first.credentials().get(0).userHandle), byPasskey.get("userId").asText());
    JsonNode byEmail = DevMailbox.signIn(sesame.http(), account.email()).get("webauthn");
    assertEquals(byPasskey, byEmail, "the same after an email sign-in");
    assertEquals(byPasskey, sesame.http().get("/v1/me/passkeys", account.bearer()).json().get("webauthn"));
    Account newcomer = newAccount();
    assertEquals(0, DevMailbox.signIn(sesame.http(), newcomer.email()).at("/webauthn/allAcceptedCredentialIds").size(),
        "no passkey: an empty list");
  }

  @Test
  void registration_with_the_wrong_client_data_type_or_challenge_is_refused() {
    SoftwareAuthenticator wrongType = device();
    wrongType.next.clientDataType = "webauthn.get";
    assertProblem(registerWith(newAccount(), wrongType), 400, "client_data_type_mismatch");
    SoftwareAuthenticator wrongChallenge = device();
    wrongChallenge.next.challenge = new byte[32];
    assertProblem(registerWith(newAccount(), wrongChallenge), 400, "challenge_mismatch");
  }

  @Test
  void registration_with_an_algorithm_that_was_not_offered_is_refused() {
    SoftwareAuthenticator device = device();
    device.next.coseAlgOverride = -35; // ES384 label on the credential key: never offered
    Http.Response r = registerWith(newAccount(), device);
    assertEquals(400, r.status(), r.body());
    String code = r.json().get("code").asText();
    assertEquals("algorithm_not_allowed", code, r.body());
  }

  @Test
  void a_registration_ceremony_can_be_finished_once() {
    Account account = newAccount();
    JsonNode options = passkeys.registrationOptions(account.accessToken());
    String ceremonyId = options.get("ceremonyId").asText();
    JsonNode credential = device().create(options.get("publicKey"));
    assertEquals(201, passkeys.finishRegistration(account.accessToken(), ceremonyId, credential).status());
    assertProblem(passkeys.finishRegistration(account.accessToken(), ceremonyId, credential), 400,
        "ceremony_not_found");
  }

  @Test
  void a_failed_registration_uses_up_its_ceremony() {
    Account account = newAccount();
    JsonNode options = passkeys.registrationOptions(account.accessToken());
    String ceremonyId = options.get("ceremonyId").asText();
    SoftwareAuthenticator device = device();
    device.next.origin = "https://evil.example";
    assertProblem(passkeys.finishRegistration(account.accessToken(), ceremonyId,
        device.create(options.get("publicKey"))), 400, "origin_mismatch");
    assertProblem(passkeys.finishRegistration(account.accessToken(), ceremonyId,
        device().create(options.get("publicKey"))), 400, "ceremony_not_found");
  }

  @Test
  void a_registration_ceremony_belongs_to_the_user_who_started_it() {
    Account owner = newAccount();
    Account other = newAccount();
    JsonNode options = passkeys.registrationOptions(owner.accessToken());
    String ceremonyId = options.get("ceremonyId").asText();
    JsonNode credential = device().create(options.get("publicKey"));
    assertProblem(passkeys.finishRegistration(other.accessToken(), ceremonyId, credential), 403,
        "ceremony_user_mismatch");
    // The attempt did not destroy the owner's ceremony.
    assertEquals(201, passkeys.finishRegistration(owner.accessToken(), ceremonyId, credential).status());
  }

  @Test
  void ceremonies_cannot_cross_types() {
    Account account = newAccount();
    SoftwareAuthenticator device = registered(account);
    JsonNode regOptions = passkeys.registrationOptions(account.accessToken());
    JsonNode signInOptions = passkeys.signInOptions(null);
    // A sign-in response against a registration ceremony, and the other way round.
    assertProblem(passkeys.finishSignIn(regOptions.get("ceremonyId").asText(),
        device.get(signInOptions.get("publicKey"))), 400, "ceremony_type_mismatch");
    assertProblem(passkeys.finishRegistration(account.accessToken(), signInOptions.get("ceremonyId").asText(),
        device().create(regOptions.get("publicKey"))), 400, "ceremony_type_mismatch");
  }

  @Test
  void an_expired_ceremony_is_refused() {
    Account account = newAccount();
    SoftwareAuthenticator device = registered(account);
    // Sign-in: the challenge travels sealed, so an expired one is sealed here with the server's own key.
    JsonNode options = passkeys.signInOptions(null);
    byte[] challenge = java.util.Base64.getUrlDecoder().decode(options.get("publicKey").get("challenge").asText());
    SignInChallenges sealer = new SignInChallenges(sesame.server().jdbi().withHandle(h -> h.createQuery(
        "SELECT value FROM server_secrets WHERE name = 'sign-in-challenges'").mapTo(byte[].class).one()));
    String expired = sealer.seal(challenge, java.time.Instant.now().minusSeconds(1), SignInChallenges.Audience.ANYONE);
    assertProblem(passkeys.finishSignIn(expired, device.get(options.get("publicKey"))), 400, "ceremony_expired");
    // Registration ceremonies are rows.
    JsonNode regOptions = passkeys.registrationOptions(account.accessToken());
    sesame.server().jdbi().useHandle(h -> h.execute("UPDATE webauthn_ceremonies SET expires_at = now() - interval '1 second'"
        + " WHERE id = ?", UUID.fromString(regOptions.get("ceremonyId").asText())));
    assertProblem(passkeys.finishRegistration(account.accessToken(), regOptions.get("ceremonyId").asText(),
        device().create(regOptions.get("publicKey"))), 400, "ceremony_expired");
  }

  @Test
  void a_credential_id_is_registered_once_across_all_users() {
    Account first = newAccount();
    SoftwareAuthenticator device = registered(first);
    SoftwareAuthenticator copy = device();
    copy.next.credentialId = device.credentials().get(0).id;
    copy.next.attestedCredentialId = device.credentials().get(0).id;
    assertProblem(registerWith(newAccount(), copy), 409, "credential_exists");
  }

  @Test
  void registration_needs_a_signed_in_user() {
    assertProblem(sesame.http().post("/v1/passkeys/register/options", Map.of()), 401, "invalid_token");
    assertProblem(sesame.http().post("/v1/passkeys/register/verify", Map.of("ceremonyId", "x", "credential", Map.of())), 401,
        "invalid_token");
  }

  // ---- sign-in rules ----

  @Test
  void sign_in_from_a_foreign_origin_or_for_another_rp_is_refused() {
    SoftwareAuthenticator device = registered(newAccount());
    device.next.origin = "http://127.0.0.1:1";
    assertProblem(passkeys.signIn(device, null), 401, "origin_mismatch");
    device.next.rpIdForHash = "evil.example";
    assertProblem(passkeys.signIn(device, null), 401, "rp_id_mismatch");
  }

  @Test
  void sign_in_without_user_presence_or_verification_is_refused() {
    SoftwareAuthenticator device = registered(newAccount());
    device.next.userPresent = false;
    assertProblem(passkeys.signIn(device, null), 401, "user_not_present");
    device.next.userVerified = false;
    assertProblem(passkeys.signIn(device, null), 401, "user_not_verified");
  }

  @Test
  void sign_in_with_a_corrupted_signature_or_another_key_is_refused() {
    SoftwareAuthenticator device = registered(newAccount());
    device.next.corruptSignature = true;
    assertProblem(passkeys.signIn(device, null), 401, "bad_signature");
    device.next.signWith = SoftwareAuthenticator.generate(SoftwareAuthenticator.Alg.ES256);
    assertProblem(passkeys.signIn(device, null), 401, "bad_signature");
    assertEquals(200, passkeys.signIn(device, null).status(), "the genuine key still works");
  }

  @Test
  void sign_in_with_the_wrong_client_data_type_or_challenge_is_refused() {
    SoftwareAuthenticator device = registered(newAccount());
    device.next.clientDataType = "webauthn.create";
    assertProblem(passkeys.signIn(device, null), 401, "client_data_type_mismatch");
    device.next.challenge = new byte[32];
    assertProblem(passkeys.signIn(device, null), 401, "challenge_mismatch");
  }

  @Test
  void a_sign_in_ceremony_can_be_finished_once() {
    SoftwareAuthenticator device = registered(newAccount());
    JsonNode options = passkeys.signInOptions(null);
    String ceremonyId = options.get("ceremonyId").asText();
    JsonNode assertion = device.get(options.get("publicKey"));
    assertEquals(200, passkeys.finishSignIn(ceremonyId, assertion).status());
    assertProblem(passkeys.finishSignIn(ceremonyId, assertion), 400, "ceremony_not_found");
  }

  @Test
  void a_counter_that_goes_backwards_means_a_clone() {
    Account account = newAccount();
    SoftwareAuthenticator device = registered(account);
    assertEquals(200, passkeys.signIn(device, null).status());
    long current = device.credentials().get(0).signCount;
    device.next.signCount = current - 1;
    assertProblem(passkeys.signIn(device, null), 401, "credential_cloned");
    device.next.signCount = current; // equal is not greater either
    assertProblem(passkeys.signIn(device, null), 401, "credential_cloned");
    List<String> events = sesame.server().jdbi().withHandle(h -> h.createQuery(
            "SELECT type FROM audit_events WHERE user_id = :u AND type LIKE 'passkey.%' ORDER BY id")
        .bind("u", UUID.fromString(account.userId())).mapTo(String.class).list());
    assertTrue(events.contains("passkey.clone_suspected"), events.toString());
  }

  @Test
  void a_counter_that_stays_at_zero_is_fine_for_synced_passkeys() {
    SoftwareAuthenticator device = device();
    device.counterStep = 0;
    Account account = newAccount();
    assertEquals(201, registerWith(account, device).status());
    for (int i = 0; i < 3; i++) {
      assertEquals(200, passkeys.signIn(device, null).status());
    }
  }

  @Test
  void the_counter_and_backup_state_are_stored_after_sign_in() {
    Account account = newAccount();
    SoftwareAuthenticator device = registered(account);
    assertEquals(200, passkeys.signIn(device, null).status());
    assertEquals(200, passkeys.signIn(device, null).status());
    Map<String, Object> row = sesame.server().jdbi().withHandle(h -> h.createQuery(
        "SELECT * FROM passkeys WHERE user_id = :u").bind("u", UUID.fromString(account.userId())).mapToMap().one());
    assertEquals(3L, row.get("sign_count"));
    assertEquals(true, row.get("backup_state"));
    assertEquals(true, row.get("backup_eligible"));
    assertEquals(true, row.get("uv_initialized"));
    assertEquals(-7, row.get("algorithm"));
    assertEquals("none", row.get("attestation_format"));
    assertTrue(row.get("last_used_at") != null);
  }

  @Test
  void the_user_handle_must_be_the_owners() {
    Account victim = newAccount();
    SoftwareAuthenticator device = registered(victim);
    Account other = newAccount();
    registered(other);
    JsonNode otherHandle = passkeys.registrationOptions(other.accessToken()).get("publicKey").get("user").get("id");
    device.next.userHandle = Base64.getUrlDecoder().decode(otherHandle.asText());
    assertProblem(passkeys.signIn(device, null), 401, "user_handle_mismatch");
  }

  @Test
  void an_unknown_credential_is_refused() {
    SoftwareAuthenticator device = registered(newAccount());
    device.next.credentialId = new byte[] {1, 2, 3, 4, 5, 6, 7, 8};
    assertProblem(passkeys.signIn(device, null), 401, "unknown_credential");
  }

  @Test
  void failed_sign_ins_are_audited_with_their_reason() {
    Account account = newAccount();
    SoftwareAuthenticator device = registered(account);
    device.next.corruptSignature = true;
    passkeys.signIn(device, null);
    assertEquals(200, passkeys.signIn(device, null).status());
    List<String> rows = sesame.server().jdbi().withHandle(h -> h.createQuery("""
            SELECT type || ':' || coalesce(details->>'reason', '') FROM audit_events
            WHERE user_id = :u AND type LIKE 'passkey.%' ORDER BY id""")
        .bind("u", UUID.fromString(account.userId())).mapTo(String.class).list());
    assertEquals(List.of("passkey.added:", "passkey.sign_in.failed:bad_signature", "passkey.sign_in.succeeded:"),
        rows);
  }

  // ---- malformed input ----

  @Test
  void malformed_credentials_are_400_never_500() {
    Account account = newAccount();
    SoftwareAuthenticator device = registered(account);
    JsonNode options = passkeys.signInOptions(null);
    String ceremonyId = options.get("ceremonyId").asText();
    ObjectNode good = device.get(options.get("publicKey"));

    assertProblem(sesame.http().post("/v1/passkeys/login/verify", Map.of("ceremonyId", ceremonyId, "credential", "x")), 400,
        "invalid_request");
    assertProblem(sesame.http().post("/v1/passkeys/login/verify", Map.of("ceremonyId", ceremonyId)), 400, "invalid_request");
    assertProblem(sesame.http().post("/v1/passkeys/login/verify", Map.of("credential", good)), 400, "invalid_request");
    for (String field : List.of("clientDataJSON", "authenticatorData", "signature")) {
      ObjectNode bad = good.deepCopy();
      ((ObjectNode) bad.get("response")).put(field, "!!not base64!!");
      assertEquals(400, passkeys.finishSignIn(ceremonyId, bad).status(), field);
      ObjectNode truncated = good.deepCopy();
      String value = good.get("response").get(field).asText();
      ((ObjectNode) truncated.get("response")).put(field, value.substring(0, value.length() / 3));
      Http.Response r = passkeys.finishSignIn(ceremonyId, truncated);
      assertTrue(r.status() == 400 || r.status() == 401, field + ": " + r);
      assertTrue(r.header("Content-Type").startsWith("application/problem+json"));
    }
    ObjectNode noResponse = good.deepCopy();
    noResponse.remove("response");
    assertProblem(passkeys.finishSignIn(ceremonyId, noResponse), 400, "invalid_credential");

    JsonNode regOptions = passkeys.registrationOptions(account.accessToken());
    ObjectNode credential = device().create(regOptions.get("publicKey"));
    String attestation = credential.get("response").get("attestationObject").asText();
    ((ObjectNode) credential.get("response")).put("attestationObject", attestation.substring(0, 40));
    assertProblem(passkeys.finishRegistration(account.accessToken(), regOptions.get("ceremonyId").asText(),
        credential), 400, "invalid_credential");
    assertProblem(passkeys.finishSignIn("not-a-uuid", good), 400, "ceremony_not_found");
    assertProblem(passkeys.finishSignIn(UUID.randomUUID().toString(), good), 400, "ceremony_not_found");
  }
}
