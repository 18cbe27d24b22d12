package dev.sesame.common;

import java.security.Provider;
import java.security.Security;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts Conscrypt (BoringSSL) first among the JCA providers when its native library loads on this platform. ES256
 * signing and verification are about 30× faster than with the JDK's own EC provider; elsewhere Sesame falls back to
 * the JDK quietly.
 */
public final class FastCrypto {
  private static final Logger log = LoggerFactory.getLogger(FastCrypto.class);
  private static volatile String installed;

  private FastCrypto() {}

  /** Installs Conscrypt once per JVM and returns the name of the provider that signs, for the start-up log. */
  public static synchronized String install() {
    if (installed != null) {
      return installed;
    }
    try {
      Class<?> conscrypt = Class.forName("org.conscrypt.Conscrypt");
      boolean available = (boolean) conscrypt.getMethod("isAvailable").invoke(null);
      if (available) {
        Provider provider = (Provider) conscrypt.getMethod("newProvider").invoke(null);
        if (Security.getProvider(provider.getName()) == null) {
          Security.insertProviderAt(provider, 1);
        }
        installed = provider.getName();
        return installed;
      }
      log.info("Conscrypt is not available on this platform; using the JDK's crypto providers");
    } catch (ReflectiveOperationException | LinkageError e) {
      log.info("Conscrypt could not be loaded ({}); using the JDK's crypto providers", e.toString());
    }
    installed = "JDK";
    return installed;
  }
}
