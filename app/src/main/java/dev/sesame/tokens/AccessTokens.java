package dev.sesame.tokens;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerifierFactory;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.sesame.common.ApiException;
import dev.sesame.common.FastCrypto;
import dev.sesame.common.Secrets;
import dev.sesame.users.User;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Mints and checks access tokens: JWTs ({@code typ: at+jwt}, RFC 9068) signed with the current signing key. Checking
 * a token needs no database; whether its session is still alive is the caller's question.
 */
public final class AccessTokens {
  static final JOSEObjectType AT_JWT = new JOSEObjectType("at+jwt");

  private final SigningKeys keys;
  private final String issuer;
  private final CompactJws jws = new CompactJws();
  private final String audience;
  private final String clientId;
  private final Duration ttl;
  private volatile Verifier verifier;

  /**
   * What Sesame's own endpoints need from a verified token. {@code scope} is null for the first-party client's tokens
   * (which carry none); {@code clientId} is null for them too, else the registered client the token was issued to.
   */
  public record Claims(UUID userId, UUID sessionId, String email, Instant issuedAt, Instant expiresAt,
                       String scope, String clientId) {
    /** Issued to Sesame's own first-party client (hosted pages, console, {@code <sesame-auth>}), not to an app. */
    public boolean firstParty() {
      return clientId == null;
    }
  }

  /** Everything introspection reports about a verified token. */
  public record Full(Claims claims, String issuer, String audience, String clientId) {}

  private record Verifier(SigningKeys.KeyRing ring, DefaultJWTProcessor<SecurityContext> processor) {}

  public AccessTokens(SigningKeys keys, String issuer, String audience, String clientId, Duration ttl) {
    this.keys = keys;
    this.issuer = issuer;
    this.audience = audience;
    this.clientId = clientId;
    this.ttl = ttl;
  }

  public Duration ttl() {
    return ttl;
  }

  public String issue(User user, UUID sessionId, Instant authTime, String authMethod, List<String> amr) {
    return issue(user, sessionId, authTime, authMethod, amr, null, null);
  }

  /**
   * An access token for {@code clientId}'s session (null: the built-in first-party client), with the granted
   * {@code scope} (RFC 9068 §2.2.3) when a client asked for scopes.
   *
   * <p>Its audience says who may accept it (RFC 9068 §3, RFC 7519 §4.1.3): a first-party token is for Sesame's own
   * API and the operator's backends ({@code SESAME_TOKEN_AUDIENCE}); a registered client's token is for that client's
   * own resource, so its {@code aud} is the client id — a token an app was given never opens Sesame's account or
   * admin API, nor another app's backend. The address is in it only when the client was granted the {@code email}
   * scope (OpenID Connect Core §5.4), as in UserInfo.
   */
  public String issue(User user, UUID sessionId, Instant authTime, String authMethod, List<String> amr,
                      String clientId, List<String> scope) {
    SigningKeys.KeyRing ring = keys.current();
    Instant now = Instant.now();
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer(issuer)
        .subject(user.id().toString())
        .audience(clientId == null ? audience : clientId)
        .claim("client_id", clientId == null ? this.clientId : clientId)
        .expirationTime(Date.from(now.plus(ttl)))
        .issueTime(Date.from(now))
        .jwtID(Secrets.randomToken(16))
        .claim("sid", sessionId.toString())
        .claim("auth_time", authTime.getEpochSecond())
        .claim("amr", amr)
        .claim("email", scope == null || scope.contains("email") ? user.email() : null)
        .claim("email_verified", scope == null || scope.contains("email") ? user.emailVerified() : null)
        .claim("auth_method", authMethod)
        .claim("scope", scope == null ? null : String.join(" ", scope))
        .build();
    return jws.sign(ring.signer(), ring.alg(), ring.kid(), AT_JWT, claims);
  }

  /**
   * Verifies signature (a published key, the expected algorithm; {@code alg: none} is never accepted), type, issuer,
   * audience (Sesame's for the first-party client, the client's own for an app) and expiry. Any failure is a 401 {@code invalid_token} that does not say which check failed.
   */
  public Claims verify(String token) {
    return verifyFull(token).claims();
  }

  public Full verifyFull(String token) {
    try {
      return verifyOnce(token);
    } catch (ApiException e) {
      // Signed by a key this node has not loaded (another node rotated a moment ago)? Look once more.
      if (!knownKey(token) && keys.reloadForUnknownKey()) {
        return verifyOnce(token);
      }
      throw e;
    }
  }

  /** False when the token names a key id that is not in this node's key ring. */
  private boolean knownKey(String token) {
    try {
      String kid = SignedJWT.parse(token).getHeader().getKeyID();
      return kid == null || keys.current().publicKeys().getKeyByKeyId(kid) != null;
    } catch (ParseException e) {
      return true; // not a JWT: no reload can help
    }
  }

  private Full verifyOnce(String token) {
    try {
      JWTClaimsSet claims = processor().process(token, null);
      String tokenClient = claims.getStringClaim("client_id");
      List<String> aud = claims.getAudience();
      // Whose token is it? Sesame's own client's, with Sesame's audience; or a registered client's, with that
      // client as its only audience (see issue). A client can never be registered under the first-party id.
      boolean firstParty = clientId.equals(tokenClient);
      if (aud.size() != 1 || !aud.get(0).equals(firstParty ? audience : tokenClient)) {
        throw new BadJOSEException("audience does not fit the client");
      }
      return new Full(new Claims(UUID.fromString(claims.getSubject()), UUID.fromString(claims.getStringClaim("sid")),
          claims.getStringClaim("email"), claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant(),
          claims.getStringClaim("scope"), firstParty ? null : tokenClient),
          claims.getIssuer(), aud.get(0), tokenClient);
    } catch (ParseException | BadJOSEException | JOSEException | IllegalArgumentException | NullPointerException
             | IndexOutOfBoundsException e) {
      throw ApiException.unauthorized("invalid_token", "The access token is missing, malformed, expired or not ours.");
    }
  }

  private DefaultJWTProcessor<SecurityContext> processor() {
    SigningKeys.KeyRing ring = keys.current();
    Verifier v = verifier;
    if (v == null || v.ring() != ring) {
      Map<String, Published> published = publish(ring);
      DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
      p.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(AT_JWT));
      // Only a published key, and only with its own algorithm: "none", HMAC and algorithm swaps find no key.
      p.setJWSKeySelector((header, context) -> {
        Published key = header.getKeyID() == null ? null : published.get(header.getKeyID());
        return key != null && key.alg().equals(header.getAlgorithm()) ? List.of(key.key()) : List.of();
      });
      p.setJWSVerifierFactory(new JWSVerifierFactory() {
        @Override
        public JWSVerifier createJWSVerifier(JWSHeader header, Key key) throws JOSEException {
          Published known = published.get(header.getKeyID());
          if (known == null || known.key() != key) {
            throw new JOSEException("not a published key");
          }
          return known.verifier();
        }

        @Override
        public Set<JWSAlgorithm> supportedJWSAlgorithms() {
          return Set.of(JWSAlgorithm.ES256, JWSAlgorithm.RS256);
        }

        @Override
        public JCAContext getJCAContext() {
          return new JCAContext();
        }
      });
      // The audience is checked against the token's client in verifyOnce.
      p.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>((String) null,
          new JWTClaimsSet.Builder().issuer(issuer).build(),
          Set.of("sub", "sid", "exp", "iat", "jti", "aud", "client_id")));
      v = new Verifier(ring, p);
      verifier = v;
    }
    return v.processor();
  }

  /** A published key, converted once (as SigningKeys does for signing) with its verifier built once. */
  private record Published(JWSAlgorithm alg, PublicKey key, JWSVerifier verifier) {}

  /**
   * The ring's public keys in the form the fast signature engine uses directly, each with its verifier: nimbus
   * would otherwise convert the JWK and build a verifier for every token.
   */
  private static Map<String, Published> publish(SigningKeys.KeyRing ring) {
    Map<String, Published> out = new HashMap<>();
    for (JWK jwk : ring.publicKeys().getKeys()) {
      try {
        if (jwk instanceof ECKey ec) {
          ECPublicKey key = (ECPublicKey) FastCrypto.keyFactory("EC")
              .generatePublic(new X509EncodedKeySpec(ec.toECPublicKey().getEncoded()));
          out.put(jwk.getKeyID(), new Published(JWSAlgorithm.ES256, key, new ECDSAVerifier(key)));
        } else if (jwk instanceof RSAKey rsa) {
          RSAPublicKey key = (RSAPublicKey) FastCrypto.keyFactory("RSA")
              .generatePublic(new X509EncodedKeySpec(rsa.toRSAPublicKey().getEncoded()));
          out.put(jwk.getKeyID(), new Published(JWSAlgorithm.RS256, key, new RSASSAVerifier(key)));
        }
      } catch (JOSEException | GeneralSecurityException e) {
        throw new IllegalStateException("published key " + jwk.getKeyID() + " is unusable", e);
      }
    }
    return Map.copyOf(out);
  }

  /** The algorithm access tokens are signed with ({@code SESAME_TOKEN_ALG}). */
  public List<String> algorithms() {
    return List.of(keys.current().alg().getName());
  }

  /** The published JSON Web Key Set. */
  public Map<String, Object> jwks() {
    return keys.current().publicKeys().toJSONObject(true);
  }
}
