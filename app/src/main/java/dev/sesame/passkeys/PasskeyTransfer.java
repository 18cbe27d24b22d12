package dev.sesame.passkeys;

import com.webauthn4j.converter.util.ObjectConverter;
import com.webauthn4j.data.attestation.authenticator.COSEKey;
import dev.sesame.db.Sql;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * Passkeys in and out of Sesame's user export format: what another WebAuthn server with the same RP ID stored for
 * a credential (credential id, COSE public key, counter, AAGUID, backup flags, transports), so its users keep their
 * passkeys. The passkeys table is written only here and in {@link PasskeyService}.
 */
public final class PasskeyTransfer {
  private static final ObjectConverter CONVERTER = new ObjectConverter();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private PasskeyTransfer() {}

  /** One passkey as the export format writes it (base64url for bytes). */
  public record Exported(String credentialId, String publicKey, long signCount, String aaguid,
                         boolean backupEligible, boolean backupState, List<String> transports, String name,
                         Instant createdAt) {}

  /** A checked passkey, ready to store. */
  public record Checked(byte[] credentialId, byte[] publicKey, int algorithm, long signCount, UUID aaguid,
                        boolean backupEligible, boolean backupState, List<String> transports, String name,
                        Instant createdAt) {}

  /** Checks one exported passkey; {@link IllegalArgumentException} names what is wrong. */
  public static Checked check(Exported e) {
    byte[] id = bytes(e.credentialId(), "credentialId");
    if (id.length < 16 || id.length > 1023) {
      throw new IllegalArgumentException("credentialId must be 16 to 1023 bytes"); // WebAuthn L3 §5.1
    }
    byte[] key = bytes(e.publicKey(), "publicKey");
    COSEKey cose;
    try {
      cose = CONVERTER.getCborConverter().readValue(key, COSEKey.class);
    } catch (RuntimeException ex) {
      throw new IllegalArgumentException("publicKey is not a COSE key");
    }
    if (cose == null || cose.getAlgorithm() == null || !WebAuthnVerifier.ALGORITHMS.contains(cose.getAlgorithm()
        .getValue()) || cose.getPublicKey() == null) {
      throw new IllegalArgumentException("publicKey must be an ES256, EdDSA or RS256 COSE key");
    }
    if (e.signCount() < 0 || e.signCount() > 0xFFFFFFFFL) {
      throw new IllegalArgumentException("signCount must be 0 to 2^32-1");
    }
    UUID aaguid = null;
    if (e.aaguid() != null && !e.aaguid().isEmpty()) {
      aaguid = UUID.fromString(e.aaguid());
    }
    String name = e.name() == null || e.name().isBlank() ? "Imported passkey" : e.name().strip();
    if (name.length() > 64) {
      throw new IllegalArgumentException("name is at most 64 characters");
    }
    if (e.backupState() && !e.backupEligible()) {
      throw new IllegalArgumentException("backupState without backupEligible"); // §6.1.3
    }
    return new Checked(id, key, (int) cose.getAlgorithm().getValue(), e.signCount(), aaguid, e.backupEligible(),
        e.backupState(), e.transports() == null ? List.of() : e.transports(), name, e.createdAt());
  }

  private static byte[] bytes(String b64url, String field) {
    if (b64url == null || b64url.isEmpty()) {
      throw new IllegalArgumentException(field + " is required");
    }
    try {
      return B64D.decode(b64url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + " is not base64url");
    }
  }

  /** Every user's passkeys, by user id (for the export). */
  public static Map<UUID, List<Exported>> exportOf(Handle h, List<UUID> userIds) {
    Map<UUID, List<Exported>> out = new HashMap<>();
    h.createQuery("""
            SELECT user_id, credential_id, public_key, sign_count, aaguid, backup_eligible, backup_state, transports,
                   name, created_at
            FROM passkeys WHERE user_id = ANY (:ids) ORDER BY created_at
            """)
        .bind("ids", userIds.toArray(UUID[]::new))
        .map((rs, ctx) -> {
          UUID aaguid = rs.getObject("aaguid", UUID.class);
          out.computeIfAbsent(rs.getObject("user_id", UUID.class), k -> new ArrayList<>()).add(new Exported(
              B64.encodeToString(rs.getBytes("credential_id")), B64.encodeToString(rs.getBytes("public_key")),
              rs.getLong("sign_count"), aaguid == null ? null : aaguid.toString(), rs.getBoolean("backup_eligible"),
              rs.getBoolean("backup_state"), Sql.strings(rs, "transports"), rs.getString("name"),
              Sql.instant(rs, "created_at")));
          return 0;
        })
        .list();
    return out;
  }

  /** Which of these credential ids are stored already, and for whom. */
  public static Map<String, UUID> owners(Handle h, List<byte[]> credentialIds) {
    Map<String, UUID> out = new HashMap<>();
    if (credentialIds.isEmpty()) {
      return out;
    }
    h.createQuery("SELECT credential_id, user_id FROM passkeys WHERE credential_id = ANY (:ids)")
        .bind("ids", credentialIds.toArray(byte[][]::new))
        .map((rs, ctx) -> out.put(B64.encodeToString(rs.getBytes("credential_id")), rs.getObject("user_id",
            UUID.class)))
        .list();
    return out;
  }

  /** Stores passkeys (a batch); one already there is left as it is. Returns how many were added. */
  public static int insert(Handle h, Map<Checked, UUID> owners) {
    if (owners.isEmpty()) {
      return 0;
    }
    PreparedBatch batch = h.prepareBatch("""
        INSERT INTO passkeys (id, user_id, credential_id, public_key, algorithm, sign_count, transports, aaguid,
                              backup_eligible, backup_state, uv_initialized, attestation_format, name, created_at)
        VALUES (:id, :userId, :credentialId, :publicKey, :algorithm, :signCount, :transports, :aaguid,
                :backupEligible, :backupState, false, 'none', :name, coalesce(:createdAt, now()))
        ON CONFLICT (credential_id) DO NOTHING
        """);
    for (Map.Entry<Checked, UUID> e : owners.entrySet()) {
      Checked c = e.getKey();
      batch.bind("id", UUID.randomUUID()).bind("userId", e.getValue()).bind("credentialId", c.credentialId())
          .bind("publicKey", c.publicKey()).bind("algorithm", c.algorithm()).bind("signCount", c.signCount())
          .bind("transports", c.transports().toArray(String[]::new)).bind("aaguid", c.aaguid())
          .bind("backupEligible", c.backupEligible()).bind("backupState", c.backupState()).bind("name", c.name())
          .bind("createdAt", c.createdAt()).add();
    }
    // Only inserted rows come back (ON CONFLICT DO NOTHING): the driver's batch counts can't tell.
    return batch.executePreparedBatch("id").mapTo(UUID.class).list().size();
  }
}
