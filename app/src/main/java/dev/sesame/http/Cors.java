package dev.sesame.http;

import io.javalin.http.Context;
import java.util.List;

/**
 * CORS for the API: a browser on one of {@code SESAME_ALLOWED_ORIGINS} (e.g. an app embedding {@code <sesame-auth>})
 * may call it; the exact origin is echoed, never {@code *}, and credentials are not shared cross-origin (embedded
 * pages get tokens in the response body). Static assets are public and served with {@code *}.
 */
final class Cors {
  private final List<String> allowedOrigins;

  Cors(List<String> allowedOrigins) {
    this.allowedOrigins = allowedOrigins;
  }

  /** Before every API request: allow the caller's origin if it is on the list. */
  void allow(Context ctx) {
    String origin = ctx.header("Origin");
    if (origin != null && allowedOrigins.contains(origin)) {
      ctx.header("Access-Control-Allow-Origin", origin);
      ctx.header("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate");
    }
    ctx.header("Vary", "Origin");
  }

  /** {@code OPTIONS} preflight: granted to allowed origins only. */
  void preflight(Context ctx) {
    String origin = ctx.header("Origin");
    if (origin == null || !allowedOrigins.contains(origin)) {
      ErrorMapper.write(ctx, 403, "origin_not_allowed", "This origin is not in SESAME_ALLOWED_ORIGINS.");
      return;
    }
    ctx.header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE");
    ctx.header("Access-Control-Allow-Headers", "Authorization, Content-Type, " + RequestAuth.CSRF_HEADER);
    ctx.header("Access-Control-Max-Age", "600");
    ctx.status(204);
  }
}
