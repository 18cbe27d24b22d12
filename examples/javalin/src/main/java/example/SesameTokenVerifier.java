package example;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.JWSVerifierFactory;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.net.URL;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.Provider;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Verifies Sesame access tokens offline: signature against the cached JWKS (ES256 or RS256 only, never {@code none}
 * or HMAC), {@code typ: at+jwt}, issuer, audience, expiry.
 *
 * <p>nimbus converts the JWK to a Java key and builds a new verifier for every token, which costs about a quarter
 * of a verification. This class keeps the converted key and its verifier per key id for five minutes (as long as
 * the JWKS itself is cached): a key Sesame stops publishing stops verifying here within that time. Unknown key ids
 * are never cached, so forged headers cannot grow the cache; the JWKS is fetched again for them (rate-limited by
 * nimbus), which is how a key rotation reaches this backend. Thread-safe: one instance serves all requests.
 */
public final class SesameTokenVerifier {
  private static final Duration KEY_TTL = Duration.ofMinutes(5);
  private static final int MAX_KEYS = 64;

  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
  private final Map<String, Cached> keys = new ConcurrentHashMap<>();
  private final JWSVerificationKeySelector<SecurityContext> jwks;
  private final DefaultJWSVerifierFactory verifiers = new DefaultJWSVerifierFactory();
  private final Provider provider;

  /** A key id's keys as the selector returned them, and a verifier for each, made on first use. */
  private record Cached(JWSAlgorithm alg, List<Key> keys, AtomicReferenceArray<JWSVerifier> verifiers,
                        long loadedAt) {}

  /**
   * @param provider the JCA provider for signature checks and keys (Conscrypt: about 20× faster ES256 than the
   *     JDK's), or null for the JDK's
   */
  public SesameTokenVerifier(URL jwksUrl, String issuer, String audience, Provider provider) {
    this.provider = provider;
    // Cached, refreshed ahead of expiry and again (rate-limited) when a token names an unknown kid.
    JWKSource<SecurityContext> source = JWKSourceBuilder.create(jwksUrl).build();
    this.jwks = new JWSVerificationKeySelector<>(Set.of(JWSAlgorithm.ES256, JWSAlgorithm.RS256), source);
    if (provider != null) {
      verifiers.getJCAContext().setProvider(provider);
    }
    processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(new JOSEObjectType("at+jwt")));
    processor.setJWSKeySelector(cachedKeys());
    processor.setJWSVerifierFactory(cachedVerifiers());
    processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(audience,
        new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("sub", "exp", "iat")));
  }

  /** The token's claims if it is a valid Sesame access token; an exception saying why not otherwise. */
  public JWTClaimsSet verify(String token) throws ParseException, BadJOSEException, JOSEException {
    return processor.process(token, null);
  }

  private JWSKeySelector<SecurityContext> cachedKeys() {
    return (JWSHeader header, SecurityContext context) -> {
      String kid = header.getKeyID();
      Cached cached = kid == null ? null : keys.get(kid);
      if (cached != null && cached.alg().equals(header.getAlgorithm())
          && System.nanoTime() - cached.loadedAt() < KEY_TTL.toNanos()) {
        return cached.keys();
      }
      List<Key> found = convert(jwks.selectJWSKeys(header, context)); // checks the algorithm is allowed
      if (kid != null && !found.isEmpty()) {
        if (keys.size() >= MAX_KEYS) {
          keys.clear();
        }
        keys.put(kid, new Cached(header.getAlgorithm(), found, new AtomicReferenceArray<>(found.size()),
            System.nanoTime()));
      }
      return found;
    };
  }

  private JWSVerifierFactory cachedVerifiers() {
    return new JWSVerifierFactory() {
      @Override
      public JWSVerifier createJWSVerifier(JWSHeader header, Key key) throws JOSEException {
        Cached cached = header.getKeyID() == null ? null : keys.get(header.getKeyID());
        int i = cached == null ? -1 : indexOf(cached.keys(), key);
        if (i < 0) {
          return verifiers.createJWSVerifier(header, key);
        }
        JWSVerifier verifier = cached.verifiers().get(i);
        if (verifier == null) {
          verifier = verifiers.createJWSVerifier(header, key);
          cached.verifiers().set(i, verifier);
        }
        return verifier;
      }

      @Override
      public Set<JWSAlgorithm> supportedJWSAlgorithms() {
        return verifiers.supportedJWSAlgorithms();
      }

      @Override
      public JCAContext getJCAContext() {
        return verifiers.getJCAContext();
      }
    };
  }

  private static int indexOf(List<Key> keys, Key key) {
    for (int i = 0; i < keys.size(); i++) {
      if (keys.get(i) == key) { // the very object the selector returned from the cache
        return i;
      }
    }
    return -1;
  }

  /** Re-creates keys with the provider's own key factory, so its signature engine needn't convert them per call. */
  private List<Key> convert(List<? extends Key> selected) throws KeySourceException {
    List<Key> out = new ArrayList<>();
    for (Key key : selected) {
      if (provider == null || !(key instanceof PublicKey)) {
        out.add(key);
        continue;
      }
      try {
        out.add(KeyFactory.getInstance(key.getAlgorithm(), provider)
            .generatePublic(new X509EncodedKeySpec(key.getEncoded())));
      } catch (GeneralSecurityException e) {
        out.add(key); // the provider has no factory for this key type: nimbus's key works, only slower
      }
    }
    return out;
  }
}
