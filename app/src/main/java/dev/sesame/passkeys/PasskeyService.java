package dev.sesame.passkeys;

import dev.sesame.db.Sql;
import dev.sesame.audit.AuditLog;
import dev.sesame.common.ApiException;
import dev.sesame.common.ClientInfo;
import dev.sesame.common.Outcome;
import dev.sesame.common.Secrets;
import dev.sesame.config.Config;
import dev.sesame.users.EmailAddresses;
import dev.sesame.ratelimit.RateLimiter;
import dev.sesame.sessions.SessionService;
import dev.sesame.sessions.TokenResponse;
import dev.sesame.users.User;
import dev.sesame.users.Users;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
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
  private final SignInChallenges challenges;

  /**
   * @param pseudoCredentialKey HMAC key for the pseudo credentials of addresses without passkeys
   * @param challengeKey AES-256 key that seals sign-in challenges (shared by every node)
   */
  public PasskeyService(Jdbi jdbi, Aaguids aaguids, SessionService sessions, AuditLog audit, Config config,
                        RateLimiter rateLimiter, byte[] pseudoCredentialKey, byte[] challengeKey) {
    this.rateLimiter = rateLimiter;
    this.jdbi = jdbi;
    this.aaguids = aaguids;
    this.sessions = sessions;
    this.audit = audit;
    this.config = config;
    this.pseudoCredentialKey = pseudoCredentialKey.clone();
    this.challenges = new SignInChallenges(challengeKey);
    LinkedHashSet<String> origins = new LinkedHashSet<>(config.allowedOrigins());
    origins.addAll(config.passkeys().relatedOrigins());
    // Android apps' Credential Manager names the app's signing key as the origin; only the listed apps are accepted.
    origins.addAll(config.passkeys().nativeApps().androidOrigins());
    this.verifier = new WebAuthnVerifier(origins, config.rpId(), config.passkeys().userVerificationRequired(),
        config.passkeys().verifyAttestation());
  }

  private final RateLimiter rateLimiter;

  /** A passkey as its owner sees it. */
  /** A passkey as its owner and operators see it; {@code automatic}: made by an automatic upgrade. */
  public record Passkey(UUID id, String name, String provider, Instant createdAt, Instant lastUsedAt,
                        boolean backedUp, List<String> transports, boolean automatic) {}

  /**
   * Options for the browser: {@code publicKey} is WebAuthn L3 JSON, ready for {@code parse…OptionsFromJSON}.
   * {@code ceremonyId} is opaque: a row id for registration, a sealed challenge for sign-in.
   */
  public record Options(String ceremonyId, Map<String, Object> publicKey) {}

  private enum CeremonyType { REGISTRATION, AUTHENTICATION }

  private record Ceremony(byte[] challenge, String name, boolean conditional) {}

  // ---- registration -----------------------------------------------------------------------------------------------

  /**
   * §5.4 PublicKeyCredentialCreationOptions for {@code user}, who must be signed in. {@code conditional}: for an
   * automatic upgrade (conditional create, L3 §5.1.3): user verification is only preferred (the browser asks nothing
   * of the person), and the ceremony remembers it is one.
   */
  public Options startRegistration(User user, String name, boolean conditional) {
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
      byte[] userHandle = Users.webauthnUserHandle(h, user.id());
      insertCeremony(h, ceremonyId, CeremonyType.REGISTRATION, challenge, user.id(), requestedName, conditional);

      Map<String, Object> selection = new LinkedHashMap<>();
      selection.put("residentKey", "required"); // discoverable: usernameless sign-in and autofill need it
      selection.put("requireResidentKey", true);
      selection.put("userVerification", conditional ? "preferred" : userVerification());
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
    return new Options(ceremonyId.toString(), publicKey);
  }

  /**
   * §7.1: verifies the new credential and stores it as a passkey of {@code userId}; {@code sessionId} is the session
   * that added it (its audit event names it: the dashboard's passkey-offer acceptance).
   */
  public Passkey finishRegistration(UUID userId, UUID sessionId, String ceremonyId, String credentialJson,
                                    String name, ClientInfo client) {
    String requestedName = name == null ? null : validName(name);
    Outcome<Passkey> outcome = jdbi.inTransaction(h -> {
      Ceremony ceremony;
      try {
        ceremony = consume(h, ceremonyId, CeremonyType.REGISTRATION, userId);
      } catch (ApiException e) {
        return Outcome.refused(e);
      }
      // The user's row is the lock that makes the cap hold under concurrent registrations: counted after it is
      // taken, the count includes every registration that committed before.
      Users.lock(h, userId).orElseThrow();
      int count = h.createQuery("SELECT count(*) FROM passkeys WHERE user_id = :userId").bind("userId", userId)
          .mapTo(Integer.class).one();
      if (count >= MAX_PASSKEYS_PER_USER) {
        return Outcome.refused(tooMany());
      }
      WebAuthnVerifier.VerifiedRegistration verified;
      try {
        verified = verifier.verifyRegistration(credentialJson, ceremony.challenge(), ceremony.conditional());
      } catch (ApiException e) {
        return Outcome.refused(e); // the ceremony stays used up
      }
      String provider = aaguids.name(verified.aaguid());
      String passkeyName = requestedName != null ? requestedName
          : ceremony.name() != null ? ceremony.name() : provider;
      UUID id = UUID.randomUUID();
      Optional<Passkey> inserted = h.createQuery("""
              INSERT INTO passkeys (id, user_id, credential_id, public_key, algorithm, sign_count, transports, aaguid,
                                    backup_eligible, backup_state, uv_initialized, attestation_format, name,
                                    created_automatically)
              VALUES (:id, :userId, :credentialId, :publicKey, :alg, :signCount, :transports, :aaguid,
                      :be, :bs, :uv, :fmt, :name, :automatic)
              ON CONFLICT (credential_id) DO NOTHING
              RETURNING *
              """)
          .bind("id", id).bind("userId", userId).bind("credentialId", verified.credentialId())
          .bind("publicKey", verified.coseKey()).bind("alg", verified.algorithm())
          .bind("signCount", verified.signCount()).bind("transports", verified.transports().toArray(String[]::new))
          .bind("aaguid", verified.aaguid()).bind("be", verified.backupEligible()).bind("bs", verified.backupState())
          .bind("uv", verified.userVerified()).bind("fmt", verified.attestationFormat()).bind("name", passkeyName)
          .bind("automatic", ceremony.conditional())
          .map(this::mapPasskey).findOne();
      if (inserted.isEmpty()) {
        // §7.1 step 26: a credential id is registered once, across all users.
        return Outcome.refused(new ApiException(409, "credential_exists",
            "This passkey is already registered."));
      }
      audit.record(h, AuditLog.Type.PASSKEY_ADDED, userId, sessionId, client.ip(), Map.of("passkeyId", id.toString(),
          "provider", provider, "attestationFormat", verified.attestationFormat(),
          "automatic", ceremony.conditional()));
      return Outcome.ok(inserted.get());
    });
    return outcome.get();
  }

  // ---- sign-in ----------------------------------------------------------------------------------------------------

  /**
   * §5.5 PublicKeyCredentialRequestOptions. Without an email, {@code allowCredentials} is empty: discoverable sign-in,
   * also used for autofill. With an email, the user's credentials; for an address with no account or no passkey, the
   * answer has the same shape with pseudo credential ids (§14.6.3), so it reveals nothing. No row is written: the
   * ceremony id is the sealed challenge with whom it is for (one read, for an email; none without).
   */
  public Options startSignIn(String rawEmail) {
    byte[] challenge = Secrets.randomBytes(32);
    List<Map<String, Object>> allow = new ArrayList<>();
    SignInChallenges.Audience audience = SignInChallenges.Audience.ANYONE;
    if (rawEmail != null) {
      String email = EmailAddresses.normalize(rawEmail);
      AllowList found = allowList(email);
      allow.addAll(found.descriptors());
      audience = found.userId().map(SignInChallenges.Audience::of).orElse(SignInChallenges.Audience.NOBODY);
    }
    Instant expiresAt = Instant.now().plus(config.passkeys().ceremonyTtl());
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("challenge", B64.encodeToString(challenge));
    options.put("timeout", config.passkeys().ceremonyTtl().toMillis());
    options.put("rpId", config.rpId());
    options.put("allowCredentials", allow);
    options.put("userVerification", userVerification());
    options.put("hints", hints());
    return new Options(challenges.seal(challenge, expiresAt, audience), options);
  }

  /** The credentials to list for an address, and whose they are (empty for pseudo credentials). */
  private record AllowList(Optional<UUID> userId, List<Map<String, Object>> descriptors) {}

  /**
   * The address's passkeys; for an address without any, pseudo credentials shaped like a real account's. The shape
   * (how many, each id's length, the transports) is copied from one real user picked by a keyed hash of the address:
   * uniformly among users with passkeys (each is found through their first passkey's random id), so across many
   * addresses the answers have the distribution of real answers, and for one address the same answer each time.
   * The ids themselves are keyed hashes of the address. One statement either way.
   */
  private AllowList allowList(String email) {
    byte[] seed = hmac("pseudo-credential-owner:" + email);
    UUID seedId = uuid(seed);
    List<Map<String, Object>> rows = jdbi.withHandle(h -> h.createQuery("""
            WITH own AS (
              SELECT p.user_id, p.credential_id, p.transports, p.created_at
              FROM passkeys p JOIN users u ON u.id = p.user_id
              WHERE lower(u.email) = lower(:email)),
            model AS (
              SELECT user_id FROM (
                (SELECT f.user_id, 0 AS pass, f.id FROM passkeys f
                 WHERE f.id >= :seed AND NOT EXISTS (SELECT 1 FROM own)
                   AND NOT EXISTS (SELECT 1 FROM passkeys e WHERE e.user_id = f.user_id
                                   AND (e.created_at, e.id) < (f.created_at, f.id))
                 ORDER BY f.id LIMIT 1)
                UNION ALL
                (SELECT f.user_id, 1 AS pass, f.id FROM passkeys f
                 WHERE NOT EXISTS (SELECT 1 FROM own)
                   AND NOT EXISTS (SELECT 1 FROM passkeys e WHERE e.user_id = f.user_id
                                   AND (e.created_at, e.id) < (f.created_at, f.id))
                 ORDER BY f.id LIMIT 1)) candidates
              ORDER BY pass LIMIT 1)
            SELECT user_id, credential_id, transports, NULL::int AS pseudo_length, created_at FROM own
            UNION ALL
            SELECT NULL, NULL, m.transports, length(m.credential_id), m.created_at
            FROM passkeys m WHERE m.user_id = (SELECT user_id FROM model)
            ORDER BY created_at
            """)
        .bind("email", email).bind("seed", seedId)
        .mapToMap().list());
    if (!rows.isEmpty() && rows.get(0).get("pseudo_length") == null) {
      List<Map<String, Object>> own = rows.stream()
          .map(r -> descriptor((byte[]) r.get("credential_id"), transports(r.get("transports")))).toList();
      return new AllowList(Optional.of((UUID) rows.get(0).get("user_id")), own);
    }
    List<Map<String, Object>> pseudo = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      int length = ((Number) rows.get(i).get("pseudo_length")).intValue();
      pseudo.add(descriptor(pseudoId(email, i, length), transports(rows.get(i).get("transports"))));
    }
    if (pseudo.isEmpty()) {
      // No passkey exists on this server yet: nothing to tell apart.
      pseudo.add(descriptor(pseudoId(email, 0, 16), new String[] {"internal", "hybrid"}));
    }
    return new AllowList(Optional.empty(), pseudo);
  }

  private record Owned(UUID passkeyId, UUID userId, byte[] userHandle, WebAuthnVerifier.StoredCredential stored) {}

  /**
   * §7.2: verifies the assertion and starts a session for the passkey's owner, in two round trips and no explicit
   * transaction. The first statement spends the challenge (a failed attempt uses it up too; a concurrent attempt with
   * the same one finds it spent) and reads the credential; after verifying, the second writes everything at once or
   * nothing: the new counter (the clone check repeated in its {@code WHERE}, against the newest stored value), the
   * user's sign-in (not if disabled meanwhile), the session, its refresh token and the audit event.
   */
  public SignedIn finishSignIn(String ceremonyId, String credentialJson, ClientInfo client) {
    WebAuthnVerifier.Assertion assertion = verifier.parseAssertion(credentialJson);
    SignInChallenges.Challenge ceremony = challenges.open(ceremonyId)
        .orElseThrow(() -> ceremonyRefusalForSignIn(ceremonyId));
    if (ceremony.expiresAt().isBefore(Instant.now())) {
      throw ApiException.badRequest("ceremony_expired", "This ceremony has expired. Start again.");
    }
    // The LATERAL sub-select keeps one row, so "spent" and "unknown credential" stay distinguishable.
    // Attempts per client address (SESAME_RATE_LIMIT_IP) are counted in the same statement: every attempt spends a
    // challenge and may write a session, so they are limited like email sign-ins.
    String ipBucket = "passkey-sign-in:ip:" + client.ip();
    Map<String, Object> r = jdbi.withHandle(h -> RateLimiter.bindCte(h.createQuery("""
            WITH spent AS (
              INSERT INTO used_challenges (challenge, expires_at) VALUES (:challenge, :expiresAt)
              ON CONFLICT DO NOTHING RETURNING 1),
            """ + RateLimiter.cte("ipAllowed", ":ipBucket", "(SELECT 1) one") + """

            SELECT EXISTS (SELECT 1 FROM spent) AS fresh, EXISTS (SELECT 1 FROM ipAllowed) AS ip_allowed, k.*
            FROM (SELECT 1) one LEFT JOIN LATERAL (
              SELECT p.id AS passkey_id, p.user_id, p.credential_id, p.public_key, p.sign_count, p.backup_eligible,
                     p.backup_state, p.uv_initialized, p.transports, p.aaguid, u.webauthn_user_handle,
                     u.disabled_at IS NOT NULL AS disabled,
                     (SELECT array_agg(q.credential_id ORDER BY q.created_at) FROM passkeys q
                      WHERE q.user_id = p.user_id) AS accepted
              FROM passkeys p JOIN users u ON u.id = p.user_id
              WHERE p.credential_id = :credentialId) k ON true
            """), "ipAllowed", config.ipLimit())
        .bind("ipBucket", ipBucket)
        .bind("challenge", ceremony.challenge()).bind("expiresAt", ceremony.expiresAt())
        .bind("credentialId", assertion.credentialId())
        .mapToMap().one());
    if (!(Boolean) r.get("fresh")) {
      throw ceremonyNotFound();
    }
    if (!(Boolean) r.get("ip_allowed")) {
      throw rateLimiter.refusedInStatement(ipBucket, config.ipLimit());
    }
    if (r.get("passkey_id") == null) {
      // §7.2 step 6: the credential must be known. The browser may drop it (signalUnknownCredential).
      throw refuseSignIn(null, null, "unknown_credential", client, ApiException.unauthorized("unknown_credential",
          "This passkey is not registered here. It may have been removed."));
    }
    Owned owned = new Owned((UUID) r.get("passkey_id"), (UUID) r.get("user_id"),
        (byte[]) r.get("webauthn_user_handle"), new WebAuthnVerifier.StoredCredential(
        (byte[]) r.get("credential_id"), (byte[]) r.get("public_key"), ((Number) r.get("sign_count")).longValue(),
        (Boolean) r.get("backup_eligible"), (Boolean) r.get("backup_state"), (Boolean) r.get("uv_initialized"),
        new LinkedHashSet<>(Sql.strings(r.get("transports"))), (UUID) r.get("aaguid")));
    if (Boolean.TRUE.equals(r.get("disabled"))) {
      // A disabled account: the answer of another refused passkey, nothing more (not "unknown", which would make
      // the browser forget the passkey).
      throw refuseSignIn(owned, "account_disabled", client, disabledRefusal());
    }
    SignInChallenges.Audience audience = ceremony.audience();
    if (audience.hinted() && !audience.userId().map(owned.userId()::equals).orElse(false)) {
      // §7.2 step 5: options that listed one person's passkeys are answered by one of them, nobody else's.
      throw refuseSignIn(owned, "credential_not_allowed", client, ApiException.unauthorized("credential_not_allowed",
          "This passkey is not one the sign-in asked for. Start again and choose the passkey for this account."));
    }
    byte[] userHandle = assertion.userHandle();
    boolean present = userHandle != null && userHandle.length > 0;
    if (!present && !audience.hinted()) {
      // §7.2 step 6: without an allow-list the user handle identifies the account, so it must be there.
      throw refuseSignIn(owned, "user_handle_missing", client, ApiException.unauthorized("user_handle_missing",
          "The passkey did not say which account it belongs to."));
    }
    if (present && !Secrets.constantTimeEquals(userHandle, owned.userHandle())) {
      // §7.2 step 6: the user handle, when present, must be the credential owner's.
      throw refuseSignIn(owned, "user_handle_mismatch", client, ApiException.unauthorized("user_handle_mismatch",
          "The passkey's user handle does not belong to its owner."));
    }
    WebAuthnVerifier.VerifiedAssertion verified;
    try {
      verified = verifier.verifyAssertion(assertion, ceremony.challenge(), owned.stored());
    } catch (ApiException e) {
      throw e.code().equals("credential_cloned") ? refuseAsCloned(owned, owned.stored().signCount(), client, e)
          : refuseSignIn(owned, e.code(), client, e);
    }
    // RFC 8176: "swk" for a synced (backed-up) passkey, "hwk" for a device-bound one; "user" when UV was done.
    List<String> amr = new ArrayList<>(List.of(verified.backupState() ? "swk" : "hwk"));
    if (verified.userVerified()) {
      amr.add("user");
    }
    SessionService.Starting session = sessions.starting("passkey", amr, client, new AuditLog.Event(
        AuditLog.Type.PASSKEY_SIGN_IN_SUCCEEDED, Map.of("passkeyId", owned.passkeyId().toString())));
    // §7.2 steps 21-23 and the sign-in, one statement. The counter moves only forward (or stays 0 for a passkey
    // that keeps none) from the value stored now: a concurrent sign-in that stored a higher one makes this one a
    // clone suspect, as the locked read did before.
    // Successful sign-ins per account (SESAME_RATE_LIMIT_SIGN_IN) in the same statement: each writes a session.
    // Counted only once the assertion verified, so nobody can use up another person's allowance.
    String accountBucket = "passkey-sign-in:user:" + owned.userId();
    Map<String, Object> w = jdbi.withHandle(h -> RateLimiter.bindCte(session.bind(h.createQuery("WITH "
            + RateLimiter.cte("accountAllowed", ":accountBucket", "(SELECT 1) one") + """
            ,
            used AS (
              UPDATE passkeys SET sign_count = :signCount, backup_state = :bs, last_used_at = now()
              WHERE id = :id AND (sign_count < :signCount OR (sign_count = 0 AND :signCount = 0))
                AND EXISTS (SELECT 1 FROM accountAllowed)
              RETURNING sign_count),
            signed AS (""" + Users.recordSignInIf("EXISTS (SELECT 1 FROM used)") + ")" + session.ctes("signed") + """
            SELECT EXISTS (SELECT 1 FROM accountAllowed) AS allowed, EXISTS (SELECT 1 FROM used) AS counted, signed.*
            FROM (SELECT 1) one LEFT JOIN signed ON true
            """)), "accountAllowed", config.passkeySignInLimit())
        .bind("accountBucket", accountBucket)
        .bind("signCount", verified.signCount()).bind("bs", verified.backupState()).bind("id", owned.passkeyId())
        .bind("userId", owned.userId())
        .map((rs, ctx) -> {
          Map<String, Object> out = new java.util.HashMap<>();
          out.put("allowed", rs.getBoolean("allowed"));
          out.put("counted", rs.getBoolean("counted"));
          out.put("user", rs.getObject("id") == null ? null : Users.map(rs));
          return out;
        })
        .one());
    if (!(Boolean) w.get("allowed")) {
      throw rateLimiter.refusedInStatement(accountBucket, config.passkeySignInLimit());
    }
    if (!(Boolean) w.get("counted")) {
      // Removed meanwhile, or another sign-in stored a counter at least as high (the rare path: one more read).
      Optional<Long> stored = jdbi.withHandle(h -> h.createQuery("SELECT sign_count FROM passkeys WHERE id = :id")
          .bind("id", owned.passkeyId()).mapTo(Long.class).findOne());
      if (stored.isEmpty()) {
        throw refuseSignIn(owned, "unknown_credential", client, ApiException.unauthorized("unknown_credential",
            "This passkey is not registered here. It may have been removed."));
      }
      throw refuseAsCloned(owned, stored.get(), client, verifier.clonedRefusal());
    }
    User user = (User) w.get("user");
    if (user == null) {
      throw refuseSignIn(owned, "account_disabled", client, disabledRefusal());
    }
    // The person's passkeys as they are now, read by the first statement (no extra round trip): the browser drops
    // the ones removed elsewhere from its password manager (signalAllAcceptedCredentials).
    return new SignedIn(session.respond(user), signals(owned.userHandle(), user.email(),
        Sql.byteArrays(r.get("accepted"))));
  }

  /** Records a refused sign-in (its own statement: the challenge is spent already) and returns the refusal. */
  private ApiException refuseSignIn(Owned owned, String reason, ClientInfo client, ApiException refusal) {
    return refuseSignIn(owned.userId(), owned.passkeyId(), reason, client, refusal);
  }

  private ApiException refuseSignIn(UUID userId, UUID passkeyId, String reason, ClientInfo client,
                                    ApiException refusal) {
    jdbi.useHandle(h -> auditSignInFailure(h, userId, passkeyId, reason, client));
    return refusal;
  }

  /** A counter that did not move forward: the refusal, its event and the clone warning, in one transaction. */
  private ApiException refuseAsCloned(Owned owned, long storedSignCount, ClientInfo client, ApiException refusal) {
    jdbi.useTransaction(h -> {
      auditSignInFailure(h, owned.userId(), owned.passkeyId(), refusal.code(), client);
      audit.record(h, AuditLog.Type.PASSKEY_CLONE_SUSPECTED, owned.userId(), null, client.ip(),
          Map.of("passkeyId", owned.passkeyId().toString(), "storedSignCount", storedSignCount));
    });
    return refusal;
  }

  /** A passkey sign-in: the tokens, and what the browser should tell its password manager ({@link #signals}). */
  public record SignedIn(TokenResponse tokens, Map<String, Object> webauthn) {}

  /**
   * The WebAuthn Signal API's arguments (L3 §5.1.10) for one person: {@code rpId} and {@code userId} (the user handle,
   * base64url), {@code allAcceptedCredentialIds} (for {@code signalAllAcceptedCredentials}: every passkey the server
   * still accepts; a password manager drops this account's others) and {@code name}/{@code displayName} (for
   * {@code signalCurrentUserDetails}: the address the account now signs in with).
   */
  public Map<String, Object> signals(byte[] userHandle, String email, List<byte[]> credentialIds) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rpId", config.rpId());
    out.put("userId", B64.encodeToString(userHandle));
    out.put("allAcceptedCredentialIds", credentialIds.stream().map(B64::encodeToString).toList());
    out.put("name", email);
    out.put("displayName", email);
    return out;
  }

  /** The Signal API's arguments for a signed-in person (the account page, an email sign-in): one round trip. */
  public Map<String, Object> signals(User user) {
    return signals(user.id(), user.email());
  }

  /** {@link #signals(User)} by id and current address. */
  public Map<String, Object> signals(UUID userId, String email) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT u.webauthn_user_handle,
                   (SELECT array_agg(p.credential_id ORDER BY p.created_at) FROM passkeys p WHERE p.user_id = u.id)
                     AS accepted
            FROM users u WHERE u.id = :id""")
        .bind("id", userId)
        .map((rs, ctx) -> signals(rs.getBytes("webauthn_user_handle"), email,
            Sql.byteArrays(rs.getArray("accepted"))))
        .one());
  }

  /** A sign-in ceremony id that does not open: a registration ceremony's id, or nothing this server issued. */
  private ApiException ceremonyRefusalForSignIn(String ceremonyId) {
    UUID id;
    try {
      id = UUID.fromString(ceremonyId);
    } catch (IllegalArgumentException e) {
      return ceremonyNotFound(); // garbage or a tampered sealed id: no database work for it
    }
    return jdbi.withHandle(h -> ceremonyRefusal(h, id, CeremonyType.AUTHENTICATION));
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

  /** What a disabled account's passkey sign-in gets: the answer of another refused passkey, nothing more. */
  private static ApiException disabledRefusal() {
    return ApiException.unauthorized("credential_not_allowed",
        "This passkey is not one the sign-in asked for. Start again and choose the passkey for this account.");
  }

  // ---- helpers ----------------------------------------------------------------------------------------------------

  /** Pending registration ceremonies a user may have at once; starting one more drops their oldest. */
  static final int MAX_PENDING_REGISTRATIONS = MAX_PASSKEYS_PER_USER;

  /**
   * Stores a registration ceremony and, in the same statement, drops the user's oldest pending ones beyond
   * {@link #MAX_PENDING_REGISTRATIONS}: a signed-in user cannot fill the table by asking for options in a loop.
   */
  private void insertCeremony(Handle h, UUID id, CeremonyType type, byte[] challenge, UUID userId, String name,
                              boolean conditional) {
    h.createUpdate("""
            WITH dropped AS (
              DELETE FROM webauthn_ceremonies WHERE id IN (
                SELECT id FROM webauthn_ceremonies WHERE user_id = :userId
                ORDER BY created_at DESC, id OFFSET :keep))
            INSERT INTO webauthn_ceremonies (id, type, challenge, user_id, name, expires_at, conditional)
            VALUES (:id, :type, :challenge, :userId, :name, now() + make_interval(secs => :ttl), :conditional)
            """)
        .bind("id", id).bind("type", type.name().toLowerCase()).bind("challenge", challenge).bind("userId", userId)
        .bind("name", name).bind("ttl", config.passkeys().ceremonyTtl().toSeconds()).bind("conditional", conditional)
        .bind("keep", MAX_PENDING_REGISTRATIONS - 1)
        .execute();
  }

  /**
   * Takes the ceremony out of the database if it is of {@code type} and (for registration) belongs to
   * {@code userId}. A ceremony of another type or user is left alone, so it can't be destroyed by someone else.
   */
  private Ceremony consume(Handle h, String ceremonyId, CeremonyType type, UUID userId) {
    if (challenges.open(ceremonyId).isPresent()) {
      throw ApiException.badRequest("ceremony_type_mismatch", "This ceremony is for authentication, not registration.");
    }
    UUID id = parseCeremonyId(ceremonyId);
    Optional<Map<String, Object>> row = h.createQuery("""
            DELETE FROM webauthn_ceremonies
            WHERE id = :id AND type = :type AND user_id IS NOT DISTINCT FROM :userId
            RETURNING challenge, name, conditional, expires_at < now() AS expired
            """)
        .bind("id", id).bind("type", type.name().toLowerCase()).bind("userId", userId)
        .mapToMap().findOne();
    if (row.isEmpty()) {
      throw ceremonyRefusal(h, id, type);
    }
    if ((Boolean) row.get().get("expired")) {
      throw ApiException.badRequest("ceremony_expired", "This ceremony has expired. Start again.");
    }
    return new Ceremony((byte[]) row.get().get("challenge"), (String) row.get().get("name"),
        Boolean.TRUE.equals(row.get().get("conditional")));
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

  private static String[] transports(Object sqlArray) {
    return Sql.strings(sqlArray).toArray(String[]::new);
  }

  private void auditSignInFailure(Handle h, UUID userId, UUID passkeyId, String reason, ClientInfo client) {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("reason", reason);
    if (passkeyId != null) {
      details.put("passkeyId", passkeyId.toString());
    }
    audit.record(h, AuditLog.Type.PASSKEY_SIGN_IN_FAILED, userId, null, client.ip(), details);
  }

  /** A pseudo credential id of {@code length} bytes: keyed hashes of the address, as long as asked. */
  private byte[] pseudoId(String email, int index, int length) {
    byte[] out = new byte[length];
    for (int block = 0, filled = 0; filled < length; block++) {
      byte[] part = hmac("pseudo-credential:" + index + ":" + block + ":" + email);
      int n = Math.min(part.length, length - filled);
      System.arraycopy(part, 0, out, filled, n);
      filled += n;
    }
    return out;
  }

  private static UUID uuid(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    return new UUID(b.getLong(), b.getLong());
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
        rs.getBoolean("backup_state"), List.of((String[]) rs.getArray("transports").getArray()),
        rs.getBoolean("created_automatically"));
  }

  static String validName(String raw) {
    String name = raw.strip();
    if (name.isEmpty() || name.length() > 64 || !dev.sesame.common.DisplayText.readable(name)) {
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
