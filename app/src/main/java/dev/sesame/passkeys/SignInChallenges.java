package dev.sesame.passkeys;

import dev.sesame.common.Secrets;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Sign-in ceremonies without a database row: the ceremony id the browser gets is the challenge, its expiry and whom
 * it is for, sealed with AES-256-GCM under a key every node shares. Nobody without the key can make or alter one;
 * {@code PasskeyService} makes each single-use by recording its challenge in {@code used_challenges} in the same
 * transaction that verifies the answer. So an anonymous request for options costs CPU only, never storage.
 */
final class SignInChallenges {
  private static final String PREFIX = "s1.";
  private static final byte[] AAD = "sesame/passkeys/sign-in/v1".getBytes(StandardCharsets.US_ASCII);
  private static final int NONCE_BYTES = 12;
  private static final int CHALLENGE_BYTES = 32;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final SecretKeySpec key;

  SignInChallenges(byte[] key) {
    if (key.length != 32) {
      throw new IllegalArgumentException("an AES-256 key is 32 bytes");
    }
    this.key = new SecretKeySpec(key, "AES");
  }

  /**
   * Who the options were for (WebAuthn L3 §7.2 step 5: the allow-list travels with the ceremony).
   * {@link #ANYONE}: usernameless, any passkey whose user handle matches its owner. {@link #NOBODY}: an address
   * with no passkey, answered with pseudo credentials, so no real passkey may finish it. Otherwise the user whose
   * passkeys were listed: only theirs.
   */
  record Audience(Optional<UUID> userId, boolean hinted) {
    static final Audience ANYONE = new Audience(Optional.empty(), false);
    static final Audience NOBODY = new Audience(Optional.empty(), true);

    static Audience of(UUID userId) {
      return new Audience(Optional.of(userId), true);
    }
  }

  record Challenge(byte[] challenge, Instant expiresAt, Audience audience) {}

  /** A fresh challenge for {@code audience}, and the sealed ceremony id that carries it. */
  String seal(byte[] challenge, Instant expiresAt, Audience audience) {
    ByteBuffer plain = ByteBuffer.allocate(CHALLENGE_BYTES + 8 + 1 + 16);
    plain.put(challenge).putLong(expiresAt.getEpochSecond());
    plain.put((byte) (audience.userId().isPresent() ? 2 : audience.hinted() ? 1 : 0));
    UUID user = audience.userId().orElse(new UUID(0, 0));
    plain.putLong(user.getMostSignificantBits()).putLong(user.getLeastSignificantBits());
    try {
      byte[] nonce = Secrets.randomBytes(NONCE_BYTES);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
      cipher.updateAAD(AAD);
      byte[] sealed = cipher.doFinal(plain.array());
      return PREFIX + B64.encodeToString(ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed)
          .array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed", e);
    }
  }

  /** The sealed challenge, or empty when {@code ceremonyId} is not one this server sealed (or was altered). */
  Optional<Challenge> open(String ceremonyId) {
    if (ceremonyId == null || !ceremonyId.startsWith(PREFIX) || ceremonyId.length() > 200) {
      return Optional.empty();
    }
    byte[] sealed;
    try {
      sealed = B64D.decode(ceremonyId.substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (sealed.length != NONCE_BYTES + CHALLENGE_BYTES + 8 + 1 + 16 + 16) {
      return Optional.empty();
    }
    byte[] plain;
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, sealed, 0, NONCE_BYTES));
      cipher.updateAAD(AAD);
      plain = cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
    } catch (javax.crypto.AEADBadTagException e) {
      return Optional.empty();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed", e);
    }
    ByteBuffer in = ByteBuffer.wrap(plain);
    byte[] challenge = new byte[CHALLENGE_BYTES];
    in.get(challenge);
    Instant expiresAt = Instant.ofEpochSecond(in.getLong());
    byte kind = in.get();
    UUID user = new UUID(in.getLong(), in.getLong());
    Audience audience = switch (kind) {
      case 2 -> Audience.of(user);
      case 1 -> Audience.NOBODY;
      default -> Audience.ANYONE;
    };
    return Optional.of(new Challenge(challenge, expiresAt, audience));
  }
}
