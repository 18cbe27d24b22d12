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

  /** The server's active ES256 private key, read from its database (only possible without a master key). */
  public static PrivateKey serverPrivateKey(TestServer server) throws Exception {
    byte[] pkcs8 = server.jdbi().withHandle(h -> h.createQuery(
            "SELECT private_key FROM signing_keys WHERE retired_at IS NULL AND encryption = 'none'")
        .mapTo(byte[].class).one());
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
