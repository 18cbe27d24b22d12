package dev.sesame.passkeys;

import dev.sesame.common.SealedBox;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * Sign-in ceremonies without a database row: the ceremony id the browser gets is the challenge, its expiry and whom
 * it is for, sealed with AES-256-GCM under a key every node shares. Nobody without the key can make or alter one;
 * {@code PasskeyService} makes each single-use by recording its challenge in {@code used_challenges} in the same
 * transaction that verifies the answer. So an anonymous request for options costs CPU only, never storage.
 */
final class SignInChallenges {
  private static final int CHALLENGE_BYTES = 32;
  private static final int PLAIN_BYTES = CHALLENGE_BYTES + 8 + 1 + 16;

  private final SealedBox box;

  SignInChallenges(byte[] key) {
    this.box = new SealedBox(key, "sesame/passkeys/sign-in/v1", "s1.");
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
    ByteBuffer plain = ByteBuffer.allocate(PLAIN_BYTES);
    plain.put(challenge).putLong(expiresAt.getEpochSecond());
    plain.put((byte) (audience.userId().isPresent() ? 2 : audience.hinted() ? 1 : 0));
    UUID user = audience.userId().orElse(new UUID(0, 0));
    plain.putLong(user.getMostSignificantBits()).putLong(user.getLeastSignificantBits());
    return box.seal(plain.array());
  }

  /** The sealed challenge, or empty when {@code ceremonyId} is not one this server sealed (or was altered). */
  Optional<Challenge> open(String ceremonyId) {
    Optional<byte[]> opened = box.open(ceremonyId, 200);
    if (opened.isEmpty() || opened.get().length != PLAIN_BYTES) {
      return Optional.empty();
    }
    byte[] plain = opened.get();
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
