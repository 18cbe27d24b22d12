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
  private final dev.sesame.config.NativeApps nativeApps;

  WellKnownEndpoints(AccessTokens accessTokens, Database database, List<String> relatedOrigins,
                     dev.sesame.config.NativeApps nativeApps) {
    this.accessTokens = accessTokens;
    this.database = database;
    this.relatedOrigins = relatedOrigins;
    this.nativeApps = nativeApps;
  }

  /**
   * {@code GET /.well-known/apple-app-site-association}: the iOS apps ({@code SESAME_APPLE_APP_IDS}) that may use this
   * domain's passkeys ({@code webcredentials}, Apple's "Supporting associated domains"). Served as
   * {@code application/json} from this exact path with no redirect, as Apple's CDN fetches it.
   */
  void appleAppSiteAssociation(Context ctx) {
    if (nativeApps.appleAppIds().isEmpty()) {
      ErrorMapper.write(ctx, 404, "not_found", "No iOS apps are configured (SESAME_APPLE_APP_IDS).");
      return;
    }
    ctx.header("Cache-Control", "public, max-age=3600");
    ctx.json(Map.of("webcredentials", Map.of("apps", nativeApps.appleAppIds())));
  }

  /**
   * {@code GET /.well-known/assetlinks.json}: the Android apps ({@code SESAME_ANDROID_APPS}) that may use this
   * domain's passkeys: one Digital Asset Links statement per app with the relation
   * {@code delegate_permission/common.get_login_creds} and the app's certificate fingerprints.
   */
  void assetLinks(Context ctx) {
    if (nativeApps.androidApps().isEmpty()) {
      ErrorMapper.write(ctx, 404, "not_found", "No Android apps are configured (SESAME_ANDROID_APPS).");
      return;
    }
    Map<String, List<String>> byPackage = new java.util.LinkedHashMap<>();
    for (var app : nativeApps.androidApps()) {
      byPackage.computeIfAbsent(app.packageName(), k -> new java.util.ArrayList<>()).add(app.fingerprint());
    }
    List<Map<String, Object>> statements = new java.util.ArrayList<>();
    byPackage.forEach((name, fingerprints) -> {
      Map<String, Object> target = new java.util.LinkedHashMap<>();
      target.put("namespace", "android_app");
      target.put("package_name", name);
      target.put("sha256_cert_fingerprints", fingerprints);
      Map<String, Object> statement = new java.util.LinkedHashMap<>();
      statement.put("relation", List.of("delegate_permission/common.get_login_creds"));
      statement.put("target", target);
      statements.add(statement);
    });
    ctx.header("Cache-Control", "public, max-age=3600");
    ctx.json(statements);
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
