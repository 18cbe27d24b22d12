package dev.sesame.http;

import dev.sesame.db.Database;
import dev.sesame.tokens.AccessTokens;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;

/** JWKS and the health probes. */
final class WellKnownEndpoints {
  private final AccessTokens accessTokens;
  private final Database database;
  private final List<String> relatedOrigins;

  WellKnownEndpoints(AccessTokens accessTokens, Database database, List<String> relatedOrigins) {
    this.accessTokens = accessTokens;
    this.database = database;
    this.relatedOrigins = relatedOrigins;
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

  /** {@code GET /health}: the process is up. */
  void health(Context ctx) {
    ctx.json(Map.of("status", "up"));
  }

  /** {@code GET /ready}: the database answers, so requests can be served. */
  void ready(Context ctx) {
    if (database.isReachable()) {
      ctx.json(Map.of("status", "ready"));
    } else {
      ErrorMapper.write(ctx, 503, "not_ready", "The database is not reachable.");
    }
  }
}
