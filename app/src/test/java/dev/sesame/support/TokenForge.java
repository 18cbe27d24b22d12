package dev.sesame.support;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.function.Consumer;

/** Tokens signed with Sesame's real key but wrong in one way, to prove each verification check. */
public final class TokenForge {
  private TokenForge() {}

  /** The server's active ES256 private key, read from its database and decrypted with its master key. */
  public static PrivateKey serverPrivateKey(TestServer server) throws Exception {
    java.util.Map<String, Object> row = server.jdbi().withHandle(h -> h.createQuery(
            "SELECT kid, private_key FROM signing_keys"
                + " WHERE alg = 'ES256' AND retired_at IS NULL AND activated_at <= now()")
        .mapToMap().one());
    byte[] pkcs8 = dev.sesame.tokens.KeyAccess.decrypt(dev.sesame.config.DataDirSecrets.masterKey(server.config()),
        (byte[]) row.get("private_key"), (String) row.get("kid"));
    return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
  }

  public static String sign(PrivateKey key, String kid, JWTClaimsSet claims, Consumer<JWSHeader.Builder> header)
      throws Exception {
    JWSHeader.Builder b = new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType("at+jwt")).keyID(kid);
    header.accept(b);
    SignedJWT jwt = new SignedJWT(b.build(), claims);
    jwt.sign(new ECDSASigner(key, Curve.P_256));
    return jwt.serialize();
  }
}
