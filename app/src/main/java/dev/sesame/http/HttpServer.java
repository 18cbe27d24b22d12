package dev.sesame.http;

import dev.sesame.common.ApiException;
import dev.sesame.config.Config;
import dev.sesame.db.Database;
import dev.sesame.passkeys.PasskeyService;
import dev.sesame.sessions.SessionService;
import dev.sesame.tokens.AccessTokens;
import io.javalin.Javalin;
import java.util.List;
import java.util.function.Predicate;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/** Sesame's HTTP surface: the routes table, security headers, and the error mapper. */
public final class HttpServer implements AutoCloseable {
  static final long MAX_BODY_BYTES = 64 * 1024;
  /** The longest a request body may take to arrive (a 64 KiB body at 6.5 KB/s): then 408, see RequestGuard. */
  static final java.time.Duration BODY_TIMEOUT = java.time.Duration.ofSeconds(10);
  private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:%s; "
      + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

  /** Sesame's CSP; a logo on another host (SESAME_LOGO_URL) is the one image source it adds. */
  static String csp(Config config) {
    String logoOrigin = config.branding().logoUrl().filter(url -> !url.startsWith("/")).map(url -> {
      java.net.URI uri = java.net.URI.create(url);
      return " " + uri.getScheme() + "://" + uri.getRawAuthority();
    }).orElse("");
    return CSP.formatted(logoOrigin);
  }

  private final Javalin app;

  /**
   * What the server itself serves — sessions, passkeys, the account page, well-known documents, assets — and the
   * features that add their own routes (email sign-in, the OAuth/OpenID Connect protocol), built by {@code Main}.
   *
   * @param clientWebOrigin whether a registered client declared an origin (CORS for browser-based clients)
   */
  public record Services(Config config, Database database, Web web, SessionService sessions,
                         AccessTokens accessTokens, PasskeyService passkeys, List<Feature> features,
                         Predicate<String> clientWebOrigin, io.javalin.http.RequestLogger requestLogger) {}

  public HttpServer(Services s) {
    Config config = s.config();
    Web web = s.web();
    Retry retry = web.retry();
    Cors cors = new Cors(config.allowedOrigins(), s.clientWebOrigin());
    ErrorMapper errors = new ErrorMapper(s.database());
    SessionEndpoints sessions = new SessionEndpoints(s.sessions(), web.auth(), web.cookies(), web.clientIps(),
        web.mapper());
    PasskeyEndpoints passkeys = new PasskeyEndpoints(s.passkeys(), web.auth(), web.cookies(), web.clientIps(),
        web.mapper());
    PageEndpoints hosted = new PageEndpoints(web.pages());
    WellKnownEndpoints wellKnown = new WellKnownEndpoints(s.accessTokens(), s.database(),
        config.passkeys().relatedOrigins(), config.passkeys().nativeApps());

    StaticAssets assets = new StaticAssets();
    AccessLog accessLog = new AccessLog(web.clientIps(), config.logFormat().equals("json"));
    this.app = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      c.jetty.host = config.bindHost();
      c.jetty.port = config.port();
      c.jetty.modifyServer(HttpServer::graceful);
      c.jetty.threadPool = threadPool(config.databasePoolSize());
      c.http.maxRequestSize = MAX_BODY_BYTES;
      c.http.generateEtags = true;
      c.jsonMapper(new io.javalin.json.JavalinJackson(web.mapper(), false));
      c.requestLogger.http(accessLog.after(s.requestLogger()));

      c.routes.before(accessLog::before);
      String csp = csp(config);
      c.routes.before(ctx -> securityHeaders(ctx, config, csp));
      c.routes.before("/v1/*", cors::allow);
      c.routes.before("/.well-known/*", cors::allowAnyone);
      c.routes.options("/v1/*", cors::preflight);

      c.routes.get("/assets/{name}", assets::serve);
      c.routes.head("/assets/{name}", assets::serve);
      c.routes.get("/", ctx -> ctx.redirect("/login"));
      c.routes.get("/account", retry.once(hosted::account));

      c.routes.get("/health", wellKnown::health);
      c.routes.get("/ready", wellKnown::ready);
      c.routes.get("/.well-known/jwks.json", wellKnown::jwks);
      c.routes.get("/.well-known/webauthn", wellKnown::relatedOrigins);
      c.routes.get("/.well-known/apple-app-site-association", wellKnown::appleAppSiteAssociation);
      c.routes.get("/.well-known/assetlinks.json", wellKnown::assetLinks);

      c.routes.post("/v1/sessions/logout", retry.once(sessions::logout));
      c.routes.get("/v1/sessions", retry.once(sessions::list));
      c.routes.delete("/v1/sessions/{id}", retry.once(sessions::revoke));
      c.routes.get("/v1/me", retry.once(sessions::me));

      c.routes.post("/v1/passkeys/register/options", retry.once(passkeys::startRegistration));
      c.routes.post("/v1/passkeys/register/verify", retry.once(passkeys::finishRegistration));
      c.routes.post("/v1/passkeys/login/options", retry.once(passkeys::startSignIn));
      c.routes.post("/v1/passkeys/login/verify", retry.once(passkeys::finishSignIn));
      c.routes.get("/v1/me/passkeys", retry.once(passkeys::list));
      c.routes.patch("/v1/me/passkeys/{id}", retry.once(passkeys::rename));
      c.routes.delete("/v1/me/passkeys/{id}", retry.once(passkeys::remove));

      for (Feature feature : s.features()) {
        feature.routes(c.routes);
      }

      c.routes.exception(ApiException.class, errors::api);
      c.routes.exception(HttpResponseException.class, errors::http);
      c.routes.exception(Exception.class, errors::unexpected);
      c.routes.error(404, errors::status);
      c.routes.error(405, errors::status);
    });
  }

  private static void securityHeaders(Context ctx, Config config, String csp) {
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("Referrer-Policy", "no-referrer");
    ctx.header("X-Frame-Options", "DENY");
    ctx.header("Content-Security-Policy", csp);
    if (config.https()) {
      ctx.header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    }
    if (ctx.path().startsWith("/v1/") || ctx.path().startsWith("/admin/")) {
      ctx.header("Cache-Control", "no-store"); // token responses must never be cached (RFC 6749 §5.1)
    }
  }

  public HttpServer start() {
    app.start();
    return this;
  }

  /**
   * Request threads sized for the database pool rather than Jetty's default of 200+: most requests hold a
   * connection, so threads beyond about twice the pool only wait for one, and on a small machine they cost context
   * switches. The rest serve what needs no database (JWKS, assets, health) and Jetty's own selector work.
   */
  static QueuedThreadPool threadPool(int databasePoolSize) {
    // The 12 also cover Jetty's acceptors and selectors (at most 4 + 4 of them, on big machines).
    int max = 2 * databasePoolSize + 12;
    QueuedThreadPool pool = new QueuedThreadPool(max, Math.min(8, max));
    pool.setName("sesame-http");
    return pool;
  }

  /** In-flight requests finish on stop: Jetty 12 waits only for graceful handlers, so wrap Javalin's in one. */
  private static void graceful(Server server) {
    server.setStopTimeout(20_000);
    server.setErrorHandler(new JettyErrors());
    server.addEventListener(new LifeCycle.Listener() {
      @Override
      public void lifeCycleStarting(LifeCycle event) {
        if (!(server.getHandler() instanceof GracefulHandler)) {
          server.setHandler(new GracefulHandler(new RequestGuard(server.getHandler(), MAX_BODY_BYTES,
              BODY_TIMEOUT)));
        }
      }
    });
  }

  public int port() {
    return app.port();
  }

  /** Stops accepting connections and lets in-flight requests finish (up to 20 s). */
  @Override
  public void close() {
    app.stop();
  }
}
