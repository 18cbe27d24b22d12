package dev.sesame.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * Security-relevant events. Each is written with the caller's {@link Handle}, so it commits or rolls back with the
 * change it describes. Details never hold a secret (tokens, codes, keys).
 */
public final class AuditLog {
  private static final ObjectMapper JSON = new ObjectMapper();

  public enum Type {
    USER_CREATED("user.created"),
    EMAIL_SIGN_IN_SUCCEEDED("email.sign_in.succeeded"),
    EMAIL_SIGN_IN_FAILED("email.sign_in.failed"),
    EMAIL_CODE_GUESSES_LIMITED("email.code_guesses.limited"),
    SESSION_REVOKED("session.revoked"),
    REFRESH_TOKEN_REUSED("refresh_token.reused"),
    PASSKEY_ADDED("passkey.added"),
    PASSKEY_RENAMED("passkey.renamed"),
    PASSKEY_REMOVED("passkey.removed"),
    PASSKEY_SIGN_IN_SUCCEEDED("passkey.sign_in.succeeded"),
    PASSKEY_SIGN_IN_FAILED("passkey.sign_in.failed"),
    PASSKEY_CLONE_SUSPECTED("passkey.clone_suspected"),
    ADMIN_ROLE_GRANTED("admin.role_granted"),
    ADMIN_ROLE_REVOKED("admin.role_revoked"),
    USER_DISABLED("user.disabled"),
    USER_ENABLED("user.enabled"),
    USER_ERASED("user.erased"),
    USER_CREATED_BY_ADMIN("user.created_by_admin"),
    USER_UPDATED("user.updated"),
    USER_SIGN_IN_EMAIL_SENT("user.sign_in_email_sent"),
    /** Written by the outbox's own statement when a message expires undelivered (see Outbox). */
    EMAIL_DELIVERY_FAILED("email.delivery_failed"),
    USER_EMAIL_CHANGE_REQUESTED("user.email_change_requested"),
    USER_EMAIL_CHANGED("user.email_changed"),
    USERS_IMPORTED("users.imported"),
    USERS_EXPORTED("users.exported"),
    CLIENT_CREATED("client.created"),
    CLIENT_UPDATED("client.updated"),
    CLIENT_DELETED("client.deleted"),
    CLIENT_SECRET_ROTATED("client.secret_rotated"),
    WEBHOOK_CREATED("webhook.created"),
    WEBHOOK_DELETED("webhook.deleted"),
    WEBHOOK_SECRET_ROTATED("webhook.secret_rotated"),
    WEBHOOK_ENABLED("webhook.enabled"),
    WEBHOOK_DISABLED("webhook.disabled"),
    WEBHOOK_RESENT("webhook.resent");

    private final String name;

    Type(String name) {
      this.name = name;
    }

    public String eventName() {
      return name;
    }
  }

  /**
   * An event whose user, session and address are filled in by the statement that records it: a session start writes
   * its event in the same statement as the session (one round trip fewer on every sign-in).
   */
  public record Event(Type type, Map<String, ?> details) {}

  /**
   * The INSERT of an event, for use as a data-modifying CTE; binds {@code :auditType}, {@code :auditDetails}
   * (see {@link #bind}) and the statement's own {@code :userId}, {@code :sessionId} and {@code :ip}.
   */
  public static final String INSERT = """
      INSERT INTO audit_events (type, user_id, session_id, ip, details, actor)
      VALUES (:auditType, :userId, :sessionId, :ip, CAST(:auditDetails AS jsonb), :auditActor)""";

  /**
   * {@link #INSERT} once for each row of {@code source} (a CTE with the person's {@code id}), for a statement whose
   * event is recorded only if its other parts went ahead; binds the same parameters but {@code :userId}.
   */
  public static String insertFor(String source) {
    return """
        INSERT INTO audit_events (type, user_id, session_id, ip, details, actor)
        SELECT :auditType, id, :sessionId, :ip, CAST(:auditDetails AS jsonb), :auditActor FROM\s""" + source;
  }

  private final java.util.function.Consumer<Event> observer;

  /** An audit log whose events nobody else watches (the CLI). */
  public AuditLog() {
    this(event -> { });
  }

  /** @param observer told of every event as it is recorded (the metrics count them) */
  public AuditLog(java.util.function.Consumer<Event> observer) {
    this.observer = observer;
  }

  /** Binds {@link #INSERT}'s own parameters. */
  public <S extends SqlStatement<S>> S bind(S statement, Event event) {
    observer.accept(event);
    return statement.bind("auditType", event.type().eventName()).bind("auditDetails", json(event.details()))
        .bind("auditActor", ACTOR.get());
  }

  /** Who is acting on this thread, when it is not the person themselves (an operator). */
  private static final ThreadLocal<String> ACTOR = new ThreadLocal<>();

  /**
   * Runs {@code action} with every audit event it records (by any feature, in any statement on this thread) naming
   * {@code actor}: {@code key:<name>} for a service key, {@code admin:<user id>} for a person in the console,
   * {@code cli} for a command. Requests run on one thread, so the events of an admin action carry its actor.
   */
  public static void actingAs(String actor, Runnable action) {
    actingAs(actor, () -> {
      action.run();
      return null;
    });
  }

  /** {@link #actingAs(String, Runnable)} with a result. */
  public static <T> T actingAs(String actor, java.util.function.Supplier<T> action) {
    String outer = ACTOR.get();
    ACTOR.set(actor);
    try {
      return action.get();
    } finally {
      if (outer == null) {
        ACTOR.remove();
      } else {
        ACTOR.set(outer);
      }
    }
  }

  public void record(Handle handle, Type type, UUID userId, UUID sessionId, String ip, Map<String, ?> details) {
    // bind() tells the observer.
    bind(handle.createUpdate(INSERT), new Event(type, details))
        .bind("userId", userId)
        .bind("sessionId", sessionId)
        .bind("ip", ip)
        .execute();
  }

  private static String json(Map<String, ?> details) {
    try {
      return JSON.writeValueAsString(details);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("audit details must be plain values", e);
    }
  }

  /**
   * Keeps a person's events but nothing that identifies them beyond their (random) user id: the address and the
   * details go (erasing an account).
   */
  public static void pseudonymize(Handle h, UUID userId) {
    h.createUpdate("UPDATE audit_events SET ip = NULL, details = '{}'::jsonb WHERE user_id = :userId")
        .bind("userId", userId).execute();
  }

  /** One event as operators read it. */
  public record Recorded(long id, java.time.Instant occurredAt, String type, UUID userId, UUID sessionId, String ip,
                         String actor, Map<String, Object> details) {}

  /** Filters of the admin audit query; null fields don't filter. */
  public record Query(UUID userId, String type, String ip, java.time.Instant from, java.time.Instant to,
                      Long beforeId) {}

  /** Events matching {@code q}, newest first, at most {@code limit}; keyset paging on the id. One round trip. */
  public static java.util.List<Recorded> query(Handle h, Query q, int limit) {
    StringBuilder sql = new StringBuilder("SELECT id, occurred_at, type, user_id, session_id, ip, actor, "
        + "details::text AS details FROM audit_events WHERE true");
    Map<String, Object> binds = new java.util.HashMap<>();
    if (q.userId() != null) {
      sql.append(" AND user_id = :userId");
      binds.put("userId", q.userId());
    }
    if (q.type() != null) {
      sql.append(" AND type = :type");
      binds.put("type", q.type());
    }
    if (q.ip() != null) {
      sql.append(" AND ip = :ip");
      binds.put("ip", q.ip());
    }
    if (q.from() != null) {
      sql.append(" AND occurred_at >= :from");
      binds.put("from", q.from());
    }
    if (q.to() != null) {
      sql.append(" AND occurred_at < :to");
      binds.put("to", q.to());
    }
    if (q.beforeId() != null) {
      sql.append(" AND id < :beforeId");
      binds.put("beforeId", q.beforeId());
    }
    sql.append(" ORDER BY id DESC LIMIT :limit");
    binds.put("limit", limit);
    return h.createQuery(sql.toString()).bindMap(binds).map((rs, ctx) -> recorded(rs)).list();
  }

  private static Recorded recorded(java.sql.ResultSet rs) throws java.sql.SQLException {
    return new Recorded(rs.getLong("id"), dev.sesame.db.Sql.instant(rs, "occurred_at"), rs.getString("type"),
        rs.getObject("user_id", UUID.class), rs.getObject("session_id", UUID.class), rs.getString("ip"),
        rs.getString("actor"), details(rs.getString("details")));
  }

  /** The newest events of a user, newest first. */
  public static java.util.List<Recorded> recent(Handle h, UUID userId, int limit) {
    return h.createQuery("""
            SELECT id, occurred_at, type, user_id, session_id, ip, actor, details::text AS details
            FROM audit_events WHERE user_id = :userId ORDER BY occurred_at DESC, id DESC LIMIT :limit
            """)
        .bind("userId", userId).bind("limit", limit)
        .map((rs, ctx) -> recorded(rs))
        .list();
  }

  private static Map<String, Object> details(String json) {
    try {
      return JSON.readValue(json, new com.fasterxml.jackson.core.type.TypeReference<>() {});
    } catch (JsonProcessingException e) {
      return Map.of();
    }
  }
}
