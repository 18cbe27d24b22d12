package dev.sesame.tokens;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sesame.common.Secrets;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * OpenID Connect ID tokens (Core 1.0 §2): who signed in, for which client, when and how. Signed with the algorithm
 * the client registered ({@code id_token_signed_response_alg}, RS256 by default), by the key of that algorithm that
 * signs now.
 */
public final class IdTokens {
  private final SigningKeys keys;
  private final String issuer;
  private final CompactJws jws = new CompactJws();
  private final Duration ttl;

  public IdTokens(SigningKeys keys, String issuer, Duration ttl) {
    this.keys = keys;
    this.issuer = issuer;
    this.ttl = ttl;
  }

  /** What an ID token says about a sign-in. */
  /**
   * @param metadata the person's public metadata, when the {@code metadata} scope was granted; else null
   * @param profile the person's profile claims (name, given_name, family_name, as known), when the {@code profile}
   *     scope was granted; else null
   */
  public record Subject(UUID userId, String email, boolean emailVerified, UUID sessionId, Instant authTime,
                        List<String> amr, Map<String, Object> metadata, Map<String, Object> profile) {}

  /**
   * An ID token for {@code clientId}: {@code iss, sub, aud, exp, iat, auth_time, amr, sid}, the client's
   * {@code nonce} when it sent one (§3.1.3.6), {@code at_hash} of the access token issued with it (§3.1.3.8), and
   * {@code email, email_verified} when the {@code email} scope was granted (§5.4), and {@code metadata} (the
   * person's public metadata, a JSON object) with the {@code metadata} scope.
   */
  public String issue(String clientId, String alg, Subject subject, String nonce, String accessToken,
                      List<String> scopes) {
    SigningKeys.ActiveKey key = keys.current().signing(JWSAlgorithm.parse(alg));
    Instant now = Instant.now();
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .issuer(issuer)
        .subject(subject.userId().toString())
        .audience(clientId)
        .expirationTime(Date.from(now.plus(ttl)))
        .issueTime(Date.from(now))
        .claim("auth_time", subject.authTime().getEpochSecond())
        .claim("amr", subject.amr())
        .claim("sid", subject.sessionId().toString());
    if (nonce != null) {
      claims.claim("nonce", nonce);
    }
    if (accessToken != null) {
      claims.claim("at_hash", halfHash(accessToken));
    }
    if (scopes.contains("email")) {
      claims.claim("email", subject.email()).claim("email_verified", subject.emailVerified());
    }
    if (scopes.contains("metadata") && subject.metadata() != null) {
      claims.claim("metadata", subject.metadata());
    }
    if (scopes.contains("profile") && subject.profile() != null) {
      subject.profile().forEach(claims::claim); // Core §5.4: the profile scope's claims that are known
    }
    return jws.sign(key.signer(), key.alg(), key.kid(), JOSEObjectType.JWT, claims.build());
  }

  /** The event a logout token carries (Back-Channel Logout 1.0 §2.4). */
  public static final String BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

  /**
   * A logout token (OpenID Connect Back-Channel Logout 1.0 §2.4) for {@code clientId}: {@code iss, aud, iat, exp,
   * jti, sub, sid} and the back-channel logout event, never a {@code nonce}; typed {@code logout+jwt} (§2.4, explicit
   * typing) and signed like the client's ID tokens. Valid two minutes: it is made just before it is sent.
   */
  public String logoutToken(String clientId, String alg, UUID userId, UUID sessionId) {
    SigningKeys.ActiveKey key = keys.current().signing(JWSAlgorithm.parse(alg));
    Instant now = Instant.now();
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer(issuer)
        .subject(userId.toString())
        .audience(clientId)
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(Duration.ofMinutes(2))))
        .jwtID(UUID.randomUUID().toString())
        .claim("sid", sessionId.toString())
        .claim("events", java.util.Map.of(BACKCHANNEL_LOGOUT_EVENT, java.util.Map.of()))
        .build();
    return jws.sign(key.signer(), key.alg(), key.kid(), LOGOUT_JWT, claims);
  }

  private static final JOSEObjectType LOGOUT_JWT = new JOSEObjectType("logout+jwt");

  /** Who an ID token this server issued names: the person, their session with the client, and the client. */
  public record Hint(UUID userId, UUID sessionId, String clientId) {}

  /**
   * Reads an {@code id_token_hint} (RP-Initiated Logout 1.0 §2): an ID token this server signed, with one of its
   * published keys and that key's own algorithm, and this issuer. It may have expired — a person signs out after
   * their ID token's short life — but a key leaves the JWKS once its tokens expired, so a hint cannot be very old.
   * Empty for anything else.
   */
  public java.util.Optional<Hint> readHint(String token) {
    try {
      SignedJWT jwt = SignedJWT.parse(token);
      com.nimbusds.jose.jwk.JWK key = jwt.getHeader().getKeyID() == null ? null
          : keys.current().publicKeys().getKeyByKeyId(jwt.getHeader().getKeyID());
      if (key == null || !JOSEObjectType.JWT.equals(jwt.getHeader().getType())
          || key.getAlgorithm() == null || !key.getAlgorithm().equals(jwt.getHeader().getAlgorithm())) {
        return java.util.Optional.empty();
      }
      com.nimbusds.jose.JWSVerifier verifier = key instanceof com.nimbusds.jose.jwk.RSAKey rsa
          ? new com.nimbusds.jose.crypto.RSASSAVerifier(rsa)
          : new com.nimbusds.jose.crypto.ECDSAVerifier((com.nimbusds.jose.jwk.ECKey) key);
      if (!jwt.verify(verifier)) {
        return java.util.Optional.empty();
      }
      JWTClaimsSet claims = jwt.getJWTClaimsSet();
      if (!issuer.equals(claims.getIssuer()) || claims.getAudience().size() != 1 || claims.getSubject() == null
          || claims.getStringClaim("sid") == null) {
        return java.util.Optional.empty();
      }
      return java.util.Optional.of(new Hint(UUID.fromString(claims.getSubject()),
          UUID.fromString(claims.getStringClaim("sid")), claims.getAudience().get(0)));
    } catch (java.text.ParseException | JOSEException | IllegalArgumentException e) {
      return java.util.Optional.empty();
    }
  }

  /** The left half of the SHA-256 of the token's ASCII, base64url: at_hash for RS256 and ES256 (§3.1.3.6). */
  static String halfHash(String token) {
    byte[] hash = Secrets.sha256(token.getBytes(StandardCharsets.US_ASCII));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(hash, hash.length / 2));
  }
}
