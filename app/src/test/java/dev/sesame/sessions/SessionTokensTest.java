package dev.sesame.sessions;

import static dev.sesame.support.Problems.assertProblem;
import static dev.sesame.support.TokenForge.sign;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import dev.sesame.support.TestServer;
import dev.sesame.support.TokenForge;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SessionTokensTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();

  static String newEmail() {
    return "s-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
  }

  static Http.Response me(String accessToken) {
    return sesame.http().get("/v1/me", "Authorization", "Bearer " + accessToken);
  }

  @Test
  void access_token_verifies_offline_with_the_published_jwks() throws Exception {
    JsonNode tokens = DevMailbox.signIn(sesame.http(), newEmail());
    Http.Response jwks = sesame.http().get("/.well-known/jwks.json");
    assertEquals(200, jwks.status());
    assertTrue(jwks.header("Cache-Control").contains("max-age"), jwks.header("Cache-Control"));
    assertTrue(jwks.header("Content-Type").startsWith("application/jwk-set+json"));
    JWKSet set = JWKSet.parse(jwks.body());
    assertTrue(set.getKeys().stream().noneMatch(k -> k.isPrivate()), "JWKS must hold public keys only");

    // Exactly what a backend does: JWKS, expected algorithm, type, issuer, audience, expiry.
    DefaultJWTProcessor<SecurityContext> backend = new DefaultJWTProcessor<>();
    backend.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(new JOSEObjectType("at+jwt")));
    backend.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.ES256, new ImmutableJWKSet<>(set)));
    backend.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(sesame.server().url(),
        new JWTClaimsSet.Builder().issuer(sesame.server().url()).build(), Set.of("sub", "exp", "iat")));
    String accessToken = tokens.get("access_token").asText();
    JWTClaimsSet claims = backend.process(accessToken, null);

    SignedJWT jwt = SignedJWT.parse(accessToken);
    assertEquals(JWSAlgorithm.ES256, jwt.getHeader().getAlgorithm());
    assertEquals(set.getKeys().get(0).getKeyID(), jwt.getHeader().getKeyID());
    assertEquals(tokens.get("user").get("id").asText(), claims.getSubject());
    assertEquals("default", claims.getStringClaim("client_id"));
    assertEquals(900, (claims.getExpirationTime().getTime() - claims.getIssueTime().getTime()) / 1000);
    assertEquals(tokens.get("session_id").asText(), claims.getStringClaim("sid"));
    assertEquals(List.of("otp"), claims.getStringListClaim("amr"));
    assertEquals("email", claims.getStringClaim("auth_method"));
    assertEquals(tokens.get("user").get("email").asText(), claims.getStringClaim("email"));
    assertEquals(Boolean.TRUE, claims.getBooleanClaim("email_verified"));
    assertTrue(claims.getLongClaim("auth_time") <= Instant.now().getEpochSecond());
    assertTrue(claims.getJWTID().length() >= 16);
  }

  @Test
  void refresh_rotates_and_reusing_an_old_refresh_token_revokes_the_session() {
    JsonNode first = DevMailbox.signIn(sesame.http(), newEmail());
    String sessionId = first.get("session_id").asText();
    Http.Response r1 = sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", first.get("refresh_token").asText()));
    assertEquals(200, r1.status(), r1.body());
    JsonNode second = r1.json();
    assertNotEquals(first.get("refresh_token"), second.get("refresh_token"));
    assertEquals(sessionId, second.get("session_id").asText());
    assertEquals(200, me(second.get("access_token").asText()).status());

    Http.Response r2 = sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", second.get("refresh_token").asText()));
    assertEquals(200, r2.status(), r2.body());
    JsonNode third = r2.json();

    // The first token again, past the reuse grace: someone kept a copy. The whole session ends, for the thief and
    // the owner.
    sesame.server().jdbi().useHandle(h -> h.execute("UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 minute'"));
    assertProblem(sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", first.get("refresh_token").asText())),
        401, "refresh_token_reused");
    assertProblem(sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", third.get("refresh_token").asText())),
        401, "session_revoked");
    assertProblem(me(third.get("access_token").asText()), 401, "invalid_token");

    List<String> events = sesame.server().jdbi().withHandle(h -> h.createQuery(
        "SELECT type FROM audit_events WHERE session_id = :s ORDER BY id")
        .bind("s", UUID.fromString(sessionId)).mapTo(String.class).list());
    assertTrue(events.containsAll(List.of("session.revoked", "refresh_token.reused")), events.toString());
  }

  @Test
  void two_tabs_refreshing_at_once_keep_the_session() throws Exception {
    JsonNode first = DevMailbox.signIn(sesame.http(), newEmail());
    String token = first.get("refresh_token").asText();
    List<Http.Response> answers = dev.sesame.support.Parallel.run(java.util.Collections.nCopies(6,
        () -> sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token))));
    Set<String> successors = new java.util.HashSet<>();
    for (Http.Response r : answers) {
      assertEquals(200, r.status(), r.body());
      assertEquals(first.get("session_id").asText(), r.json().get("session_id").asText());
      successors.add(r.json().get("refresh_token").asText());
    }
    assertEquals(6, successors.size(), "each answer carries a refresh token of its own");
    for (String successor : successors) { // every tab goes on refreshing
      assertEquals(200, sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", successor)).status());
    }
    assertEquals(200, me(answers.get(0).json().get("access_token").asText()).status());
  }

  @Test
  void a_refresh_racing_a_sign_out_never_leaves_a_working_token() throws Exception {
    for (int round = 0; round < 10; round++) {
      JsonNode tokens = DevMailbox.signIn(sesame.http(), newEmail());
      String access = tokens.get("access_token").asText();
      List<Http.Response> answers = dev.sesame.support.Parallel.run(List.of(
          () -> sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", tokens.get("refresh_token").asText())),
          () -> sesame.http().post("/v1/sessions/logout", "", "Authorization", "Bearer " + access)));
      assertEquals(204, answers.get(1).status(), answers.get(1).body());
      Http.Response refreshed = answers.get(0);
      if (refreshed.status() == 200) { // the exchange came first: its tokens end with the sign-out
        assertProblem(sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token",
            refreshed.json().get("refresh_token").asText())), 401, "session_revoked");
        assertProblem(me(refreshed.json().get("access_token").asText()), 401, "invalid_token");
      } else {
        assertProblem(refreshed, 401, "session_revoked");
      }
      long live = sesame.server().jdbi().withHandle(h -> h.createQuery(
          "SELECT count(*) FROM sessions WHERE id = :id AND revoked_at IS NULL")
          .bind("id", UUID.fromString(tokens.get("session_id").asText())).mapTo(Long.class).one());
      assertEquals(0, live);
    }
  }

  @Test
  void a_token_reused_while_its_successor_is_exchanged_ends_the_session() throws Exception {
    JsonNode first = DevMailbox.signIn(sesame.http(), newEmail());
    JsonNode second = sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token",
        first.get("refresh_token").asText())).json();
    // A minute later, for both tokens (the successor was issued when the first was exchanged).
    sesame.server().jdbi().useHandle(h -> h.execute("UPDATE refresh_tokens SET rotated_at = rotated_at - interval "
        + "'1 minute', created_at = created_at - interval '1 minute' WHERE session_id = CAST(? AS uuid)",
        first.get("session_id").asText()));
    List<Http.Response> answers = dev.sesame.support.Parallel.run(List.of(
        () -> sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", first.get("refresh_token").asText())),
        () -> sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", second.get("refresh_token").asText()))));
    // Whichever went first, the other one is the second party of the family: refused as reuse, and the session
    // ends (the successor used first makes the old token reuse; the old token first supersedes the successor).
    long reused = answers.stream().filter(r -> r.status() == 401 && r.body().contains("refresh_token_reused")).count();
    assertEquals(1, reused, answers.toString());
    for (Http.Response r : answers) {
      if (r.status() == 200) { // exchanged before the reuse was seen: its tokens end with the session
        assertProblem(sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token",
            r.json().get("refresh_token").asText())), 401, "session_revoked");
      }
    }
  }

  @Test
  void the_reuse_grace_ends_and_reuse_then_revokes() throws Exception {
    try (TestServer strict = TestServer.start(Map.of("SESAME_REFRESH_REUSE_GRACE", "1s"))) {
      Http h = strict.http();
      JsonNode first = DevMailbox.signIn(h, newEmail());
      String token = first.get("refresh_token").asText();
      String next = h.post("/v1/sessions/refresh", Map.of("refresh_token", token)).json().get("refresh_token")
          .asText();
      assertEquals(200, h.post("/v1/sessions/refresh", Map.of("refresh_token", token)).status(), "inside the grace");
      assertEquals(200, h.post("/v1/sessions/refresh", Map.of("refresh_token", next)).status(), "its successor used");
      Thread.sleep(1_500);
      assertProblem(h.post("/v1/sessions/refresh", Map.of("refresh_token", token)), 401, "refresh_token_reused");
      Http.Response after = h.post("/v1/sessions/refresh", Map.of("refresh_token", token));
      assertProblem(after, 401, "session_revoked");
    }
    try (TestServer none = TestServer.start(Map.of("SESAME_REFRESH_REUSE_GRACE", "0s"))) {
      Http h = none.http();
      JsonNode first = DevMailbox.signIn(h, newEmail());
      String token = first.get("refresh_token").asText();
      String next = h.post("/v1/sessions/refresh", Map.of("refresh_token", token)).json().get("refresh_token")
          .asText();
      assertEquals(200, h.post("/v1/sessions/refresh", Map.of("refresh_token", next)).status());
      Thread.sleep(5);
      assertProblem(h.post("/v1/sessions/refresh", Map.of("refresh_token", token)), 401, "refresh_token_reused");
    }
  }

  @Test
  void an_app_retrying_after_a_lost_answer_keeps_its_session_and_a_copy_is_still_found_out() {
    JsonNode first = DevMailbox.signIn(sesame.http(), newEmail());
    String token = first.get("refresh_token").asText();
    // The exchange commits, its answer never arrives (the network dropped it, or the server was killed after the
    // commit), and the app retries with the token it has, after the grace (a restart) but within an access token's life.
    String lost = sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token)).json()
        .get("refresh_token").asText();
    sesame.server().jdbi().useHandle(h -> h.execute("UPDATE refresh_tokens SET rotated_at = rotated_at - interval "
        + "'10 minutes', created_at = created_at - interval '10 minutes' WHERE session_id = CAST(? AS uuid)",
        first.get("session_id").asText()));
    Http.Response retried = sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token));
    assertEquals(200, retried.status(), retried.body());
    assertEquals(first.get("session_id").asText(), retried.json().get("session_id").asText());
    String kept = retried.json().get("refresh_token").asText();
    assertEquals(200, sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", kept)).status());
    // The answer that was lost turns up in other hands after all: the superseded token is reuse, and the session
    // ends for everyone (RFC 9700 §4.14.2: one of two holders always presents an invalidated token).
    sesame.server().jdbi().useHandle(h -> h.execute("UPDATE refresh_tokens SET rotated_at = rotated_at - interval "
        + "'10 minutes', created_at = created_at - interval '10 minutes' WHERE session_id = CAST(? AS uuid)",
        first.get("session_id").asText()));
    assertProblem(sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", lost)), 401,
        "refresh_token_reused");
    assertProblem(sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", kept)), 401, "session_revoked");
  }

  @Test
  void a_spent_token_presented_after_an_access_tokens_lifetime_is_reuse_even_if_its_successor_went_unused() {
    JsonNode first = DevMailbox.signIn(sesame.http(), newEmail());
    String token = first.get("refresh_token").asText();
    sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token)); // never used
    sesame.server().jdbi().useHandle(h -> h.execute("UPDATE refresh_tokens SET rotated_at = rotated_at - interval "
        + "'20 minutes', created_at = created_at - interval '20 minutes' WHERE session_id = CAST(? AS uuid)",
        first.get("session_id").asText()));
    // An app would have retried long before: this is a copy (from a log, a backup, an old device).
    assertProblem(sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token)), 401,
        "refresh_token_reused");
  }

  @Test
  void an_app_retrying_twice_at_once_after_a_lost_answer_keeps_both_answers_working() throws Exception {
    JsonNode first = DevMailbox.signIn(sesame.http(), newEmail());
    String token = first.get("refresh_token").asText();
    sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token)); // its answer is "lost"
    sesame.server().jdbi().useHandle(h -> h.execute("UPDATE refresh_tokens SET rotated_at = rotated_at - interval "
        + "'10 minutes', created_at = created_at - interval '10 minutes' WHERE session_id = CAST(? AS uuid)",
        first.get("session_id").asText()));
    List<Http.Response> answers = dev.sesame.support.Parallel.run(java.util.Collections.nCopies(3,
        () -> sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", token))));
    for (Http.Response r : answers) {
      assertEquals(200, r.status(), r.body());
    }
    // Whichever answer the app keeps, it goes on refreshing: retries moments apart supersede nothing of each other.
    for (Http.Response r : answers) {
      assertEquals(200, sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token",
          r.json().get("refresh_token").asText())).status());
    }
  }

  @Test
  void refresh_keeps_the_original_sign_in_facts() throws Exception {
    JsonNode first = DevMailbox.signIn(sesame.http(), newEmail());
    JWTClaimsSet before = SignedJWT.parse(first.get("access_token").asText()).getJWTClaimsSet();
    JsonNode next = sesame.http().post("/v1/sessions/refresh",
        Map.of("refresh_token", first.get("refresh_token").asText())).json();
    JWTClaimsSet after = SignedJWT.parse(next.get("access_token").asText()).getJWTClaimsSet();
    assertEquals(before.getLongClaim("auth_time"), after.getLongClaim("auth_time"));
    assertEquals(before.getStringListClaim("amr"), after.getStringListClaim("amr"));
    assertNotEquals(before.getJWTID(), after.getJWTID());
  }

  @Test
  void logout_revokes_the_session() {
    JsonNode tokens = DevMailbox.signIn(sesame.http(), newEmail());
    String access = tokens.get("access_token").asText();
    assertEquals(204, sesame.http().post("/v1/sessions/logout", "", "Authorization", "Bearer " + access).status());
    assertProblem(me(access), 401, "invalid_token");
    assertProblem(sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", tokens.get("refresh_token").asText())),
        401, "session_revoked");
    assertProblem(sesame.http().post("/v1/sessions/logout", "", "Authorization", "Bearer " + access), 401, "invalid_token");
  }

  @Test
  void unknown_and_expired_refresh_tokens_are_refused() {
    assertProblem(sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", "nope")), 401, "invalid_refresh_token");
    JsonNode tokens = DevMailbox.signIn(sesame.http(), newEmail());
    sesame.server().jdbi().useHandle(h -> h.execute("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ?",
        UUID.fromString(tokens.get("session_id").asText())));
    assertProblem(sesame.http().post("/v1/sessions/refresh", Map.of("refresh_token", tokens.get("refresh_token").asText())),
        401, "session_expired");
    assertProblem(me(tokens.get("access_token").asText()), 401, "invalid_token");
  }

  @Test
  void requests_without_a_usable_bearer_token_are_refused() {
    Http.Response none = sesame.http().get("/v1/me");
    assertProblem(none, 401, "invalid_token");
    assertEquals("Bearer", none.header("WWW-Authenticate"));
    assertProblem(sesame.http().get("/v1/me", "Authorization", "Basic Zm9vOmJhcg=="), 401, "invalid_token");
    assertProblem(me("garbage"), 401, "invalid_token");
    assertProblem(me("a.b.c"), 401, "invalid_token");
    Http.Response bad = me("");
    assertProblem(bad, 401, "invalid_token");
  }

  @Test
  void tampered_none_foreign_expired_and_misaddressed_tokens_are_refused() throws Exception {
    JsonNode tokens = DevMailbox.signIn(sesame.http(), newEmail());
    String valid = tokens.get("access_token").asText();
    assertEquals(200, me(valid).status());
    SignedJWT parsed = SignedJWT.parse(valid);
    JWTClaimsSet claims = parsed.getJWTClaimsSet();
    String[] parts = valid.split("\\.");

    // Payload changed, signature kept.
    String otherPayload = Base64URL.encode(new JWTClaimsSet.Builder(claims).claim("email", "boss@example.com")
        .build().toString().getBytes(StandardCharsets.UTF_8)).toString();
    assertProblem(me(parts[0] + "." + otherPayload + "." + parts[2]), 401, "invalid_token");
    // Signature changed.
    byte[] sig = Base64.getUrlDecoder().decode(parts[2]);
    sig[5] ^= 1;
    assertProblem(me(parts[0] + "." + parts[1] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sig)),
        401, "invalid_token");
    // alg: none.
    assertProblem(me(new PlainJWT(claims).serialize()), 401, "invalid_token");
    assertProblem(me(Base64URL.encode("{\"alg\":\"none\",\"typ\":\"at+jwt\"}").toString() + "." + parts[1] + "."),
        401, "invalid_token");
    // A key that is not ours, claiming our key id.
    ECKey foreign = new ECKeyGenerator(Curve.P_256).keyID(parsed.getHeader().getKeyID()).generate();
    assertProblem(me(sign(foreign.toECPrivateKey(), parsed.getHeader().getKeyID(), claims, h -> { })), 401,
        "invalid_token");
    // HS256 keyed with something public (algorithm confusion).
    SignedJWT hs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(new JOSEObjectType("at+jwt"))
        .keyID(parsed.getHeader().getKeyID()).build(), claims);
    hs.sign(new MACSigner(sesame.http().get("/.well-known/jwks.json").body().repeat(2)));
    assertProblem(me(hs.serialize()), 401, "invalid_token");

    // Signed with Sesame's real key, but wrong in one claim or header each.
    PrivateKey real = TokenForge.serverPrivateKey(sesame.server());
    String kid = parsed.getHeader().getKeyID();
    assertEquals(200, me(sign(real, kid, claims, h -> { })).status(), "the forging helper itself is right");
    Date past = Date.from(Instant.now().minusSeconds(3600));
    assertProblem(me(sign(real, kid, new JWTClaimsSet.Builder(claims).expirationTime(past).build(), h -> { })), 401,
        "invalid_token");
    assertProblem(me(sign(real, kid, new JWTClaimsSet.Builder(claims).issuer("https://evil.example").build(),
        h -> { })), 401, "invalid_token");
    assertProblem(me(sign(real, kid, new JWTClaimsSet.Builder(claims).audience("https://other.example").build(),
        h -> { })), 401, "invalid_token");
    assertProblem(me(sign(real, kid, claims, h -> h.type(JOSEObjectType.JWT))), 401, "invalid_token");
    assertProblem(me(sign(real, "unknown-kid", claims, h -> { })), 401, "invalid_token");
    // Sesame always names its key: a token without a kid is not tried against every published key.
    assertProblem(me(sign(real, null, claims, h -> { })), 401, "invalid_token");
    assertProblem(me(sign(real, kid, new JWTClaimsSet.Builder(claims).claim("sid", UUID.randomUUID().toString())
        .build(), h -> { })), 401, "invalid_token");
  }
}
