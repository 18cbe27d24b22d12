package dev.sesame.tokens;

import dev.sesame.config.Secret;

/** Test access to a stored signing key, as an attacker with the master key would have it. */
public final class KeyAccess {
  private KeyAccess() {}

  public static byte[] decrypt(Secret masterKey, byte[] stored, String kid) {
    return new KeyEncryption(masterKey).decrypt(stored, kid);
  }
}
