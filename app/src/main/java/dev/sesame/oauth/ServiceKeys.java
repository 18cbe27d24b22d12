package dev.sesame.oauth;

import dev.sesame.db.Sql;
import dev.sesame.common.ApiException;
import dev.sesame.common.Secrets;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/**
 * Keys that backend services use to call Sesame, sent as {@code Authorization: Bearer}: token introspection, and
 * with scopes the admin API.
 * Created from the command line, shown once, stored only as a SHA-256 hash; listable and revocable by name.
 */
public final class ServiceKeys {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  static final String PREFIX = "sk_";

  private final Jdbi jdbi;

  public ServiceKeys(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  public record ServiceKey(String name, List<String> scopes, Instant createdAt, Instant lastUsedAt,
                           Instant revokedAt) {}

  /** A live key that authenticated a request: its name (the audit's actor) and what it may do. */
  public record Caller(String name, List<String> scopes) {
    public boolean may(String scope) {
      return scopes.contains(scope);
    }
  }

  /** What a key may do in the admin API besides introspection, which every key may. */
  public static final List<String> SCOPES = List.of("users:read", "users:write", "stats:read", "audit:read",
      "clients:read", "clients:write", "settings:read", "webhooks:read", "webhooks:write", "admins:write");

  /** Creates a key for introspection only and returns it; this is the only time it can be seen. */
  public String create(String name) {
    return create(name, List.of());
  }

  /** Creates a key with admin API {@code scopes} (see {@link #SCOPES}); shown once. */
  public String create(String name, List<String> scopes) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("a service key name is 1-64 of a-z, 0-9, '.', '_', '-', got '" + name + "'");
    }
    for (String scope : scopes) {
      if (!SCOPES.contains(scope)) {
        throw new IllegalArgumentException("scopes may be " + String.join(", ", SCOPES) + "; not '" + scope + "'");
      }
    }
    String key = PREFIX + Secrets.randomToken(32);
    int inserted = jdbi.withHandle(h -> h.createUpdate("""
            INSERT INTO service_keys (name, key_hash, scopes) VALUES (:name, :hash, :scopes)
            ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
            """)
        .bind("name", name).bind("hash", Secrets.sha256(key))
        .bind("scopes", scopes.stream().distinct().toArray(String[]::new)).execute());
    if (inserted == 0) {
      throw new IllegalArgumentException("a service key named '" + name + "' exists already; revoke it first");
    }
    return key;
  }

  public List<ServiceKey> list() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM service_keys ORDER BY name, created_at")
        .map((rs, ctx) -> new ServiceKey(rs.getString("name"), Sql.strings(rs, "scopes"),
            Sql.instant(rs, "created_at"),
            Sql.instant(rs, "last_used_at"),
            Sql.instant(rs, "revoked_at")))
        .list());
  }

  /** Revokes by name; a revoked name can be created again. Returns false when there was no such live key. */
  public boolean revoke(String name) {
    return jdbi.withHandle(h -> h.createUpdate("""
            UPDATE service_keys SET revoked_at = now() WHERE name = :name AND revoked_at IS NULL
            """)
        .bind("name", name).execute()) > 0;
  }

  private static final java.util.Map<String, String> CHALLENGE =
      java.util.Map.of("WWW-Authenticate", "Bearer realm=\"sesame\"");

  /** Checks {@code Authorization: Bearer sk_…}; 401 {@code invalid_client} unless it is a live service key. */
  public Caller authenticate(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer " + PREFIX, 0, 7 + PREFIX.length())) {
      throw new ApiException(401, "invalid_client", "Call this endpoint with 'Authorization: Bearer <service key>'.",
          CHALLENGE);
    }
    byte[] hash = Secrets.sha256(authorization.substring(7).strip());
    return jdbi.withHandle(h -> h.createQuery("""
            UPDATE service_keys SET last_used_at = now() WHERE key_hash = :hash AND revoked_at IS NULL
            RETURNING name, scopes
            """)
        .bind("hash", hash).map((rs, ctx) -> new Caller(rs.getString("name"), Sql.strings(rs, "scopes"))).findOne())
        .orElseThrow(() -> new ApiException(401, "invalid_client", "The service key is not valid.", CHALLENGE));
  }
}
