package dev.sesame.tokens;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes the compact JWS of the tokens Sesame issues. The signature is nimbus-jose-jwt's ({@link JWSSigner}); the
 * header's base64url is made once per key and type instead of per token, and the claims (nimbus's own JSON object,
 * dates already in seconds) are serialized by Jackson and encoded with the JDK's base64url. nimbus's
 * {@code SignedJWT.sign} re-encodes both for every token: about 5 % of a refresh's server CPU.
 */
final class CompactJws {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private record Header(JWSHeader header, String encoded) {}

  /** Keys rotate rarely; the map is emptied when it grows, so retired keys do not stay. */
  private final ConcurrentHashMap<String, Header> headers = new ConcurrentHashMap<>();

  String sign(JWSSigner signer, JWSAlgorithm alg, String kid, JOSEObjectType type, JWTClaimsSet claims) {
    if (headers.size() > 32) {
      headers.clear();
    }
    Header header = headers.computeIfAbsent(alg.getName() + ' ' + kid + ' ' + type, k -> {
      JWSHeader h = new JWSHeader.Builder(alg).type(type).keyID(kid).build();
      return new Header(h, h.toBase64URL().toString());
    });
    try {
      String input = header.encoded() + '.' + B64.encodeToString(JSON.writeValueAsBytes(claims.toJSONObject()));
      return input + '.' + signer.sign(header.header(), input.getBytes(StandardCharsets.US_ASCII));
    } catch (JOSEException | JsonProcessingException e) {
      throw new IllegalStateException("signing a token failed", e);
    }
  }
}
