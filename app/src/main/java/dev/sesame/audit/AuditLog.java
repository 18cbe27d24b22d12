package dev.sesame.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

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

  public void record(Handle handle, Type type, UUID userId, UUID sessionId, String ip, Map<String, ?> details) {
    String json;
    try {
      json = JSON.writeValueAsString(details);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("audit details must be plain values", e);
    }
    handle.createUpdate("""
            INSERT INTO audit_events (type, user_id, session_id, ip, details)
            VALUES (:type, :userId, :sessionId, :ip, CAST(:details AS jsonb))
            """)
        .bind("type", type.eventName())
        .bind("userId", userId)
        .bind("sessionId", sessionId)
        .bind("ip", ip)
        .bind("details", json)
        .execute();
  }
}
