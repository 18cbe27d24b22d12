package dev.sesame.http;

import dev.sesame.config.Config;
import dev.sesame.sessions.TokenResponse;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import java.util.Map;
import java.util.Optional;

/**
 * The session of Sesame's own pages, kept in cookies on Sesame's origin: the access token for every endpoint, the
 * refresh token only for {@code /v1/sessions}. HttpOnly, {@code SameSite=Lax}, and {@code Secure} with the
 * {@code __Host-} prefix when the public URL is https. A page asks for cookie mode with
 * {@code X-Sesame-Session: cookie} on a same-origin sign-in; the refresh token then stays out of the JSON body.
 */
public final class SessionCookies {
  public static final String REQUEST_HEADER = "X-Sesame-Session";
  private static final String REFRESH_PATH = "/v1/sessions";

  private final boolean secure;
  private final String accessName;
  private final String refreshName;
  private final String ownOrigin;
  private final int accessMaxAge;
  private final int refreshMaxAge;

  public SessionCookies(Config config) {
    this.secure = config.https();
    String prefix = secure ? "__Host-" : "";
    // __Host- requires Path=/, so the refresh cookie (narrower path) uses __Secure- instead.
    this.accessName = prefix + "sesame_at";
    this.refreshName = (secure ? "__Secure-" : "") + "sesame_rt";
    this.ownOrigin = originOf(config);
    this.accessMaxAge = (int) config.accessTokenTtl().toSeconds();
    this.refreshMaxAge = (int) config.refreshTokenTtl().toSeconds();
  }

  /** The page on Sesame's own origin asked to keep the session in cookies. */
  public boolean requested(Context ctx) {
    return "cookie".equalsIgnoreCase(ctx.header(REQUEST_HEADER)) && ownOrigin.equals(ctx.header("Origin"));
  }

  /** Answers a sign-in: sets the cookies in cookie mode (and leaves the refresh token out of the body). */
  public void respond(Context ctx, TokenResponse tokens) {
    respond(ctx, tokens, Map.of());
  }

  public void respond(Context ctx, TokenResponse tokens, Map<String, Object> extra) {
    boolean cookies = requested(ctx);
    if (cookies) {
      ctx.cookie(cookie(accessName, tokens.accessToken(), "/", accessMaxAge));
      ctx.cookie(cookie(refreshName, tokens.refreshToken(), REFRESH_PATH, refreshMaxAge));
    }
    Map<String, Object> body = tokens.body(!cookies);
    body.putAll(extra);
    ctx.json(body);
  }

  public Optional<String> accessToken(Context ctx) {
    return Optional.ofNullable(ctx.cookie(accessName)).filter(v -> !v.isBlank());
  }

  public Optional<String> refreshToken(Context ctx) {
    return Optional.ofNullable(ctx.cookie(refreshName)).filter(v -> !v.isBlank());
  }

  public void clear(Context ctx) {
    ctx.cookie(cookie(accessName, "", "/", 0));
    ctx.cookie(cookie(refreshName, "", REFRESH_PATH, 0));
  }

  private Cookie cookie(String name, String value, String path, int maxAge) {
    return new Cookie(name, value, path, maxAge, secure, true, null, SameSite.LAX);
  }

  private static String originOf(Config config) {
    return Config.originOf(config.publicUrl());
  }
}
