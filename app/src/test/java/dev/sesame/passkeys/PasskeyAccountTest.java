package dev.sesame.passkeys;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.Account;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Email-hinted sign-in, what it reveals about unknown addresses, and managing one's passkeys. */
class PasskeyAccountTest {
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

  /** An account with one registered passkey on a new device. */
  SoftwareAuthenticator registered(Account account) {
    return passkeys.registerNewDevice(account, sesame.server().url());
  }

  static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  @Test
  void email_hinted_sign_in_lists_the_users_credentials_and_signs_in() {
    Account account = newAccount();
    SoftwareAuthenticator phone = registered(account);
    SoftwareAuthenticator laptop = registered(account);
    JsonNode options = passkeys.signInOptions(account.email().toUpperCase());
    JsonNode allow = options.get("publicKey").get("allowCredentials");
    assertEquals(2, allow.size());
    assertEquals(b64(phone.credentials().get(0).id), allow.get(0).get("id").asText());
    assertEquals(b64(laptop.credentials().get(0).id), allow.get(1).get("id").asText());
    assertEquals("public-key", allow.get(0).get("type").asText());
    assertTrue(allow.get(0).get("transports").size() > 0);
    Http.Response r = passkeys.finishSignIn(options.get("ceremonyId").asText(), laptop.get(options.get("publicKey")));
    assertEquals(200, r.status(), r.body());
    assertEquals(account.userId(), r.json().get("user").get("id").asText());
  }

  @Test
  void discoverable_options_allow_any_credential() {
    JsonNode options = passkeys.signInOptions(null);
    JsonNode pk = options.get("publicKey");
    assertEquals(0, pk.get("allowCredentials").size());
    assertEquals("127.0.0.1", pk.get("rpId").asText());
    assertEquals("required", pk.get("userVerification").asText());
    assertEquals(32, Base64.getUrlDecoder().decode(pk.get("challenge").asText()).length);
    assertEquals(200, sesame.http().post("/v1/passkeys/login/options", "").status(), "an empty body is {}");
  }

  @Test
  void unknown_emails_get_the_same_shape_of_answer_deterministically() {
    Account withPasskey = newAccount();
    registered(withPasskey);
    Account withoutPasskey = newAccount();
    String unknown = "nobody-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";

    JsonNode real = passkeys.signInOptions(withPasskey.email());
    JsonNode fake1 = passkeys.signInOptions(unknown);
    JsonNode fake2 = passkeys.signInOptions(unknown);
    JsonNode noPasskey = passkeys.signInOptions(withoutPasskey.email());
    assertEquals(fieldNames(real), fieldNames(fake1));
    assertEquals(fieldNames(real.get("publicKey")), fieldNames(fake1.get("publicKey")));
    JsonNode fakeAllow = fake1.get("publicKey").get("allowCredentials");
    assertTrue(fakeAllow.size() >= 1);
    assertEquals(fieldNames(real.get("publicKey").get("allowCredentials").get(0)), fieldNames(fakeAllow.get(0)));
    assertEquals(fakeAllow, fake2.get("publicKey").get("allowCredentials"), "the same every time, like a real user");
    assertNotEquals(fake1.get("publicKey").get("challenge"), fake2.get("publicKey").get("challenge"));
    assertTrue(noPasskey.get("publicKey").get("allowCredentials").size() >= 1);
    assertNotEquals(fakeAllow, noPasskey.get("publicKey").get("allowCredentials"));
    assertProblem(sesame.http().post("/v1/passkeys/login/options", Map.of("email", "not an email")), 400, "invalid_email");
  }

  @Test
  void passkeys_are_listed_renamed_and_removed_by_their_owner_only() {
    Account owner = newAccount();
    SoftwareAuthenticator device = registered(owner);
    Account other = newAccount();

    JsonNode list = sesame.http().get("/v1/me/passkeys", owner.bearer()).json().get("passkeys");
    assertEquals(1, list.size());
    JsonNode passkey = list.get(0);
    String id = passkey.get("id").asText();
    for (String field : List.of("id", "name", "provider", "createdAt", "lastUsedAt", "backedUp", "transports")) {
      assertTrue(passkey.has(field), field);
    }
    assertEquals(0, sesame.http().get("/v1/me/passkeys", other.bearer()).json().get("passkeys").size());

    Http.Response renamed = sesame.http().send("PATCH", "/v1/me/passkeys/" + id, "{\"name\":\"  Work laptop  \"}",
        "Content-Type", "application/json", owner.bearer()[0], owner.bearer()[1]);
    assertEquals(200, renamed.status(), renamed.body());
    assertEquals("Work laptop", renamed.json().get("passkey").get("name").asText());

    // Another user's passkey is as invisible as a missing one.
    assertProblem(sesame.http().send("PATCH", "/v1/me/passkeys/" + id, "{\"name\":\"mine now\"}", "Content-Type",
        "application/json", other.bearer()[0], other.bearer()[1]), 404, "passkey_not_found");
    assertProblem(sesame.http().send("DELETE", "/v1/me/passkeys/" + id, null, other.bearer()), 404, "passkey_not_found");
    assertProblem(sesame.http().send("DELETE", "/v1/me/passkeys/" + UUID.randomUUID(), null, owner.bearer()), 404,
        "passkey_not_found");
    assertProblem(sesame.http().send("DELETE", "/v1/me/passkeys/not-a-uuid", null, owner.bearer()), 404, "passkey_not_found");
    for (String bad : List.of("", "   ", "x".repeat(65), "tab\there")) {
      assertProblem(sesame.http().send("PATCH", "/v1/me/passkeys/" + id, Http.toJson(Map.of("name", bad)), "Content-Type",
          "application/json", owner.bearer()[0], owner.bearer()[1]), 400, "invalid_name");
    }
    assertProblem(sesame.http().get("/v1/me/passkeys"), 401, "invalid_token");

    assertEquals(204, sesame.http().send("DELETE", "/v1/me/passkeys/" + id, null, owner.bearer()).status());
    assertEquals(0, sesame.http().get("/v1/me/passkeys", owner.bearer()).json().get("passkeys").size());
    // The removed passkey no longer signs anyone in.
    assertProblem(passkeys.signIn(device, null), 401, "unknown_credential");

    List<String> events = sesame.server().jdbi().withHandle(h -> h.createQuery(
            "SELECT type FROM audit_events WHERE user_id = :u AND type LIKE 'passkey.%' ORDER BY id")
        .bind("u", UUID.fromString(owner.userId())).mapTo(String.class).list());
    assertEquals(List.of("passkey.added", "passkey.renamed", "passkey.removed"), events);
  }

  @Test
  void the_name_given_at_registration_is_kept() {
    Account account = newAccount();
    Http.Response options = sesame.http().post("/v1/passkeys/register/options", Map.of("name", "My phone"), account.bearer());
    JsonNode credential = new SoftwareAuthenticator(sesame.server().url()).create(options.json().get("publicKey"));
    Http.Response r = passkeys.finishRegistration(account.accessToken(), options.json().get("ceremonyId").asText(),
        credential);
    assertEquals("My phone", r.json().get("passkey").get("name").asText());
  }

  @Test
  void at_most_twenty_passkeys_per_user() {
    Account account = newAccount();
    for (int i = 0; i < 20; i++) {
      registered(account);
    }
    assertProblem(sesame.http().post("/v1/passkeys/register/options", Map.of(), account.bearer()), 409, "too_many_passkeys");
  }

  @Test
  void a_user_without_passkeys_keeps_email_sign_in() {
    Account account = newAccount();
    List<String> none = new ArrayList<>();
    sesame.http().get("/v1/me/passkeys", account.bearer()).json().get("passkeys").forEach(p -> none.add(p.toString()));
    assertTrue(none.isEmpty());
    assertFalse(DevMailbox.signIn(sesame.http(), account.email()).get("access_token").asText().isEmpty());
  }

  static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
