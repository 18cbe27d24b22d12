package dev.sesame.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;

/** The calls a browser page makes for passkeys, driving a {@link SoftwareAuthenticator}. */
public final class PasskeyClient {
  private final Http http;

  public PasskeyClient(Http http) {
    this.http = http;
  }

  public JsonNode registrationOptions(String accessToken) {
    Http.Response r = http.post("/v1/passkeys/register/options", Map.of(), "Authorization", "Bearer " + accessToken);
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  public Http.Response finishRegistration(String accessToken, String ceremonyId, JsonNode credential) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ceremonyId", ceremonyId);
    body.put("credential", credential);
    return http.post("/v1/passkeys/register/verify", body, "Authorization", "Bearer " + accessToken);
  }

  /** Options → authenticator → verify; returns the verify answer (201 on success). */
  public Http.Response register(String accessToken, SoftwareAuthenticator authenticator) {
    JsonNode options = registrationOptions(accessToken);
    JsonNode credential = authenticator.create(options.get("publicKey"));
    return finishRegistration(accessToken, options.get("ceremonyId").asText(), credential);
  }

  /** A new device (software authenticator) for {@code origin} with a passkey registered to {@code account}. */
  public SoftwareAuthenticator registerNewDevice(Account account, String origin) {
    SoftwareAuthenticator device = new SoftwareAuthenticator(origin);
    Http.Response r = register(account.accessToken(), device);
    assertEquals(201, r.status(), r.body());
    return device;
  }

  public JsonNode signInOptions(String email) {
    Http.Response r = http.post("/v1/passkeys/login/options", email == null ? Map.of() : Map.of("email", email));
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  public Http.Response finishSignIn(String ceremonyId, JsonNode credential) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ceremonyId", ceremonyId);
    body.put("credential", credential);
    return http.post("/v1/passkeys/login/verify", body);
  }

  /** Options (usernameless when email is null) → authenticator → verify. */
  public Http.Response signIn(SoftwareAuthenticator authenticator, String email) {
    JsonNode options = signInOptions(email);
    return finishSignIn(options.get("ceremonyId").asText(), authenticator.get(options.get("publicKey")));
  }
}
