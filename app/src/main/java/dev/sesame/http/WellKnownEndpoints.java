package dev.sesame.http;

import dev.sesame.db.Database;
import dev.sesame.db.DatabaseHealth;
import dev.sesame.tokens.AccessTokens;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;

/** JWKS and the health probes. */
final class WellKnownEndpoints {
  private final AccessTokens accessTokens;
  private final Database database;
  private final List<String> relatedOrigins;
  private final String issuer;

  WellKnownEndpoints(AccessTokens accessTokens, Database database, List<String> relatedOrigins, String issuer) {
    this.accessTokens = accessTokens;
    this.database = database;
    this.relatedOrigins = relatedOrigins;
    this.issuer = issuer;
  }

  /** {@code GET /.well-known/oauth-authorization-server} (RFC 8414): what this server really does. */
  void metadata(Context ctx) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("issuer", issuer);
    m.put("authorization_endpoint", issuer + "/login");
    m.put("token_endpoint", issuer + "/v1/token");
    m.put("jwks_uri", issuer + "/.well-known/jwks.json");
    m.put("userinfo_endpoint", issuer + "/v1/userinfo");
    m.put("introspection_endpoint", issuer + "/v1/introspect");
    m.put("revocation_endpoint", issuer + "/v1/revoke");
    m.put("response_types_supported", List.of("code"));
    m.put("response_modes_supported", List.of("query"));
    m.put("grant_types_supported", List.of("authorization_code", "refresh_token"));
    m.put("code_challenge_methods_supported", List.of("S256"));
    // Registered clients authenticate as they registered; public ones (and the first-party client) with PKCE.
    m.put("token_endpoint_auth_methods_supported", List.of("client_secret_basic", "client_secret_post", "none"));
    m.put("authorization_response_iss_parameter_supported", true); // RFC 9207
    m.put("revocation_endpoint_auth_methods_supported", List.of("none"));
    m.put("introspection_endpoint_auth_methods_supported", List.of("bearer")); // a Sesame service key
    m.put("access_token_signing_alg_values_supported", accessTokens.algorithms());
    ctx.header("Cache-Control", "public, max-age=300");
    ctx.json(m);
  }

  /** {@code GET /.well-known/webauthn}: WebAuthn L3 related origins, when {@code SESAME_RELATED_ORIGINS} is set. */
  void relatedOrigins(Context ctx) {
    if (relatedOrigins.isEmpty()) {
      ErrorMapper.write(ctx, 404, "not_found", "No related origins are configured (SESAME_RELATED_ORIGINS).");
      return;
    }
    ctx.header("Cache-Control", "public, max-age=300");
    ctx.json(Map.of("origins", relatedOrigins));
  }

  /** {@code GET /.well-known/jwks.json}: every key a valid token may be signed with. */
  void jwks(Context ctx) {
    ctx.header("Cache-Control", "public, max-age=300");
    ctx.contentType("application/jwk-set+json").result(ctx.jsonMapper().toJsonString(accessTokens.jwks(), Map.class));
  }

  /**
   * {@code GET /health}: the process is alive and can recover by itself. 200 while a lost embedded database is being
   * started again; 503 once that has failed for {@link #UNRECOVERABLE}, so an orchestrator restarts the container.
   * An external database being away is not this process's fault: that is what {@code /ready} says.
   */
  void health(Context ctx) {
    DatabaseHealth h = database.health();
    if (database.embedded() && !h.up()
        && h.since().isBefore(java.time.Instant.now().minus(UNRECOVERABLE))) {
      ErrorMapper.write(ctx, 503, "unhealthy", "The embedded database could not be started again for "
          + UNRECOVERABLE.toMinutes() + " minutes.");
      return;
    }
    ctx.json(Map.of("status", "up"));
  }

  static final java.time.Duration UNRECOVERABLE = java.time.Duration.ofMinutes(2);

  /**
   * {@code GET /ready}: requests can be served: the database is reachable and writable, as the health probe found it
   * within the last second (no database round trip here).
   */
  void ready(Context ctx) {
    DatabaseHealth h = database.health();
    switch (h.state()) {
      case UP -> ctx.json(Map.of("status", "ready"));
      case READ_ONLY -> {
        ctx.header("Retry-After", Integer.toString(ErrorMapper.DATABASE_RETRY_AFTER));
        ErrorMapper.write(ctx, 503, "not_ready", "The database is read-only.");
      }
      default -> {
        ctx.header("Retry-After", Integer.toString(ErrorMapper.DATABASE_RETRY_AFTER));
        ErrorMapper.write(ctx, 503, "not_ready", "The database is not reachable.");
      }
    }
  }
}
