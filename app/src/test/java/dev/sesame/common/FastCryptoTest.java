package dev.sesame.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

class FastCryptoTest {
  @Test
  void signatures_are_fast_and_the_jdk_tls_stack_still_works() throws Exception {
    String provider = FastCrypto.install();
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair keys = generator.generateKeyPair();

    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(keys.getPrivate());
    signer.update(new byte[] {1, 2, 3});
    byte[] signature = signer.sign();
    if (provider.equals("Conscrypt")) {
      assertEquals(FastCrypto.NAME, signer.getProvider().getName());
    }
    Signature verifier = Signature.getInstance("SHA256withECDSA", "SunEC"); // a JDK verifier accepts it
    verifier.initVerify(keys.getPublic());
    verifier.update(new byte[] {1, 2, 3});
    assertTrue(verifier.verify(signature));

    // The JDK's TLS stack initialises and works after the install (it didn't with all of Conscrypt first).
    SSLContext tls = SSLContext.getInstance("TLS", "SunJSSE");
    tls.init(null, null, null);
    SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket();
    assertTrue(socket.getSupportedCipherSuites().length > 0);
    assertEquals("SunJSSE", SSLContext.getDefault().getProvider().getName());
  }

  /**
   * Sealed values move between nodes and versions: what Conscrypt's AES-GCM sealed, the JDK's opens, and the other
   * way round (an older node sealed with the JDK's); a changed byte or another purpose opens with neither.
   */
  @Test
  void sealed_values_open_whichever_aes_gcm_sealed_them() throws Exception {
    FastCrypto.install();
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    SealedBox box = new SealedBox(key, "sesame/test/v1", "t1.");
    byte[] plain = "a sign-in challenge and its expiry".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    String sealedHere = box.seal(plain);
    byte[] raw = java.util.Base64.getUrlDecoder().decode(sealedHere.substring(3));
    javax.crypto.Cipher jdk = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
    jdk.init(javax.crypto.Cipher.DECRYPT_MODE, new javax.crypto.spec.SecretKeySpec(key, "AES"),
        new javax.crypto.spec.GCMParameterSpec(128, raw, 0, 12));
    jdk.updateAAD("sesame/test/v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    assertEquals(new String(plain), new String(jdk.doFinal(raw, 12, raw.length - 12)));

    byte[] nonce = new byte[12];
    new java.security.SecureRandom().nextBytes(nonce);
    javax.crypto.Cipher old = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
    old.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(key, "AES"),
        new javax.crypto.spec.GCMParameterSpec(128, nonce));
    old.updateAAD("sesame/test/v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    byte[] sealed = old.doFinal(plain);
    byte[] joined = new byte[12 + sealed.length];
    System.arraycopy(nonce, 0, joined, 0, 12);
    System.arraycopy(sealed, 0, joined, 12, sealed.length);
    String sealedByJdk = "t1." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(joined);
    assertEquals(new String(plain), new String(box.open(sealedByJdk, 1000).orElseThrow()));

    joined[20] ^= 1;
    assertTrue(box.open("t1." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(joined), 1000)
        .isEmpty(), "altered");
    assertTrue(new SealedBox(key, "sesame/other/v1", "t1.").open(sealedHere, 1000).isEmpty(), "another purpose");
    assertEquals("Conscrypt".equals(FastCrypto.install()) ? "Conscrypt" : "SunJCE",
        FastCrypto.aesGcm().getProvider().getName(), "the fast one where it is there");
  }
}
