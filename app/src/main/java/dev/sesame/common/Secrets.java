package dev.sesame.common;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/** Random secrets, their hashes, and constant-time comparison. Sesame stores only the hashes. */
public final class Secrets {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

  private Secrets() {}

  /** A URL-safe random token with {@code bytes * 8} bits of entropy. */
  public static String randomToken(int bytes) {
    return BASE64URL.encodeToString(randomBytes(bytes));
  }

  public static byte[] randomBytes(int bytes) {
    byte[] out = new byte[bytes];
    RANDOM.nextBytes(out);
    return out;
  }

  /** A uniformly random string of {@code digits} decimal digits, leading zeros kept. */
  public static String randomDigits(int digits) {
    StringBuilder out = new StringBuilder(digits);
    for (int i = 0; i < digits; i++) {
      out.append((char) ('0' + RANDOM.nextInt(10)));
    }
    return out.toString();
  }

  public static byte[] sha256(String value) {
    return sha256(value.getBytes(StandardCharsets.UTF_8));
  }

  public static byte[] sha256(byte[] value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  public static String sha256Hex(String value) {
    return HexFormat.of().formatHex(sha256(value));
  }

  /** Constant-time equality, so a mismatch does not reveal where it happened. */
  public static boolean constantTimeEquals(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }
}
