package dev.sesame.tokens;

import dev.sesame.common.Secrets;
import dev.sesame.config.ConfigException;
import dev.sesame.config.Secret;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for private signing keys at rest. The AES key is derived from {@code SESAME_MASTER_KEY} with
 * HMAC-SHA256 (a one-step KDF, enough for a high-entropy master key); the key id is the associated data, so a stored
 * ciphertext cannot be moved to another row.
 */
final class KeyEncryption {
  private static final int NONCE_BYTES = 12;
  private final SecretKeySpec aesKey;

  KeyEncryption(Secret masterKey) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(masterKey.reveal().getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      this.aesKey = new SecretKeySpec(mac.doFinal("sesame/signing-keys/v1".getBytes(StandardCharsets.UTF_8)), "AES");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  byte[] encrypt(byte[] plaintext, String kid) {
    try {
      byte[] nonce = Secrets.randomBytes(NONCE_BYTES);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, aesKey, new GCMParameterSpec(128, nonce));
      cipher.updateAAD(kid.getBytes(StandardCharsets.UTF_8));
      byte[] ciphertext = cipher.doFinal(plaintext);
      return ByteBuffer.allocate(nonce.length + ciphertext.length).put(nonce).put(ciphertext).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed", e);
    }
  }

  byte[] decrypt(byte[] stored, String kid) {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, aesKey, new GCMParameterSpec(128, stored, 0, NONCE_BYTES));
      cipher.updateAAD(kid.getBytes(StandardCharsets.UTF_8));
      return cipher.doFinal(stored, NONCE_BYTES, stored.length - NONCE_BYTES);
    } catch (AEADBadTagException e) {
      throw new ConfigException("SESAME_MASTER_KEY",
          "does not decrypt the stored signing key " + kid + "; use the master key it was stored with (unset, it is "
              + "the one in SESAME_DATA_DIR/master.key: nodes sharing a database need the same SESAME_MASTER_KEY)");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed", e);
    }
  }
}
