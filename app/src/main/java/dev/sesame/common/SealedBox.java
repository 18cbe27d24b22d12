package dev.sesame.common;

import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Values the server hands out and takes back without storing them: sealed with AES-256-GCM under a key every node
 * shares, bound to a purpose label (the associated data), so nobody without the key can make or alter one, and a
 * value sealed for one purpose never opens as another. The text form is {@code prefix + BASE64URL(nonce ‖ sealed)}.
 */
public final class SealedBox {
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BYTES = 16;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final SecretKeySpec key;
  private final byte[] purpose;
  private final String prefix;

  /**
   * @param key 32 bytes
   * @param purpose what the values are for, e.g. {@code "sesame/passkeys/sign-in/v1"}
   * @param prefix put in front of every value, so one kind is recognisable at a glance (e.g. {@code "s1."})
   */
  public SealedBox(byte[] key, String purpose, String prefix) {
    if (key.length != 32) {
      throw new IllegalArgumentException("an AES-256 key is 32 bytes");
    }
    this.key = new SecretKeySpec(key, "AES");
    this.purpose = purpose.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    this.prefix = prefix;
  }

  public String seal(byte[] plain) {
    try {
      byte[] nonce = Secrets.randomBytes(NONCE_BYTES);
      Cipher cipher = FastCrypto.aesGcm();
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, nonce));
      cipher.updateAAD(purpose);
      byte[] sealed = cipher.doFinal(plain);
      byte[] out = new byte[NONCE_BYTES + sealed.length];
      System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
      System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
      return prefix + B64.encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed", e);
    }
  }

  /**
   * The plain bytes, or empty when {@code text} is not a value this box sealed: another prefix, longer than
   * {@code maxLength}, not base64url, altered, sealed under another key or for another purpose.
   */
  public Optional<byte[]> open(String text, int maxLength) {
    if (text == null || text.length() > maxLength || !text.startsWith(prefix)) {
      return Optional.empty();
    }
    byte[] sealed;
    try {
      sealed = B64D.decode(text.substring(prefix.length()));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (sealed.length < NONCE_BYTES + TAG_BYTES) {
      return Optional.empty();
    }
    try {
      Cipher cipher = FastCrypto.aesGcm();
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, sealed, 0, NONCE_BYTES));
      cipher.updateAAD(purpose);
      return Optional.of(cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES));
    } catch (AEADBadTagException e) {
      return Optional.empty();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed", e);
    }
  }
}
