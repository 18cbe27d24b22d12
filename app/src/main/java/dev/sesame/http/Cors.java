package dev.sesame.http;

import io.javalin.http.Context;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * CORS. The API: a browser on one of {@code SESAME_ALLOWED_ORIGINS} (e.g. an app embedding {@code <sesame-auth>})
 * may call it; the exact origin is echoed, never {@code *}, and credentials are not shared cross-origin (embedded
 * pages get tokens in the response body). The endpoints a browser-based OAuth client calls itself (token, UserInfo,
 * revocation) also answer the {@code web_origins} registered clients declared. Discovery and JWKS are public
 * documents, readable from anywhere ({@code *}), as are the static assets.
 */
final class Cors {
  static final Set<String> CLIENT_PATHS = Set.of("/v1/token", "/v1/userinfo", "/v1/revoke");

  private final List<String> allowedOrigins;
  private final Predicate<String> clientWebOrigin;

  /** @param clientWebOrigin whether a registered client declared the origin in its {@code web_origins} */
  Cors(List<String> allowedOrigins, Predicate<String> clientWebOrigin) {
    this.allowedOrigins = allowedOrigins;
    this.clientWebOrigin = clientWebOrigin;
  }

  private boolean allowed(Context ctx, String origin) {
    return origin != null && (allowedOrigins.contains(origin)
        || (CLIENT_PATHS.contains(ctx.path()) && clientWebOrigin.test(origin)));
  }

  /** Before every API request: allow the caller's origin if it may call this endpoint. */
  void allow(Context ctx) {
    String origin = ctx.header("Origin");
    if (allowed(ctx, origin)) {
      ctx.header("Access-Control-Allow-Origin", origin);
      ctx.header("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate");
    }
    ctx.header("Vary", "Origin");
  }

  /** Before {@code /.well-known/*}: public metadata and keys (Discovery 1.0, RFC 8414), for any origin. */
  void allowAnyone(Context ctx) {
    ctx.header("Access-Control-Allow-Origin", "*");
  }

  /** {@code OPTIONS} preflight: granted to the origins {@link #allow} allows for that path. */
  void preflight(Context ctx) {
    String origin = ctx.header("Origin");
    if (!allowed(ctx, origin)) {
      ErrorMapper.write(ctx, 403, "origin_not_allowed", "This origin may not call " + ctx.path()
          + " (SESAME_ALLOWED_ORIGINS, or a client's web_origins for the OAuth endpoints).");
      return;
    }
    ctx.header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE");
    ctx.header("Access-Control-Allow-Headers", "Authorization, Content-Type, " + RequestAuth.CSRF_HEADER);
    ctx.header("Access-Control-Max-Age", "600");
    ctx.status(204);
  }
}
