package dev.sesame.tokens;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import dev.sesame.common.FastCrypto;
import dev.sesame.config.ConfigException;
import dev.sesame.config.Secret;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.text.ParseException;
import dev.sesame.db.Notifications;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The token signing keys. They live in PostgreSQL (private parts AES-GCM encrypted when a master key is set) so that
 * every node signs with the same key, and are loaded into memory once: nothing on the request path parses a key or
 * reads the key table.
 */
public final class SigningKeys {
  private static final Logger log = LoggerFactory.getLogger(SigningKeys.class);
  /** Any constant: serialises key creation across nodes that start at the same moment. */
  private static final long KEY_LOCK = 0x5e5a_3e00_0001L;
  /** Every node LISTENs here and reloads when a key is created or takes over anywhere. */
  public static final String CHANNEL = "sesame_signing_keys";
  /** How long {@code keys rotate} publishes the new key before it signs: enough for every node to hear of it. */
  public static final Duration ROTATE_PUBLISH = Duration.ofSeconds(5);
  /** A token signed by a key this node does not know makes it look again, at most this often. */
  private static final Duration UNKNOWN_KID_RELOAD = Duration.ofSeconds(5);

  private final Jdbi jdbi;
  private final Optional<KeyEncryption> encryption;
  private final Duration accessTokenTtl;
  private final JWSAlgorithm algorithm;
  private final Duration rotation;
  private final Duration prepublish;
  private volatile KeyRing ring;
  private volatile long lastUnknownKeyReload = System.nanoTime() - UNKNOWN_KID_RELOAD.toNanos();
  private volatile java.util.concurrent.ScheduledExecutorService scheduler;
  private volatile Instant scheduledActivation;

  /**
   * The key that signs now, every public key a still-valid token may have been signed with, and when a published
   * key starts signing (every node reloads at that moment, so they switch together).
   */
  public record KeyRing(String kid, JWSAlgorithm alg, JWSSigner signer, JWKSet publicKeys,
                        Optional<Instant> nextActivation, Map<JWSAlgorithm, ActiveKey> active) {
    /** The key that signs with {@code alg} now (every algorithm in {@link #ALGORITHMS} has one). */
    public ActiveKey signing(JWSAlgorithm alg) {
      ActiveKey key = active.get(alg);
      if (key == null) {
        throw new IllegalArgumentException("no active " + alg + " key");
      }
      return key;
    }
  }

  /** A key that signs now. */
  public record ActiveKey(String kid, JWSAlgorithm alg, JWSSigner signer) {}

  /**
   * Every algorithm has an active key at all times: ES256 and RS256. Access tokens use {@code SESAME_TOKEN_ALG}; ID
   * tokens use what the client registered ({@code id_token_signed_response_alg}, RS256 by default as OpenID Connect
   * requires).
   */
  public static final List<JWSAlgorithm> ALGORITHMS = List.of(JWSAlgorithm.ES256, JWSAlgorithm.RS256);

  private record StoredKey(String kid, String alg, String publicJwk, byte[] privateKey, String encryption,
                           boolean active, Instant activatedAt) {}

  /**
   * @param algorithm {@code ES256} or {@code RS256}: which key signs access tokens (both kinds always exist)
   * @param rotation how long a key signs before a new one takes over
   * @param prepublish how long a new key is published before it signs
   */
  public SigningKeys(Jdbi jdbi, Optional<Secret> masterKey, Duration accessTokenTtl, String algorithm,
                     Duration rotation, Duration prepublish) {
    this.jdbi = jdbi;
    this.encryption = masterKey.map(KeyEncryption::new);
    this.accessTokenTtl = accessTokenTtl;
    this.algorithm = JWSAlgorithm.parse(algorithm);
    this.rotation = rotation;
    this.prepublish = prepublish;
    if (masterKey.isEmpty()) {
      log.warn("SESAME_MASTER_KEY is not set: token signing keys are stored unencrypted in the database");
    }
    this.ring = jdbi.inTransaction(this::loadOrCreate);
  }

  public KeyRing current() {
    return ring;
  }

  /**
   * Re-reads the keys from the database, rotating first when the active key is due. Every node does this each
   * minute, so a rotation by another node or the CLI is picked up without a restart.
   */
  public synchronized void reload() {
    this.ring = jdbi.inTransaction(this::loadOrCreate);
    scheduleActivation(ring);
  }

  /** {@link #reload()}, logging instead of throwing (for background triggers). */
  public void reloadQuietly() {
    try {
      reload();
    } catch (RuntimeException e) {
      log.warn("Reloading signing keys failed, keeping the current ones: {}", e.getMessage());
    }
  }

  /**
   * A token names a key this node does not know: another node may have rotated a moment ago. Reloads, at most once
   * per few seconds (so unknown key ids cannot make every request read the key table); true when the ring changed.
   */
  public boolean reloadForUnknownKey() {
    KeyRing before = ring;
    synchronized (this) {
      if (ring != before) {
        return true; // another thread just reloaded
      }
      if (System.nanoTime() - lastUnknownKeyReload < UNKNOWN_KID_RELOAD.toNanos()) {
        return false;
      }
      lastUnknownKeyReload = System.nanoTime(); // also when it fails: don't hammer a database that is down
      reloadQuietly();
      return ring != before;
    }
  }

  /**
   * The {@code keys rotate} command: a new key of each algorithm is published now and signs on every node from
   * {@code now + publishFor}, when the current one retires (it stays published until its tokens expire). Publishing
   * first means no node ever meets a token signed with a key it has not heard of: each reloads on the notification,
   * and all switch at the same moment. Returns the new key id.
   */
  public String rotate(Duration publishFor) {
    String kid = jdbi.inTransaction(h -> {
      h.execute("SELECT pg_advisory_xact_lock(?)", KEY_LOCK);
      // Keys already waiting to sign are replaced by these.
      h.execute("DELETE FROM signing_keys WHERE retired_at IS NULL AND activated_at > now()");
      String accessKid = null;
      for (JWSAlgorithm alg : ALGORITHMS) {
        StoredKey created = create(h, alg, publishFor);
        log.info("Published {} signing key {}; it signs from {}", alg, created.kid(), created.activatedAt());
        if (alg.equals(algorithm)) {
          accessKid = created.kid();
        }
      }
      Notifications.notify(h, CHANNEL);
      return accessKid;
    });
    reload();
    return kid;
  }

  /** Reloads (and rotates when due) every {@code period}, and at each pending key's activation, until closed. */
  public AutoCloseable startRefresh(Duration period) {
    scheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sesame-signing-keys");
      t.setDaemon(true);
      return t;
    });
    scheduler.scheduleWithFixedDelay(this::reloadQuietly, period.toMillis(), period.toMillis(),
        java.util.concurrent.TimeUnit.MILLISECONDS);
    scheduleActivation(ring);
    return scheduler::shutdownNow;
  }

  private synchronized void scheduleActivation(KeyRing keyRing) {
    java.util.concurrent.ScheduledExecutorService s = scheduler;
    Instant at = keyRing.nextActivation().orElse(null);
    if (s == null || at == null || at.equals(scheduledActivation)) {
      return;
    }
    scheduledActivation = at;
    long delay = Math.max(0, Duration.between(Instant.now(), at).toMillis()) + 50;
    try {
      s.schedule(this::reloadQuietly, delay, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException stopped) {
      // shutting down
    }
  }

  /**
   * The key life cycle, for each algorithm in {@link #ALGORITHMS} on its own, run under a cluster-wide lock by
   * whichever node gets there first:
   * <ol>
   *   <li>a pending key whose time has come takes over: the keys of its algorithm before it are retired;
   *   <li>when the active key is due for rotation, the next key is created <em>pending</em>: published in the JWKS
   *       {@code prepublish} before it signs, so backends have it cached before they meet a token signed with it;
   *   <li>with no active key of an algorithm (first start), one is created and signs at once.
   * </ol>
   */
  private KeyRing loadOrCreate(Handle h) {
    h.execute("SELECT pg_advisory_xact_lock(?)", KEY_LOCK);
    int promoted = h.createUpdate("""
            UPDATE signing_keys old SET retired_at = now()
            WHERE old.retired_at IS NULL
              AND EXISTS (SELECT 1 FROM signing_keys newer
                          WHERE newer.alg = old.alg AND newer.retired_at IS NULL AND newer.activated_at <= now()
                            AND newer.activated_at > old.activated_at)
            """).execute();
    if (promoted > 0) {
      log.info("A pre-published signing key took over; retired {} key(s)", promoted);
    }
    boolean changed = promoted > 0;
    for (JWSAlgorithm alg : ALGORITHMS) {
      boolean hasActive = h.createQuery(
              "SELECT count(*) FROM signing_keys WHERE alg = :alg AND retired_at IS NULL AND activated_at <= now()")
          .bind("alg", alg.getName()).mapTo(Integer.class).one() > 0;
      if (!hasActive) {
        StoredKey created = create(h, alg, Duration.ZERO);
        log.info("Created signing key {} ({})", created.kid(), created.alg());
        changed = true;
        continue;
      }
      boolean due = h.createQuery("""
              SELECT count(*) FROM signing_keys
              WHERE alg = :alg AND retired_at IS NULL AND activated_at <= now()
                AND activated_at < now() - make_interval(secs => :rotation) + make_interval(secs => :prepublish)
                AND NOT EXISTS (SELECT 1 FROM signing_keys p
                                WHERE p.alg = :alg AND p.retired_at IS NULL AND p.activated_at > now())
              """)
          .bind("alg", alg.getName()).bind("rotation", rotation.toSeconds()).bind("prepublish", prepublish.toSeconds())
          .mapTo(Integer.class).one() > 0;
      if (due) {
        StoredKey next = create(h, alg, prepublish);
        log.info("Published the next {} signing key {}; it starts signing in {}", alg, next.kid(), prepublish);
        changed = true;
      }
    }
    List<StoredKey> stored = h.createQuery("""
            SELECT kid, alg, public_jwk, private_key, encryption, activated_at,
                   retired_at IS NULL AND activated_at <= now() AS active
            FROM signing_keys
            WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => :retention)
            ORDER BY activated_at DESC
            """)
        // A retired key stays published until every token it signed has expired; the margin covers nodes that
        // signed with it for up to a minute before they reloaded. Pending keys are published too.
        .bind("retention", accessTokenTtl.getSeconds() + 120)
        .map((rs, ctx) -> new StoredKey(rs.getString("kid"), rs.getString("alg"), rs.getString("public_jwk"),
            rs.getBytes("private_key"), rs.getString("encryption"), rs.getBoolean("active"),
            dev.sesame.db.Sql.instant(rs, "activated_at")))
        .list();
    if (changed) {
      Notifications.notify(h, CHANNEL); // the other nodes publish (or switch to) it now, not at their next look
    }
    Optional<Instant> nextActivation = stored.stream().filter(k -> !k.active()).map(StoredKey::activatedAt)
        .filter(at -> at.isAfter(Instant.now())).min(Instant::compareTo);
    List<JWK> publicKeys = new ArrayList<>();
    for (StoredKey key : stored) {
      publicKeys.add(parsePublic(key));
    }
    Map<JWSAlgorithm, ActiveKey> active = new LinkedHashMap<>();
    for (StoredKey key : stored) {
      JWSAlgorithm alg = JWSAlgorithm.parse(key.alg());
      if (key.active() && !active.containsKey(alg)) {
        active.put(alg, new ActiveKey(key.kid(), alg, signer(h, key)));
      }
    }
    ActiveKey access = active.get(algorithm);
    return new KeyRing(access.kid(), access.alg(), access.signer(), new JWKSet(publicKeys), nextActivation,
        Map.copyOf(active));
  }

  private JWSSigner signer(Handle h, StoredKey key) {
    try {
      JWK publicKey = parsePublic(key);
      PrivateKey privateKey = privateKey(h, key);
      return publicKey instanceof RSAKey
          ? new RSASSASigner(privateKey)
          : new ECDSASigner(new ECKey.Builder((ECKey) publicKey).privateKey(privateKey).build());
    } catch (JOSEException e) {
      throw new IllegalStateException("signing key " + key.kid() + " cannot sign", e);
    }
  }

  private StoredKey create(Handle h, JWSAlgorithm algorithm, Duration startsIn) {
    JWK key;
    byte[] pkcs8;
    try {
      if (algorithm.equals(JWSAlgorithm.RS256)) {
        RSAKey rsa = new RSAKeyGenerator(2048).keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.RS256)
            .keyIDFromThumbprint(true).generate();
        key = rsa;
        pkcs8 = rsa.toPrivateKey().getEncoded();
      } else {
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.ES256)
            .keyIDFromThumbprint(true).generate();
        key = ec;
        pkcs8 = ec.toPrivateKey().getEncoded();
      }
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot generate a " + algorithm + " key", e);
    }
    String kid = key.getKeyID();
    byte[] stored = encryption.map(enc -> enc.encrypt(pkcs8, kid)).orElse(pkcs8);
    String mode = encryption.isPresent() ? "aes-gcm" : "none";
    String publicJwk = key.toPublicJWK().toJSONString();
    Instant activatedAt = h.createQuery("""
            INSERT INTO signing_keys (kid, alg, public_jwk, private_key, encryption, activated_at)
            VALUES (:kid, :alg, :jwk, :key, :enc, now() + make_interval(secs => :startsIn))
            RETURNING activated_at
            """)
        .bind("kid", kid).bind("alg", algorithm.getName()).bind("jwk", publicJwk).bind("key", stored)
        .bind("enc", mode).bind("startsIn", startsIn.toSeconds())
        .map((rs, ctx) -> dev.sesame.db.Sql.instant(rs, "activated_at")).one();
    return new StoredKey(kid, algorithm.getName(), publicJwk, stored, mode, startsIn.isZero(), activatedAt);
  }

  private PrivateKey privateKey(Handle h, StoredKey key) {
    byte[] pkcs8;
    if (key.encryption().equals("aes-gcm")) {
      KeyEncryption enc = encryption.orElseThrow(() -> new ConfigException("SESAME_MASTER_KEY",
          "the stored signing keys are encrypted; set the master key they were stored with"));
      pkcs8 = enc.decrypt(key.privateKey(), key.kid());
    } else {
      pkcs8 = key.privateKey();
      // A master key was added since this key was stored: encrypt it now.
      encryption.ifPresent(enc -> {
        h.createUpdate("UPDATE signing_keys SET private_key = :key, encryption = 'aes-gcm' WHERE kid = :kid")
            .bind("key", enc.encrypt(pkcs8, key.kid())).bind("kid", key.kid()).execute();
        log.info("Encrypted signing key {} with the master key", key.kid());
      });
    }
    try {
      // Loaded once, in the form the fast signature engine uses directly (no conversion per token).
      return FastCrypto.keyFactory(key.alg().startsWith("RS") ? "RSA" : "EC")
          .generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("stored signing key " + key.kid() + " is corrupt", e);
    }
  }

  private static JWK parsePublic(StoredKey key) {
    try {
      return JWK.parse(key.publicJwk());
    } catch (ParseException e) {
      throw new IllegalStateException("stored public key " + key.kid() + " is corrupt", e);
    }
  }
}
