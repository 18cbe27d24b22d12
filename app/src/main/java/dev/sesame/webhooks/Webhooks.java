package dev.sesame.webhooks;

import dev.sesame.outbound.Destinations;
import dev.sesame.common.SealedBox;
import dev.sesame.common.Secrets;
import dev.sesame.config.Secret;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jdbi.v3.core.Jdbi;

/**
 * The webhook endpoints an operator registers, and their Standard Webhooks secrets ({@code whsec_} + base64 of 32
 * random bytes), stored sealed under the master key (the sender needs the secret itself to sign; a database dump
 * alone does not give it away).
 */
public final class Webhooks {
  /**
   * The events an endpoint may ask for (empty list: all of them but {@code email.send}, which carries live sign-in
   * codes and links and goes only to endpoints that name it).
   */
  public static final List<String> EVENTS = List.of("user.created", "user.updated", "user.deleted", "user.disabled",
      "signin.succeeded", "signin.failed", "passkey.added", "passkey.removed", "session.revoked", "email.delivery_failed",
      WebhookMailer.EVENT);

  private final Jdbi jdbi;
  private final SealedBox secrets;
  private final Destinations destinations;

  public Webhooks(Jdbi jdbi, Secret masterKey, Destinations destinations) {
    this.jdbi = jdbi;
    this.secrets = new SealedBox(derive(masterKey), "sesame/webhooks/secret/v1", "");
    this.destinations = destinations;
  }

  private static byte[] derive(Secret masterKey) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(masterKey.reveal().getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return mac.doFinal("sesame/webhook-secrets/v1".getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  public record Endpoint(UUID id, String url, List<String> events, boolean enabled, Instant createdAt,
                         String disabledReason, Instant previousSecretUntil) {}

  /** How long a rotated-out secret keeps signing too (receivers update their configuration in the meantime). */
  public static final java.time.Duration ROTATION_OVERLAP = java.time.Duration.ofHours(24);

  private static final String ENDPOINT_COLUMNS =
      "id, url, events, enabled, created_at, disabled_reason, previous_until";

  /** A new endpoint and its secret, shown this once. */
  public record Created(Endpoint endpoint, String secret) {}

  /**
   * Registers {@code url} for {@code events} (empty: all). The URL is https, or http to this machine for development;
   * one that resolves to a private, loopback or link-local address is refused unless such networks are allowed.
   */
  public Created create(String url, List<String> events) {
    URI uri = destinations.check(url);
    for (String event : events) {
      if (!EVENTS.contains(event)) {
        throw new IllegalArgumentException("events may be " + String.join(", ", EVENTS) + "; not '" + event + "'");
      }
    }
    String secret = "whsec_" + Base64.getEncoder().encodeToString(Secrets.randomBytes(32));
    UUID id = UUID.randomUUID();
    Endpoint endpoint = jdbi.withHandle(h -> h.createQuery("""
            INSERT INTO webhook_endpoints (id, url, events, secret) VALUES (:id, :url, :events, :secret)
            RETURNING """ + " " + ENDPOINT_COLUMNS)
        .bind("id", id).bind("url", uri.toString()).bind("events", events.toArray(String[]::new))
        .bind("secret", secrets.seal(secret.getBytes(StandardCharsets.UTF_8)))
        .map((rs, ctx) -> endpoint(rs)).one());
    return new Created(endpoint, secret);
  }

  public List<Endpoint> list() {
    return jdbi.withHandle(h -> h.createQuery(
            "SELECT " + ENDPOINT_COLUMNS + " FROM webhook_endpoints ORDER BY created_at")
        .map((rs, ctx) -> endpoint(rs)).list());
  }

  public Optional<Endpoint> find(UUID id) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + ENDPOINT_COLUMNS + " FROM webhook_endpoints WHERE id = :id")
        .bind("id", id).map((rs, ctx) -> endpoint(rs)).findOne());
  }

  /**
   * A new secret for an endpoint, shown once; the old one keeps signing too (a second signature) for
   * {@link #ROTATION_OVERLAP}, so the receiver can switch without missing a delivery. Empty when there is no such
   * endpoint.
   */
  public Optional<String> rotate(UUID id) {
    String secret = "whsec_" + Base64.getEncoder().encodeToString(Secrets.randomBytes(32));
    int changed = jdbi.withHandle(h -> h.createUpdate("""
            UPDATE webhook_endpoints SET previous_secret = secret, previous_until = now() + make_interval(secs => :overlap),
                                         secret = :secret
            WHERE id = :id""")
        .bind("id", id).bind("overlap", ROTATION_OVERLAP.getSeconds())
        .bind("secret", secrets.seal(secret.getBytes(StandardCharsets.UTF_8))).execute());
    return changed > 0 ? Optional.of(secret) : Optional.empty();
  }

  /** Enables or disables an endpoint (enabling clears why Sesame disabled it); false when there is none. */
  public boolean setEnabled(UUID id, boolean enabled) {
    return jdbi.withHandle(h -> h.createUpdate("""
            UPDATE webhook_endpoints SET enabled = :enabled, disabled_reason = NULL WHERE id = :id""")
        .bind("id", id).bind("enabled", enabled).execute() > 0);
  }

  /** One delivery as operators see it. */
  public record Delivery(long id, String messageId, String eventType, java.util.UUID userId, Instant createdAt,
                         String status, int attempts, Instant nextAttemptAt, Integer lastStatus, String lastError,
                         Instant deliveredAt) {}

  /** The newest deliveries of an endpoint, newest first. */
  public List<Delivery> deliveries(UUID endpointId, int limit) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, message_id, event_type, user_id, created_at, status, attempts, next_attempt_at, last_status,
                   last_error, delivered_at
            FROM webhook_deliveries WHERE endpoint_id = :id ORDER BY id DESC LIMIT :limit""")
        .bind("id", endpointId).bind("limit", limit)
        .map((rs, ctx) -> new Delivery(rs.getLong("id"), rs.getString("message_id"), rs.getString("event_type"),
            rs.getObject("user_id", UUID.class), dev.sesame.db.Sql.instant(rs, "created_at"), rs.getString("status"),
            rs.getInt("attempts"), dev.sesame.db.Sql.instant(rs, "next_attempt_at"),
            (Integer) rs.getObject("last_status"), rs.getString("last_error"),
            dev.sesame.db.Sql.instant(rs, "delivered_at")))
        .list());
  }

  /**
   * Sends a delivery again (the same webhook-id, so a receiver that had it can tell): a new pending delivery of the
   * same message, now. Empty when there is no such delivery of this endpoint.
   */
  public Optional<Long> resend(UUID endpointId, long deliveryId) {
    return jdbi.withHandle(h -> h.createQuery("""
            INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, user_id, payload)
            SELECT endpoint_id, message_id, event_type, user_id, payload FROM webhook_deliveries
            WHERE id = :delivery AND endpoint_id = :endpoint
            RETURNING id""")
        .bind("delivery", deliveryId).bind("endpoint", endpointId).mapTo(Long.class).findOne());
  }

  /** Deletes an endpoint and its pending deliveries; false when there is none. */
  public boolean delete(UUID id) {
    return jdbi.withHandle(h -> h.createUpdate("DELETE FROM webhook_endpoints WHERE id = :id").bind("id", id)
        .execute() > 0);
  }

  /** The secret of an endpoint, for signing. */
  Optional<String> secretOf(String sealed) {
    return secrets.open(sealed, 512).map(b -> new String(b, StandardCharsets.UTF_8));
  }

  private static Endpoint endpoint(java.sql.ResultSet rs) throws java.sql.SQLException {
    Instant previousUntil = dev.sesame.db.Sql.instant(rs, "previous_until");
    return new Endpoint(rs.getObject("id", UUID.class), rs.getString("url"), dev.sesame.db.Sql.strings(rs, "events"),
        rs.getBoolean("enabled"), dev.sesame.db.Sql.instant(rs, "created_at"), rs.getString("disabled_reason"),
        previousUntil != null && previousUntil.isAfter(Instant.now()) ? previousUntil : null);
  }

  /**
   * The Standard Webhooks signature header value: {@code v1,} + base64(HMAC-SHA256(key, id.timestamp.body)), the key
   * being the base64 after {@code whsec_}.
   */
  static String sign(String secret, String messageId, long timestamp, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
      byte[] signature = mac.doFinal((messageId + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8));
      return "v1," + Base64.getEncoder().encodeToString(signature);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
