package dev.sesame.http;

import dev.sesame.db.Database;
import dev.sesame.tokens.AccessTokens;
import io.javalin.http.Context;
import java.util.Map;

/** JWKS and the health probes. */
final class WellKnownEndpoints {
  private final AccessTokens accessTokens;
  private final Database database;

  WellKnownEndpoints(AccessTokens accessTokens, Database database) {
    this.accessTokens = accessTokens;
    this.database = database;
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
