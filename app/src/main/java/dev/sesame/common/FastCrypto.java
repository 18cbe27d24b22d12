package dev.sesame.common;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import javax.crypto.Cipher;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.Security;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fast signatures from Conscrypt (BoringSSL) when its native library loads on this platform: ES256 signing and
 * verification are about 30× faster than with the JDK's EC provider. Only Conscrypt's signature engines are put first
 * among the JCA providers, through a provider of our own; key factories, algorithm parameters and TLS stay the JDK's.
 * (With all of Conscrypt first, the JDK's TLS stack fails to initialise: it asks for EC parameters of binary-field
 * curves, which Conscrypt refuses.) Elsewhere Sesame falls back to the JDK quietly.
 */
public final class FastCrypto {
  private static final Logger log = LoggerFactory.getLogger(FastCrypto.class);
  static final String NAME = "SesameConscrypt";
  private static final List<String> SIGNATURES = List.of("SHA256withECDSA", "SHA384withECDSA", "SHA512withECDSA",
      "SHA256withRSA", "SHA384withRSA", "SHA512withRSA", "SHA256withRSA/PSS", "SHA384withRSA/PSS",
      "SHA512withRSA/PSS");
  private static volatile Provider conscrypt;
  private static volatile String installed;

  private FastCrypto() {}

  /** Installs the signature provider once per JVM and returns the name of what signs, for the start-up log. */
  public static synchronized String install() {
    if (installed != null) {
      return installed;
    }
    installed = "JDK";
    try {
      Class<?> type = Class.forName("org.conscrypt.Conscrypt");
      if (!(boolean) type.getMethod("isAvailable").invoke(null)) {
        log.info("Conscrypt is not available on this platform; using the JDK's crypto providers");
        return installed;
      }
      Provider full = (Provider) type.getMethod("newProvider").invoke(null);
      Security.insertProviderAt(new SignaturesOnly(full), 1);
      conscrypt = full;
      installed = "Conscrypt";
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      log.info("Conscrypt could not be loaded ({}); using the JDK's crypto providers", e.toString());
    }
    return installed;
  }

  /**
   * A new AES/GCM/NoPadding cipher: Conscrypt's when it is installed (BoringSSL), else the JDK's, its provider found
   * once. Measured in-process on seal + open of a 60-byte value: 8.3 µs with a provider lookup per call (C2),
   * 4.8 µs with the JDK's provider cached, 2.3 µs with Conscrypt; 25 / 16 / 6 µs with C1 only (the small profile).
   */
  public static Cipher aesGcm() throws GeneralSecurityException {
    Provider p = conscrypt;
    return Cipher.getInstance(AES_GCM, p != null ? p : JdkAesGcm.PROVIDER);
  }

  private static final String AES_GCM = "AES/GCM/NoPadding";

  /** The JDK's AES-GCM provider, looked up on first use. */
  private static final class JdkAesGcm {
    static final Provider PROVIDER;

    static {
      try {
        PROVIDER = Cipher.getInstance(AES_GCM).getProvider();
      } catch (GeneralSecurityException e) {
        throw new ExceptionInInitializerError(e);
      }
    }
  }

  /** A key factory whose keys the fast signature engines use without converting them on every call. */
  public static KeyFactory keyFactory(String algorithm) throws NoSuchAlgorithmException {
    Provider p = conscrypt;
    return p != null ? KeyFactory.getInstance(algorithm, p) : KeyFactory.getInstance(algorithm);
  }

  /** Conscrypt's signature engines, and nothing else of it. */
  private static final class SignaturesOnly extends Provider {
    SignaturesOnly(Provider conscrypt) {
      super(NAME, "1.0", "Conscrypt (BoringSSL) signatures for Sesame");
      for (String algorithm : SIGNATURES) {
        Provider.Service s = conscrypt.getService("Signature", algorithm);
        if (s == null) {
          continue;
        }
        Map<String, String> attributes = new HashMap<>();
        for (String name : List.of("SupportedKeyClasses", "SupportedKeyFormats")) {
          String value = s.getAttribute(name);
          if (value != null) {
            attributes.put(name, value);
          }
        }
        putService(new Delegate(this, s, attributes));
      }
    }
  }

  /** Creates engines through Conscrypt's own service, so its class loader and checks apply. */
  private static final class Delegate extends Provider.Service {
    private final Provider.Service target;

    Delegate(Provider owner, Provider.Service target, Map<String, String> attributes) {
      super(owner, target.getType(), target.getAlgorithm(), target.getClassName(), null, attributes);
      this.target = target;
    }

    @Override
    public Object newInstance(Object constructorParameter) throws NoSuchAlgorithmException {
      return target.newInstance(constructorParameter);
    }

    @Override
    public boolean supportsParameter(Object parameter) {
      return target.supportsParameter(parameter);
    }
  }
}
