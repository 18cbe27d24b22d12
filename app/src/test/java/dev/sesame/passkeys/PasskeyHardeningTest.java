package dev.sesame.passkeys;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.Account;
import dev.sesame.support.Http;
import dev.sesame.support.Parallel;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Findings of the hardening review: sign-in ceremonies, allow-lists, user handles, attestation, the passkey cap. */
class PasskeyHardeningTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();

  static PasskeyClient passkeys;

  @BeforeAll
  static void start() {
    passkeys = new PasskeyClient(sesame.http());
  }

  static int count(String table) {
    return sesame.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM " + table).mapTo(Integer.class).one());
  }

  @Test
  void sign_in_options_write_nothing_to_the_database() {
    int ceremonies = count("webauthn_ceremonies");
    int used = count("used_challenges");
    for (int i = 0; i < 50; i++) {
      passkeys.signInOptions(i % 2 == 0 ? null : "someone-" + i + "@example.com");
    }
    assertEquals(ceremonies, count("webauthn_ceremonies"), "no ceremony row per anonymous request");
    assertEquals(used, count("used_challenges"));
  }

  @Test
  void registration_options_keep_at_most_twenty_pending_ceremonies_per_user() {
    Account account = Account.signUp(sesame.http());
    for (int i = 0; i < 30; i++) {
      passkeys.registrationOptions(account.accessToken());
    }
    int pending = sesame.jdbi().withHandle(h -> h.createQuery(
            "SELECT count(*) FROM webauthn_ceremonies WHERE user_id = CAST(:id AS uuid)")
        .bind("id", account.userId()).mapTo(Integer.class).one());
    assertEquals(PasskeyService.MAX_PENDING_REGISTRATIONS, pending, "the oldest are dropped");
    // The newest still works.
    JsonNode options = passkeys.registrationOptions(account.accessToken());
    assertEquals(201, passkeys.finishRegistration(account.accessToken(), options.get("ceremonyId").asText(),
        new SoftwareAuthenticator(sesame.url()).create(options.get("publicKey"))).status());
  }

  @Test
  void a_sealed_ceremony_cannot_be_altered_or_answered_twice() {
    Account account = Account.signUp(sesame.http());
    SoftwareAuthenticator device = passkeys.registerNewDevice(account, sesame.url());
    JsonNode options = passkeys.signInOptions(null);
    String ceremonyId = options.get("ceremonyId").asText();
    JsonNode assertion = device.get(options.get("publicKey"));
    // One character changed anywhere in the sealed id: it no longer opens.
    char[] altered = ceremonyId.toCharArray();
    altered[10] = altered[10] == 'A' ? 'B' : 'A';
    assertProblem(passkeys.finishSignIn(new String(altered), assertion), 400, "ceremony_not_found");
    assertProblem(passkeys.finishSignIn("s1.AAAA", assertion), 400, "ceremony_not_found");
    assertEquals(200, passkeys.finishSignIn(ceremonyId, assertion).status());
    assertProblem(passkeys.finishSignIn(ceremonyId, device.get(options.get("publicKey"))), 400,
        "ceremony_not_found");
  }

  @Test
  void concurrent_answers_to_one_challenge_sign_in_once() throws Exception {
    Account account = Account.signUp(sesame.http());
    SoftwareAuthenticator device = passkeys.registerNewDevice(account, sesame.url());
    JsonNode options = passkeys.signInOptions(null);
    List<JsonNode> answers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      answers.add(device.get(options.get("publicKey")));
    }
    List<Integer> statuses = Parallel.run(answers.stream().<Callable<Integer>>map(a ->
        () -> passkeys.finishSignIn(options.get("ceremonyId").asText(), a).status()).toList());
    assertEquals(1, statuses.stream().filter(s -> s == 200).count(), statuses.toString());
  }

  @Test
  void concurrent_sign_ins_with_one_counting_passkey_never_move_its_counter_back() throws Exception {
    // The clone check is repeated where the counter is written: answers made in order (counters 2..9) and sent at
    // once either sign in or, when a higher counter was stored first, are refused as a clone suspect.
    Account account = Account.signUp(sesame.http());
    SoftwareAuthenticator device = passkeys.registerNewDevice(account, sesame.url());
    List<JsonNode[]> answers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      JsonNode options = passkeys.signInOptions(account.email());
      answers.add(new JsonNode[] {options, device.get(options.get("publicKey"))});
    }
    List<Http.Response> results = Parallel.run(answers.stream().<Callable<Http.Response>>map(a ->
        () -> passkeys.finishSignIn(a[0].get("ceremonyId").asText(), a[1])).toList());
    long highestSignedIn = 0;
    int signedIn = 0;
    int cloned = 0;
    for (int i = 0; i < results.size(); i++) {
      Http.Response r = results.get(i);
      if (r.status() == 200) {
        signedIn++;
        highestSignedIn = Math.max(highestSignedIn, i + 2);
      } else {
        assertProblem(r, 401, "credential_cloned");
        cloned++;
      }
    }
    assertTrue(signedIn >= 1, "some sign-in goes through");
    long stored = sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT sign_count FROM passkeys WHERE user_id = CAST(:id AS uuid)").bind("id", account.userId())
        .mapTo(Long.class).one());
    assertEquals(highestSignedIn, stored, "the stored counter is the highest that signed in");
    int sessions = sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT count(*) FROM sessions WHERE user_id = CAST(:id AS uuid) AND auth_method = 'passkey'")
        .bind("id", account.userId()).mapTo(Integer.class).one());
    assertEquals(signedIn, sessions, "a session for each sign-in, none for a refused one");
    int warnings = sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT count(*) FROM audit_events WHERE user_id = CAST(:id AS uuid) AND type = 'passkey.clone_suspected'")
        .bind("id", account.userId()).mapTo(Integer.class).one());
    assertEquals(cloned, warnings, "each refusal warns of a clone");
  }

  @Test
  void a_sign_in_racing_the_removal_of_its_passkey_is_answered_cleanly() throws Exception {
    for (int round = 0; round < 6; round++) {
      Account account = Account.signUp(sesame.http());
      SoftwareAuthenticator device = passkeys.registerNewDevice(account, sesame.url());
      String passkeyId = sesame.http().get("/v1/me/passkeys", account.bearer()).json().get("passkeys").get(0).get("id").asText();
      JsonNode options = passkeys.signInOptions(null);
      JsonNode answer = device.get(options.get("publicKey"));
      List<Http.Response> results = Parallel.run(List.<Callable<Http.Response>>of(
          () -> passkeys.finishSignIn(options.get("ceremonyId").asText(), answer),
          () -> sesame.http().send("DELETE", "/v1/me/passkeys/" + passkeyId, null, account.bearer())));
      assertEquals(204, results.get(1).status(), results.get(1).body());
      if (results.get(0).status() != 200) {
        assertProblem(results.get(0), 401, "unknown_credential");
      }
    }
  }

  @Test
  void options_for_one_person_are_not_answered_with_another_persons_passkey() {
    // WebAuthn L3 §7.2 step 5.
    Account alice = Account.signUp(sesame.http());
    passkeys.registerNewDevice(alice, sesame.url());
    Account bob = Account.signUp(sesame.http());
    SoftwareAuthenticator bobsDevice = passkeys.registerNewDevice(bob, sesame.url());

    JsonNode forAlice = passkeys.signInOptions(alice.email());
    JsonNode bobsAnswer = bobsDevice.get(withoutAllowList(forAlice.get("publicKey")));
    assertProblem(passkeys.finishSignIn(forAlice.get("ceremonyId").asText(), bobsAnswer), 401,
        "credential_not_allowed");
    // Options for an address without passkeys (pseudo credentials) accept no real passkey at all.
    JsonNode forNobody = passkeys.signInOptions("nobody-" + UUID.randomUUID() + "@example.com");
    assertProblem(passkeys.finishSignIn(forNobody.get("ceremonyId").asText(),
        bobsDevice.get(withoutAllowList(forNobody.get("publicKey")))), 401, "credential_not_allowed");
    // Bob's own options, and usernameless ones, still work for Bob.
    assertEquals(200, passkeys.signIn(bobsDevice, bob.email()).status());
    assertEquals(200, passkeys.signIn(bobsDevice, null).status());
    int refusals = sesame.jdbi().withHandle(h -> h.createQuery("""
        SELECT count(*) FROM audit_events WHERE type = 'passkey.sign_in.failed'
          AND details->>'reason' = 'credential_not_allowed' AND user_id = CAST(:bob AS uuid)""")
        .bind("bob", bob.userId()).mapTo(Integer.class).one());
    assertEquals(2, refusals, "each refusal is audited");
  }

  @Test
  void usernameless_sign_in_needs_the_user_handle() {
    // WebAuthn L3 §7.2 step 6: without an allow-list, the user handle says whose passkey it is.
    Account account = Account.signUp(sesame.http());
    SoftwareAuthenticator device = passkeys.registerNewDevice(account, sesame.url());
    JsonNode options = passkeys.signInOptions(null);
    device.next.omitUserHandle = true;
    assertProblem(passkeys.finishSignIn(options.get("ceremonyId").asText(), device.get(options.get("publicKey"))),
        401, "user_handle_missing");
    JsonNode again = passkeys.signInOptions(null);
    device.next.userHandle = new byte[0];
    assertProblem(passkeys.finishSignIn(again.get("ceremonyId").asText(), device.get(again.get("publicKey"))),
        401, "user_handle_missing");
    // With an allow-list (email first) the handle may be absent, as for a non-discoverable credential.
    JsonNode hinted = passkeys.signInOptions(account.email());
    device.next.omitUserHandle = true;
    assertEquals(200, passkeys.finishSignIn(hinted.get("ceremonyId").asText(),
        device.get(hinted.get("publicKey"))).status());
  }

  @Test
  void an_unverified_attestation_is_recorded_as_none() {
    // WebAuthn L3 §7.1 steps 21-22: with SESAME_ATTESTATION=none nothing is verified, so nothing is claimed.
    Account account = Account.signUp(sesame.http());
    SoftwareAuthenticator forged = new SoftwareAuthenticator(sesame.url());
    forged.attestationFormat = "packed";
    forged.next.corruptSignature = true;
    assertEquals(201, passkeys.register(account.accessToken(), forged).status());
    String stored = sesame.jdbi().withHandle(h -> h.createQuery(
            "SELECT attestation_format FROM passkeys WHERE user_id = CAST(:id AS uuid)")
        .bind("id", account.userId()).mapTo(String.class).one());
    assertEquals("none", stored);
    String audited = sesame.jdbi().withHandle(h -> h.createQuery("""
            SELECT details->>'attestationFormat' FROM audit_events
            WHERE type = 'passkey.added' AND user_id = CAST(:id AS uuid)""")
        .bind("id", account.userId()).mapTo(String.class).one());
    assertEquals("none", audited);
  }

  @Test
  void the_passkey_cap_holds_under_concurrent_registrations() throws Exception {
    Account account = Account.signUp(sesame.http());
    for (int i = 0; i < 15; i++) {
      passkeys.registerNewDevice(account, sesame.url());
    }
    List<Callable<Integer>> registrations = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      JsonNode options = passkeys.registrationOptions(account.accessToken());
      JsonNode credential = new SoftwareAuthenticator(sesame.url()).create(options.get("publicKey"));
      registrations.add(() -> passkeys.finishRegistration(account.accessToken(),
          options.get("ceremonyId").asText(), credential).status());
    }
    List<Integer> statuses = Parallel.run(registrations);
    assertEquals(5, statuses.stream().filter(s -> s == 201).count(), statuses.toString());
    assertEquals(7, statuses.stream().filter(s -> s == 409).count(), statuses.toString());
    int stored = sesame.jdbi().withHandle(h -> h.createQuery(
            "SELECT count(*) FROM passkeys WHERE user_id = CAST(:id AS uuid)")
        .bind("id", account.userId()).mapTo(Integer.class).one());
    assertEquals(PasskeyService.MAX_PASSKEYS_PER_USER, stored);
  }

  @Test
  void an_address_without_passkeys_looks_like_one_with_them() {
    // Real accounts whose ids are 32 bytes with USB/NFC transports: a shape the old pseudo ids never had.
    Set<String> realShapes = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      Account account = Account.signUp(sesame.http());
      for (int k = 0; k <= i % 2; k++) {
        SoftwareAuthenticator key = new SoftwareAuthenticator(sesame.url());
        key.next.credentialId = random(32);
        key.transports = List.of("nfc", "usb");
        assertEquals(201, passkeys.register(account.accessToken(), key).status());
      }
      realShapes.add(shape(passkeys.signInOptions(account.email())));
    }
    // Every other passkey in this server's database counts too (other tests' accounts).
    Set<String> allShapes = new HashSet<>(realShapes);
    sesame.jdbi().useHandle(h -> h.createQuery("""
            SELECT string_agg(length(credential_id) || ':' || array_to_string(transports, '+'), ','
                              ORDER BY created_at, id)
            FROM passkeys GROUP BY user_id""").mapTo(String.class).forEach(allShapes::add));
    for (int i = 0; i < 30; i++) {
      String unknown = "unknown-" + i + "@example.com";
      JsonNode options = passkeys.signInOptions(unknown);
      String shape = shape(options);
      assertTrue(allShapes.contains(shape), "pseudo answer " + shape + " is a real account's shape " + allShapes);
      assertEquals(shape, shape(passkeys.signInOptions(unknown)), "the same answer every time");
      assertEquals(options.get("publicKey").get("allowCredentials").toString(),
          passkeys.signInOptions(unknown).get("publicKey").get("allowCredentials").toString());
    }
  }

  private static String shape(JsonNode options) {
    List<String> parts = new ArrayList<>();
    for (JsonNode d : options.get("publicKey").get("allowCredentials")) {
      List<String> transports = new ArrayList<>();
      d.get("transports").forEach(t -> transports.add(t.asText()));
      assertEquals(Set.of("type", "id", "transports"), fieldNames(d));
      parts.add(Base64.getUrlDecoder().decode(d.get("id").asText()).length + ":" + String.join("+", transports));
    }
    return String.join(",", parts);
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new HashSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static JsonNode withoutAllowList(JsonNode publicKey) {
    com.fasterxml.jackson.databind.node.ObjectNode copy = publicKey.deepCopy();
    copy.putArray("allowCredentials");
    return copy;
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new java.security.SecureRandom().nextBytes(b);
    return b;
  }

}
