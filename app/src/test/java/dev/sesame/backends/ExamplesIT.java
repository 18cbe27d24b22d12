package dev.sesame.backends;

import static dev.sesame.support.TokenForge.sign;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.sesame.oauth.Client;
import dev.sesame.oauth.Clients;
import dev.sesame.support.AppProcesses;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.TestServer;
import dev.sesame.support.TokenForge;
import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The example backends in examples/ (Flask + PyJWT + Authlib, Express + jose + express-openid-connect, Javalin +
 * nimbus), each run as its own process against a live Sesame and checked the same way: valid tokens pass, every kind
 * of bad token is refused, key rotation breaks nobody; Javalin's hosted redirect flow ends in a signed-in app
 * session, and the OIDC examples send the browser to the authorization endpoint (their whole sign-in, in a real
 * browser, is OidcLibrariesIT's).
 */
class ExamplesIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Map<String, Integer> PORTS = new HashMap<>();
  static final Map<String, String> SECRETS = new HashMap<>();
  static final AppProcesses PROCESSES = new AppProcesses();
  static TestServer sesame;
  static String serviceKey;

  @BeforeAll
  static void start() throws Exception {
    for (String name : List.of("flask", "express", "javalin")) {
      PORTS.put(name, TestServer.freePort());
    }
    // The Javalin example uses the first-party client (its redirect is allow-listed); Flask and Express sign people in
    // through their OpenID Connect libraries, as registered clients.
    sesame = TestServer.start(Map.of("SESAME_REDIRECT_ALLOWLIST", app("javalin") + "/callback"));
    serviceKey = TestServer.cli(sesame, "service-key", "create", "flask-example").stdout().strip();
    Clients clients = new Clients(sesame.jdbi(), "default");
    for (String name : List.of("flask", "express")) {
      SECRETS.put(name, clients.create(Map.of("client_id", name, "client_name", name + " example", "redirect_uris",
          List.of(app(name) + "/callback"), "post_logout_redirect_uris", List.of(app(name), app(name) + "/"),
          "scope", "openid email"), Client.Source.MANAGED).secret().orElseThrow());
    }
    AppProcesses.requirePythonModules("flask, jwt, cryptography, authlib, requests",
        "python3-flask python3-jwt python3-cryptography python3-authlib python3-requests");
    Path express = AppProcesses.ROOT.resolve("examples/express");
    AppProcesses.npmInstall(express);
    launch("flask", AppProcesses.ROOT.resolve("examples/flask"), List.of(AppProcesses.python(), "app.py"));
    launch("express", express, List.of("node", "server.js"));
    launch("javalin", AppProcesses.ROOT.resolve("examples/javalin"), List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        "target/sesame-example-javalin.jar"));
  }

  @AfterAll
  static void stop() throws InterruptedException {
    PROCESSES.close();
    if (sesame != null) {
      sesame.close();
    }
  }

  static String app(String name) {
    return "http://127.0.0.1:" + PORTS.get(name);
  }

  static void launch(String name, Path dir, List<String> command) throws Exception {
    int port = PORTS.get(name);
    Map<String, String> env = new HashMap<>(Map.of("SESAME_URL", sesame.url(), "APP_URL", app(name),
        "PORT", Integer.toString(port), "SESAME_SERVICE_KEY", serviceKey,
        "SESSION_SECRET", "a-test-secret-of-at-least-32-characters"));
    if (SECRETS.containsKey(name)) {
      env.put("SESAME_CLIENT_ID", name);
      env.put("SESAME_CLIENT_SECRET", SECRETS.get(name));
    }
    PROCESSES.start("example-" + name, dir, command, env, port);
  }

  static Http example(String name) {
    return new Http("http://127.0.0.1:" + PORTS.get(name));
  }

  static String email() {
    return "x-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
  }

  static Http.Response user(String name, String token) {
    return example(name).get("/api/user", "Authorization", "Bearer " + token);
  }

  @ParameterizedTest
  @ValueSource(strings = {"flask", "express", "javalin"})
  void a_valid_token_identifies_the_user_and_bad_ones_are_refused(String name) throws Exception {
    JsonNode tokens = DevMailbox.signIn(sesame.http(), email());
    String valid = tokens.get("access_token").asText();
    Http.Response ok = user(name, valid);
    assertEquals(200, ok.status(), ok.body());
    assertEquals(tokens.get("user").get("id").asText(), ok.json().get("id").asText());
    assertEquals(tokens.get("user").get("email").asText(), ok.json().get("email").asText());

    SignedJWT parsed = SignedJWT.parse(valid);
    JWTClaimsSet claims = parsed.getJWTClaimsSet();
    String kid = parsed.getHeader().getKeyID();
    PrivateKey real = TokenForge.serverPrivateKey(sesame);
    String[] parts = valid.split("\\.");
    Map<String, String> bad = new HashMap<>();
    bad.put("missing", null);
    bad.put("expired", sign(real, kid, new JWTClaimsSet.Builder(claims)
        .expirationTime(Date.from(Instant.now().minusSeconds(120))).build(), h -> { }));
    bad.put("tampered", parts[0] + "." + Base64URL.encode(new JWTClaimsSet.Builder(claims)
        .subject(UUID.randomUUID().toString()).build().toString()) + "." + parts[2]);
    bad.put("wrong issuer", sign(real, kid, new JWTClaimsSet.Builder(claims).issuer("https://evil.example").build(),
        h -> { }));
    bad.put("wrong audience", sign(real, kid, new JWTClaimsSet.Builder(claims).audience("https://other.example")
        .build(), h -> { }));
    bad.put("alg none", new PlainJWT(claims).serialize());
    bad.put("unknown kid", sign(new ECKeyGenerator(Curve.P_256).generate().toECPrivateKey(),
        "kid-" + UUID.randomUUID(), claims, h -> { }));
    for (Map.Entry<String, String> e : bad.entrySet()) {
      Http.Response refused = e.getValue() == null ? example(name).get("/api/user") : user(name, e.getValue());
      assertEquals(401, refused.status(), name + " accepted a token that is " + e.getKey() + ": " + refused.body());
    }
  }

  @Test
  void after_a_key_rotation_tokens_of_the_old_and_the_new_key_both_verify() throws Exception {
    String before = DevMailbox.signIn(sesame.http(), email()).get("access_token").asText();
    for (String name : PORTS.keySet()) {
      assertEquals(200, user(name, before).status(), name); // each example has now cached the old key set
    }
    TestServer.CliResult rotated = TestServer.cli(sesame, "keys", "rotate");
    assertEquals(0, rotated.status(), rotated.stderr());
    String newKid = rotated.stdout().replaceAll("(?s).*Published key (\\S+);.*", "$1").strip();
    String after = dev.sesame.support.SigningKeyWaits.awaitSignedWith(sesame.http(), newKid)
        .get("access_token").asText();
    // jose refetches the JWKS for an unknown kid only 30 s after its last fetch (its cooldown, against floods of
    // made-up kids). An immediate rotation is therefore seen by an Express backend within 30 s; wait that out.
    Thread.sleep(31_000);
    assertNotEquals(SignedJWT.parse(before).getHeader().getKeyID(), SignedJWT.parse(after).getHeader().getKeyID());
    for (String name : PORTS.keySet()) {
      assertEquals(200, user(name, after).status(), name + " fetches the JWKS again for the new kid");
      assertEquals(200, user(name, before).status(), name + " still accepts the retired key's tokens");
    }
  }

  @Test
  void introspection_makes_a_sign_out_count_at_once() {
    JsonNode tokens = DevMailbox.signIn(sesame.http(), email());
    String token = tokens.get("access_token").asText();
    Http flask = example("flask");
    assertEquals(200, flask.get("/api/sensitive", "Authorization", "Bearer " + token).status());
    assertEquals(204, sesame.http().post("/v1/sessions/logout", "", "Authorization", "Bearer " + token).status());
    assertEquals(401, flask.get("/api/sensitive", "Authorization", "Bearer " + token).status(),
        "introspection sees the sign-out immediately");
    assertEquals(200, flask.get("/api/user", "Authorization", "Bearer " + token).status(),
        "offline verification only sees it when the token expires: the trade-off the README describes");
  }

  @ParameterizedTest
  @ValueSource(strings = {"flask", "express"})
  void the_oidc_examples_send_the_browser_to_the_authorization_endpoint(String name) throws Exception {
    // The whole sign-in through these libraries runs in a real browser in OidcLibrariesIT; here, the request's shape.
    HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager())
        .followRedirects(HttpClient.Redirect.NEVER).build();
    HttpResponse<String> login = browser.send(HttpRequest.newBuilder(URI.create(app(name) + "/login")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(302, login.statusCode(), name + ": " + login.body() + AppProcesses.log("example-" + name));
    URI toSesame = URI.create(login.headers().firstValue("Location").orElseThrow());
    assertTrue(toSesame.toString().startsWith(sesame.url() + "/authorize?"), toSesame.toString());
    Map<String, String> q = query(toSesame);
    assertEquals(name, q.get("client_id"));
    assertEquals(app(name) + "/callback", q.get("redirect_uri"));
    assertEquals("code", q.get("response_type"));
    assertTrue(q.get("scope").contains("openid"), q.toString());
    assertTrue(q.containsKey("state") && q.containsKey("nonce"), q.toString());
    assertEquals(200, new Http(sesame.url()).get(toSesame.getRawPath() + "?" + toSesame.getRawQuery()).status(),
        "Sesame's authorization endpoint accepts the library's request");
  }

  @ParameterizedTest
  @ValueSource(strings = {"javalin"})
  void the_hosted_redirect_flow_ends_in_a_signed_in_app_session(String name) throws Exception {
    HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager())
        .followRedirects(HttpClient.Redirect.NEVER).build();
    String app = "http://127.0.0.1:" + PORTS.get(name);
    HttpResponse<String> login = browser.send(HttpRequest.newBuilder(URI.create(app + "/login")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(302, login.statusCode(), login.body());
    URI toSesame = URI.create(login.headers().firstValue("Location").orElseThrow());
    assertTrue(toSesame.toString().startsWith(sesame.url() + "/login?"), toSesame.toString());
    Map<String, String> q = query(toSesame);
    assertEquals(app + "/callback", q.get("redirectTo"));
    assertEquals("S256", q.get("code_challenge_method"));
    assertEquals(200, new Http(sesame.url()).get(toSesame.getRawPath() + "?" + toSesame.getRawQuery()).status(),
        "Sesame's login page accepts the app's request");

    // What <sesame-auth> does on that page after the person signs in:
    JsonNode signedIn = DevMailbox.signIn(sesame.http(), email());
    String redirect = sesame.http().post("/v1/authorize", Map.of("redirectTo", q.get("redirectTo"),
            "state", q.get("state"), "codeChallenge", q.get("code_challenge"), "codeChallengeMethod", "S256"),
        "Authorization", "Bearer " + signedIn.get("access_token").asText()).json().get("redirect").asText();

    HttpResponse<String> callback = browser.send(HttpRequest.newBuilder(URI.create(redirect)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(302, callback.statusCode(), name + ": " + callback.body());
    HttpResponse<String> me = browser.send(HttpRequest.newBuilder(URI.create(app + "/api/user")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, me.statusCode(), name + ": " + me.body());
    assertEquals(signedIn.get("user").get("id").asText(), JSON.readTree(me.body()).get("id").asText());

    HttpResponse<String> replay = browser.send(HttpRequest.newBuilder(URI.create(redirect)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertTrue(replay.statusCode() == 400 || replay.statusCode() == 401, name + " accepted a replayed callback");
  }

  static Map<String, String> query(URI uri) {
    Map<String, String> out = new HashMap<>();
    for (String part : uri.getRawQuery().split("&")) {
      int eq = part.indexOf('=');
      out.put(part.substring(0, eq), URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return out;
  }
}
