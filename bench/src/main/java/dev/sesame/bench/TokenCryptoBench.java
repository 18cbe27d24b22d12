package dev.sesame.bench;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Token signing and verification per core: ES256 and RS256, with the JDK's providers and with Conscrypt. One
 * thread, a warm-up that is not counted, then a fixed measuring time per case. Prints a table and writes it to
 * {@code target/token-crypto.md}.
 *
 * <pre>mvn -B -ntp -q -pl bench -am -DskipTests package && java -jar bench/target/sesame-bench.jar [seconds]</pre>
 */
public final class TokenCryptoBench {
  private TokenCryptoBench() {}

  interface Op {
    void run() throws Exception;
  }

  record Result(String operation, String algorithm, String provider, double perSecond) {}

  public static void main(String[] args) throws Exception {
    Duration measure = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 5);
    Duration warmUp = Duration.ofSeconds(Math.max(2, measure.toSeconds() / 2));
    Provider conscrypt = org.conscrypt.Conscrypt.isAvailable() ? org.conscrypt.Conscrypt.newProvider() : null;

    ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate();
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa").generate();
    JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer("https://login.example.com")
        .subject(UUID.randomUUID().toString()).audience("https://login.example.com")
        .expirationTime(new Date(System.currentTimeMillis() + 900_000)).issueTime(new Date())
        .claim("sid", UUID.randomUUID().toString()).claim("email", "ana@example.com").claim("amr", List.of("swk"))
        .build();

    List<Result> results = new ArrayList<>();
    for (Provider provider : conscrypt == null ? new Provider[] {null} : new Provider[] {null, conscrypt}) {
      String name = provider == null ? "JDK" : "Conscrypt";
      // Keys in the provider's own form, as Sesame loads its signing key: no conversion on every call.
      ECDSASigner ecSigner = new ECDSASigner((ECPrivateKey) privateKey(ec.toPrivateKey(), "EC", provider));
      ECDSAVerifier ecVerifier = new ECDSAVerifier((ECPublicKey) publicKey(ec.toPublicKey(), "EC", provider));
      RSASSASigner rsaSigner = new RSASSASigner(privateKey(rsa.toPrivateKey(), "RSA", provider));
      RSASSAVerifier rsaVerifier = new RSASSAVerifier((RSAPublicKey) publicKey(rsa.toPublicKey(), "RSA", provider));
      for (Object o : new Object[] {ecSigner, ecVerifier, rsaSigner, rsaVerifier}) {
        if (provider != null) {
          if (o instanceof JWSSigner s) {
            s.getJCAContext().setProvider(provider);
          } else {
            ((JWSVerifier) o).getJCAContext().setProvider(provider);
          }
        }
      }
      String esToken = sign(ecSigner, JWSAlgorithm.ES256, claims);
      String rsToken = sign(rsaSigner, JWSAlgorithm.RS256, claims);
      results.add(measure("sign", "ES256", name, () -> sign(ecSigner, JWSAlgorithm.ES256, claims), warmUp, measure));
      results.add(measure("verify", "ES256", name, () -> verify(esToken, ecVerifier), warmUp, measure));
      results.add(measure("sign", "RS256", name, () -> sign(rsaSigner, JWSAlgorithm.RS256, claims), warmUp, measure));
      results.add(measure("verify", "RS256", name, () -> verify(rsToken, rsaVerifier), warmUp, measure));
    }

    StringBuilder table = new StringBuilder()
        .append("Token crypto per core (one thread), Java ").append(System.getProperty("java.version"))
        .append(", ").append(System.getProperty("os.arch")).append(", ")
        .append(Runtime.getRuntime().availableProcessors()).append(" cores\n\n")
        .append("| operation | algorithm | provider | per second |\n|---|---|---|---:|\n");
    for (Result r : results) {
      table.append(String.format(Locale.ROOT, "| %s | %s | %s | %,.0f |%n", r.operation(), r.algorithm(),
          r.provider(), r.perSecond()));
    }
    System.out.print(table);
    Path out = Path.of("target", "token-crypto.md");
    try {
      Files.createDirectories(out.getParent());
      Files.writeString(out, table);
    } catch (IOException e) {
      System.err.println("could not write " + out + ": " + e.getMessage());
    }
  }

  static PrivateKey privateKey(PrivateKey key, String type, Provider provider) throws Exception {
    KeyFactory factory = provider == null ? KeyFactory.getInstance(type) : KeyFactory.getInstance(type, provider);
    return factory.generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
  }

  static PublicKey publicKey(PublicKey key, String type, Provider provider) throws Exception {
    KeyFactory factory = provider == null ? KeyFactory.getInstance(type) : KeyFactory.getInstance(type, provider);
    return factory.generatePublic(new X509EncodedKeySpec(key.getEncoded()));
  }

  static String sign(JWSSigner signer, JWSAlgorithm alg, JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).type(new JOSEObjectType("at+jwt")).keyID("k").build(),
        claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  static void verify(String token, JWSVerifier verifier) throws Exception {
    if (!SignedJWT.parse(token).verify(verifier)) {
      throw new IllegalStateException("signature did not verify");
    }
  }

  static Result measure(String operation, String alg, String provider, Op op, Duration warmUp, Duration measure)
      throws Exception {
    long end = System.nanoTime() + warmUp.toNanos();
    while (System.nanoTime() < end) {
      op.run();
    }
    long count = 0;
    long start = System.nanoTime();
    end = start + measure.toNanos();
    long now;
    do {
      op.run();
      count++;
      now = System.nanoTime();
    } while (now < end);
    return new Result(operation, alg, provider, count / ((now - start) / 1e9));
  }
}
