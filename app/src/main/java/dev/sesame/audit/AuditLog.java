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
    PASSKEY_CLONE_SUSPECTED("passkey.clone_suspected");

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
      INSERT INTO audit_events (type, user_id, session_id, ip, details)
      VALUES (:auditType, :userId, :sessionId, :ip, CAST(:auditDetails AS jsonb))""";

  /** Binds {@link #INSERT}'s own parameters. */
  public static <S extends SqlStatement<S>> S bind(S statement, Event event) {
    return statement.bind("auditType", event.type().eventName()).bind("auditDetails", json(event.details()));
  }

  public void record(Handle handle, Type type, UUID userId, UUID sessionId, String ip, Map<String, ?> details) {
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
}
