package dev.sesame.passkeys;

import dev.sesame.db.Sql;
import dev.sesame.audit.AuditLog;
import dev.sesame.common.ApiException;
import dev.sesame.common.ClientInfo;
import dev.sesame.common.Outcome;
import dev.sesame.common.Secrets;
import dev.sesame.config.Config;
import dev.sesame.email.EmailAddresses;
import dev.sesame.sessions.SessionService;
import dev.sesame.sessions.TokenResponse;
import dev.sesame.users.User;
import dev.sesame.users.Users;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Passkeys: registration for a signed-in user and sign-in with them, in pairs of {@code start…}/{@code finish…}
 * (WebAuthn L3 §7.1 and §7.2), plus listing, renaming and removing. Ceremony state lives in PostgreSQL; a ceremony is
 * consumed ({@code DELETE … RETURNING}) in the same transaction that verifies its response, so it can be finished
 * once, and a failed attempt uses it up too.
 */
public final class PasskeyService {
  public static final int MAX_PASSKEYS_PER_USER = 20;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final Jdbi jdbi;
  private final WebAuthnVerifier verifier;
  private final Aaguids aaguids;
  private final SessionService sessions;
  private final AuditLog audit;
  private final Config config;
  private final byte[] pseudoCredentialKey;

  public PasskeyService(Jdbi jdbi, Aaguids aaguids, SessionService sessions, AuditLog audit, Config config,
                        byte[] pseudoCredentialKey) {
    this.jdbi = jdbi;
    this.aaguids = aaguids;
    this.sessions = sessions;
    this.audit = audit;
    this.config = config;
    this.pseudoCredentialKey = pseudoCredentialKey.clone();
    LinkedHashSet<String> origins = new LinkedHashSet<>(config.allowedOrigins());
    origins.addAll(config.passkeys().relatedOrigins());
    this.verifier = new WebAuthnVerifier(origins, config.rpId(), config.passkeys().userVerificationRequired(),
        config.passkeys().verifyAttestation());
  }

  /** A passkey as its owner sees it. */
  public record Passkey(UUID id, String name, String provider, Instant createdAt, Instant lastUsedAt,
                        boolean backedUp, List<String> transports) {}

  /** Options for the browser: {@code publicKey} is WebAuthn L3 JSON, ready for {@code parse…OptionsFromJSON}. */
  public record Options(UUID ceremonyId, Map<String, Object> publicKey) {}

  private enum CeremonyType { REGISTRATION, AUTHENTICATION }

  private record Ceremony(byte[] challenge, String name) {}

  // ---- registration -----------------------------------------------------------------------------------------------

  /** §5.4 PublicKeyCredentialCreationOptions for {@code user}, who must be signed in. */
  public Options startRegistration(User user, String name) {
    String requestedName = name == null ? null : validName(name);
    byte[] challenge = Secrets.randomBytes(32);
    UUID ceremonyId = UUID.randomUUID();
    Map<String, Object> publicKey = jdbi.inTransaction(h -> {
      List<Map<String, Object>> existing = h.createQuery(
              "SELECT credential_id, transports FROM passkeys WHERE user_id = :userId ORDER BY created_at")
          .bind("userId", user.id())
          .map((rs, ctx) -> descriptor(rs.getBytes("credential_id"), (String[]) rs.getArray("transports").getArray()))
          .list();
      if (existing.size() >= MAX_PASSKEYS_PER_USER) {
        throw tooMany();
      }
      byte[] userHandle = h.createQuery("SELECT webauthn_user_handle FROM users WHERE id = :id")
          .bind("id", user.id()).mapTo(byte[].class).one();
      insertCeremony(h, ceremonyId, CeremonyType.REGISTRATION, challenge, user.id(), requestedName);

      Map<String, Object> selection = new LinkedHashMap<>();
      selection.put("residentKey", "required"); // discoverable: usernameless sign-in and autofill need it
      selection.put("requireResidentKey", true);
      selection.put("userVerification", userVerification());
      if (config.passkeys().platformOnly()) {
        selection.put("authenticatorAttachment", "platform");
      }
      Map<String, Object> options = new LinkedHashMap<>();
      options.put("rp", Map.of("id", config.rpId(), "name", config.rpName()));
      options.put("user", Map.of("id", B64.encodeToString(userHandle), "name", user.email(),
          "displayName", user.email()));
      options.put("challenge", B64.encodeToString(challenge));
      options.put("pubKeyCredParams", WebAuthnVerifier.ALGORITHMS.stream()
          .map(alg -> Map.of("type", "public-key", "alg", alg)).toList());
      options.put("timeout", config.passkeys().ceremonyTtl().toMillis());
      options.put("excludeCredentials", existing); // §5.4: don't create a second passkey on the same authenticator
      options.put("authenticatorSelection", selection);
      options.put("hints", hints());
      options.put("attestation", config.passkeys().verifyAttestation() ? "direct" : "none");
      options.put("extensions", Map.of("credProps", true));
      return options;
    });
    return new Options(ceremonyId, publicKey);
  }

  /** §7.1: verifies the new credential and stores it as a passkey of {@code userId}. */
  public Passkey finishRegistration(UUID userId, String ceremonyId, String credentialJson, String name,
                                    ClientInfo client) {
    String requestedName = name == null ? null : validName(name);
    Outcome<Passkey> outcome = jdbi.inTransaction(h -> {
      Ceremony ceremony;
      try {
        ceremony = consume(h, ceremonyId, CeremonyType.REGISTRATION, userId);
      } catch (ApiException e) {
        return Outcome.refused(e);
      }
      int count = h.createQuery("SELECT count(*) FROM passkeys WHERE user_id = :userId").bind("userId", userId)
          .mapTo(Integer.class).one();
      if (count >= MAX_PASSKEYS_PER_USER) {
        return Outcome.refused(tooMany());
      }
      WebAuthnVerifier.VerifiedRegistration verified;
      try {
        verified = verifier.verifyRegistration(credentialJson, ceremony.challenge());
      } catch (ApiException e) {
        return Outcome.refused(e); // the ceremony stays used up
      }
      String provider = aaguids.name(verified.aaguid());
      String passkeyName = requestedName != null ? requestedName
          : ceremony.name() != null ? ceremony.name() : provider;
      UUID id = UUID.randomUUID();
      Optional<Passkey> inserted = h.createQuery("""
              INSERT INTO passkeys (id, user_id, credential_id, public_key, algorithm, sign_count, transports, aaguid,
                                    backup_eligible, backup_state, uv_initialized, attestation_format, name)
              VALUES (:id, :userId, :credentialId, :publicKey, :alg, :signCount, :transports, :aaguid,
                      :be, :bs, :uv, :fmt, :name)
              ON CONFLICT (credential_id) DO NOTHING
              RETURNING *
              """)
          .bind("id", id).bind("userId", userId).bind("credentialId", verified.credentialId())
          .bind("publicKey", verified.coseKey()).bind("alg", verified.algorithm())
          .bind("signCount", verified.signCount()).bind("transports", verified.transports().toArray(String[]::new))
          .bind("aaguid", verified.aaguid()).bind("be", verified.backupEligible()).bind("bs", verified.backupState())
          .bind("uv", verified.userVerified()).bind("fmt", verified.attestationFormat()).bind("name", passkeyName)
          .map(this::mapPasskey).findOne();
      if (inserted.isEmpty()) {
        // §7.1 step 26: a credential id is registered once, across all users.
        return Outcome.refused(new ApiException(409, "credential_exists",
            "This passkey is already registered."));
      }
      audit.record(h, AuditLog.Type.PASSKEY_ADDED, userId, null, client.ip(), Map.of("passkeyId", id.toString(),
          "provider", provider, "attestationFormat", verified.attestationFormat()));
      return Outcome.ok(inserted.get());
    });
    return outcome.get();
  }

  // ---- sign-in ----------------------------------------------------------------------------------------------------

  /**
   * §5.5 PublicKeyCredentialRequestOptions. Without an email, {@code allowCredentials} is empty: discoverable sign-in,
   * also used for autofill. With an email, the user's credentials; for an address with no account or no passkey, the
   * answer has the same shape with pseudo credential ids derived from the address (§14.6.3), so it reveals nothing.
   */
  public Options startSignIn(String rawEmail) {
    byte[] challenge = Secrets.randomBytes(32);
    UUID ceremonyId = UUID.randomUUID();
    List<Map<String, Object>> allow = new ArrayList<>();
    // No transaction: a read and an insert that need not be atomic, so no BEGIN/COMMIT round trips.
    jdbi.useHandle(h -> {
      if (rawEmail != null) {
        String email = EmailAddresses.normalize(rawEmail);
        allow.addAll(h.createQuery("""
                SELECT p.credential_id, p.transports FROM passkeys p JOIN users u ON u.id = p.user_id
                WHERE lower(u.email) = lower(:email) ORDER BY p.created_at
                """)
            .bind("email", email)
            .map((rs, ctx) -> descriptor(rs.getBytes("credential_id"), (String[]) rs.getArray("transports").getArray()))
            .list());
        if (allow.isEmpty()) {
          allow.addAll(pseudoCredentials(email));
        }
      }
      insertCeremony(h, ceremonyId, CeremonyType.AUTHENTICATION, challenge, null, null);
    });
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("challenge", B64.encodeToString(challenge));
    options.put("timeout", config.passkeys().ceremonyTtl().toMillis());
    options.put("rpId", config.rpId());
    options.put("allowCredentials", allow);
    options.put("userVerification", userVerification());
    options.put("hints", hints());
    return new Options(ceremonyId, options);
  }

  private record Owned(UUID passkeyId, UUID userId, byte[] userHandle, WebAuthnVerifier.StoredCredential stored) {}

  /** §7.2: verifies the assertion and starts a session for the passkey's owner. */
  public TokenResponse finishSignIn(String ceremonyId, String credentialJson, ClientInfo client) {
    WebAuthnVerifier.Assertion assertion = verifier.parseAssertion(credentialJson);
    UUID ceremonyUuid = parseCeremonyId(ceremonyId);
    Outcome<TokenResponse> outcome = jdbi.inTransaction(h -> {
      // One round trip: consume the ceremony and read (and lock) the credential with its owner's user handle. The
      // LATERAL sub-select keeps one row whenever the ceremony existed, so "no ceremony" and "unknown credential"
      // stay distinguishable.
      Optional<Map<String, Object>> row = h.createQuery("""
              WITH ceremony AS (
                DELETE FROM webauthn_ceremonies WHERE id = :id AND type = 'authentication' AND user_id IS NULL
                RETURNING challenge, expires_at < now() AS expired)
              SELECT c.challenge, c.expired, k.*
              FROM ceremony c LEFT JOIN LATERAL (
                SELECT p.id AS passkey_id, p.user_id, p.credential_id, p.public_key, p.sign_count, p.backup_eligible,
                       p.backup_state, p.uv_initialized, p.transports, p.aaguid, u.webauthn_user_handle
                FROM passkeys p JOIN users u ON u.id = p.user_id
                WHERE p.credential_id = :credentialId
                FOR UPDATE OF p) k ON true
              """)
          .bind("id", ceremonyUuid).bind("credentialId", assertion.credentialId())
          .mapToMap().findOne();
      if (row.isEmpty()) {
        return Outcome.refused(ceremonyRefusal(h, ceremonyUuid, CeremonyType.AUTHENTICATION));
      }
      Map<String, Object> r = row.get();
      if ((Boolean) r.get("expired")) {
        return Outcome.refused(ApiException.badRequest("ceremony_expired", "This ceremony has expired. Start again."));
      }
      Ceremony ceremony = new Ceremony((byte[]) r.get("challenge"), null);
      Optional<Owned> found = Optional.ofNullable(r.get("passkey_id")).map(id -> new Owned((UUID) id,
          (UUID) r.get("user_id"), (byte[]) r.get("webauthn_user_handle"), new WebAuthnVerifier.StoredCredential(
          (byte[]) r.get("credential_id"), (byte[]) r.get("public_key"), ((Number) r.get("sign_count")).longValue(),
          (Boolean) r.get("backup_eligible"), (Boolean) r.get("backup_state"), (Boolean) r.get("uv_initialized"),
          new LinkedHashSet<>(Arrays.asList(stringArray(r.get("transports")))), (UUID) r.get("aaguid"))));
      if (found.isEmpty()) {
        // §7.2 step 6: the credential must be known. The browser may drop it (signalUnknownCredential).
        auditSignInFailure(h, null, null, "unknown_credential", client);
        return Outcome.refused(ApiException.unauthorized("unknown_credential",
            "This passkey is not registered here. It may have been removed."));
      }
      Owned owned = found.get();
      byte[] userHandle = assertion.userHandle();
      if (userHandle != null && userHandle.length > 0
          && !Secrets.constantTimeEquals(userHandle, owned.userHandle())) {
        // §7.2 step 6: the user handle, when present, must be the credential owner's.
        auditSignInFailure(h, owned.userId(), owned.passkeyId(), "user_handle_mismatch", client);
        return Outcome.refused(ApiException.unauthorized("user_handle_mismatch",
            "The passkey's user handle does not belong to its owner."));
      }
      WebAuthnVerifier.VerifiedAssertion verified;
      try {
        verified = verifier.verifyAssertion(assertion, ceremony.challenge(), owned.stored());
      } catch (ApiException e) {
        auditSignInFailure(h, owned.userId(), owned.passkeyId(), e.code(), client);
        if (e.code().equals("credential_cloned")) {
          audit.record(h, AuditLog.Type.PASSKEY_CLONE_SUSPECTED, owned.userId(), null, client.ip(),
              Map.of("passkeyId", owned.passkeyId().toString(), "storedSignCount", owned.stored().signCount()));
        }
        return Outcome.refused(e);
      }
      // §7.2 steps 22-23: keep the new counter and backup state; note the sign-in (one round trip).
      User user = h.createQuery("""
              WITH used AS (
                UPDATE passkeys SET sign_count = :signCount, backup_state = :bs, last_used_at = now() WHERE id = :id)
              UPDATE users SET last_sign_in_at = now() WHERE id = :userId
              RETURNING id, email, email_verified, created_at, last_sign_in_at
              """)
          .bind("signCount", verified.signCount()).bind("bs", verified.backupState()).bind("id", owned.passkeyId())
          .bind("userId", owned.userId())
          .map((rs, ctx) -> Users.map(rs))
          .one();
      // RFC 8176: "swk" for a synced (backed-up) passkey, "hwk" for a device-bound one; "user" when UV was done.
      List<String> amr = new ArrayList<>(List.of(verified.backupState() ? "swk" : "hwk"));
      if (verified.userVerified()) {
        amr.add("user");
      }
      TokenResponse tokens = sessions.start(h, user, "passkey", amr, client, new AuditLog.Event(
          AuditLog.Type.PASSKEY_SIGN_IN_SUCCEEDED, Map.of("passkeyId", owned.passkeyId().toString())));
      return Outcome.ok(tokens);
    });
    return outcome.get();
  }

  // ---- management -------------------------------------------------------------------------------------------------

  public List<Passkey> list(UUID userId) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM passkeys WHERE user_id = :userId ORDER BY created_at")
        .bind("userId", userId).map(this::mapPasskey).list());
  }

  public Passkey rename(UUID userId, String passkeyId, String name, ClientInfo client) {
    String newName = validName(name);
    UUID id = parseId(passkeyId);
    return jdbi.inTransaction(h -> {
      Passkey renamed = h.createQuery("UPDATE passkeys SET name = :name WHERE id = :id AND user_id = :userId RETURNING *")
          .bind("name", newName).bind("id", id).bind("userId", userId).map(this::mapPasskey).findOne()
          .orElseThrow(PasskeyService::notFound);
      audit.record(h, AuditLog.Type.PASSKEY_RENAMED, userId, null, client.ip(), Map.of("passkeyId", id.toString()));
      return renamed;
    });
  }

  public void remove(UUID userId, String passkeyId, ClientInfo client) {
    UUID id = parseId(passkeyId);
    jdbi.useTransaction(h -> {
      int deleted = h.createUpdate("DELETE FROM passkeys WHERE id = :id AND user_id = :userId")
          .bind("id", id).bind("userId", userId).execute();
      if (deleted == 0) {
        throw notFound(); // another user's passkey is as invisible as a missing one
      }
      audit.record(h, AuditLog.Type.PASSKEY_REMOVED, userId, null, client.ip(), Map.of("passkeyId", id.toString()));
    });
  }

  // ---- helpers ----------------------------------------------------------------------------------------------------

  private void insertCeremony(Handle h, UUID id, CeremonyType type, byte[] challenge, UUID userId, String name) {
    h.createUpdate("""
            INSERT INTO webauthn_ceremonies (id, type, challenge, user_id, name, expires_at)
            VALUES (:id, :type, :challenge, :userId, :name, now() + make_interval(secs => :ttl))
            """)
        .bind("id", id).bind("type", type.name().toLowerCase()).bind("challenge", challenge).bind("userId", userId)
        .bind("name", name).bind("ttl", config.passkeys().ceremonyTtl().toSeconds())
        .execute();
  }

  /**
   * Takes the ceremony out of the database if it is of {@code type} and (for registration) belongs to
   * {@code userId}. A ceremony of another type or user is left alone, so it can't be destroyed by someone else.
   */
  private Ceremony consume(Handle h, String ceremonyId, CeremonyType type, UUID userId) {
    UUID id = parseCeremonyId(ceremonyId);
    Optional<Map<String, Object>> row = h.createQuery("""
            DELETE FROM webauthn_ceremonies
            WHERE id = :id AND type = :type AND user_id IS NOT DISTINCT FROM :userId
            RETURNING challenge, name, expires_at < now() AS expired
            """)
        .bind("id", id).bind("type", type.name().toLowerCase()).bind("userId", userId)
        .mapToMap().findOne();
    if (row.isEmpty()) {
      throw ceremonyRefusal(h, id, type);
    }
    if ((Boolean) row.get().get("expired")) {
      throw ApiException.badRequest("ceremony_expired", "This ceremony has expired. Start again.");
    }
    return new Ceremony((byte[]) row.get().get("challenge"), (String) row.get().get("name"));
  }

  /** Why a ceremony could not be taken: unknown, of the other type, or another user's (which stays intact). */
  private static ApiException ceremonyRefusal(Handle h, UUID id, CeremonyType type) {
    Optional<Map<String, Object>> other = h.createQuery("SELECT type, user_id FROM webauthn_ceremonies WHERE id = :id")
        .bind("id", id).mapToMap().findOne();
    if (other.isEmpty()) {
      return ceremonyNotFound();
    }
    if (!type.name().equalsIgnoreCase((String) other.get().get("type"))) {
      return ApiException.badRequest("ceremony_type_mismatch",
          "This ceremony is for " + other.get().get("type") + ", not " + type.name().toLowerCase() + ".");
    }
    return new ApiException(403, "ceremony_user_mismatch", "This ceremony was started by another user.");
  }

  private static UUID parseCeremonyId(String ceremonyId) {
    try {
      return UUID.fromString(ceremonyId);
    } catch (IllegalArgumentException e) {
      throw ceremonyNotFound();
    }
  }

  private static String[] stringArray(Object sqlArray) {
    try {
      if (sqlArray == null) {
        return new String[0];
      }
      return sqlArray instanceof String[] strings ? strings : (String[]) ((java.sql.Array) sqlArray).getArray();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private void auditSignInFailure(Handle h, UUID userId, UUID passkeyId, String reason, ClientInfo client) {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("reason", reason);
    if (passkeyId != null) {
      details.put("passkeyId", passkeyId.toString());
    }
    audit.record(h, AuditLog.Type.PASSKEY_SIGN_IN_FAILED, userId, null, client.ip(), details);
  }

  /**
   * Credentials for an address without passkeys: deterministic (the same answer every time, as for a real user),
   * derived with a server secret so nobody can tell them from real ids. One or two, like most real accounts.
   */
  private List<Map<String, Object>> pseudoCredentials(String email) {
    byte[] seed = hmac("pseudo-credential-count:" + email);
    int count = 1 + (seed[0] & 1);
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] id = Arrays.copyOf(hmac("pseudo-credential:" + i + ":" + email), 16 + (seed[1 + i] & 1) * 4);
      out.add(descriptor(id, new String[] {"internal", "hybrid"}));
    }
    return out;
  }

  private byte[] hmac(String message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(pseudoCredentialKey, "HmacSHA256"));
      return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  private static Map<String, Object> descriptor(byte[] credentialId, String[] transports) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("type", "public-key");
    d.put("id", B64.encodeToString(credentialId));
    d.put("transports", List.of(transports));
    return d;
  }

  private String userVerification() {
    return config.passkeys().userVerificationRequired() ? "required" : "preferred";
  }

  private List<String> hints() {
    return config.passkeys().platformOnly() ? List.of("client-device") : List.of();
  }

  private Passkey mapPasskey(ResultSet rs, org.jdbi.v3.core.statement.StatementContext ctx) throws SQLException {
    return new Passkey(rs.getObject("id", UUID.class), rs.getString("name"),
        aaguids.name(rs.getObject("aaguid", UUID.class)), Sql.instant(rs, "created_at"), Sql.instant(rs, "last_used_at"),
        rs.getBoolean("backup_state"), List.of((String[]) rs.getArray("transports").getArray()));
  }

  static String validName(String raw) {
    String name = raw.strip();
    if (name.isEmpty() || name.length() > 64 || name.chars().anyMatch(Character::isISOControl)) {
      throw ApiException.badRequest("invalid_name", "A passkey name is 1 to 64 printable characters.");
    }
    return name;
  }

  private static UUID parseId(String id) {
    try {
      return UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      throw notFound();
    }
  }

  private static ApiException notFound() {
    return new ApiException(404, "passkey_not_found", "There is no such passkey on your account.");
  }

  private static ApiException ceremonyNotFound() {
    return ApiException.badRequest("ceremony_not_found", "This ceremony is unknown or was already finished.");
  }

  private static ApiException tooMany() {
    return new ApiException(409, "too_many_passkeys",
        "An account can have at most " + MAX_PASSKEYS_PER_USER + " passkeys. Remove one first.");
  }
}
