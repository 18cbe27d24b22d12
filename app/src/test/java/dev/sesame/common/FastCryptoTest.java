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
}
