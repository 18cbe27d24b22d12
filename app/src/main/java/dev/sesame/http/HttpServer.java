package dev.sesame.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.sesame.oauth.AuthorizationCodes;
import dev.sesame.oauth.AuthorizationRequests;
import dev.sesame.oauth.DynamicRegistration;
import java.util.Optional;
import dev.sesame.common.ApiException;
import dev.sesame.config.Config;
import dev.sesame.db.Database;
import dev.sesame.email.EmailSignInService;
import dev.sesame.email.Outbox;
import dev.sesame.oauth.Clients;
import dev.sesame.tokens.IdTokens;
import dev.sesame.passkeys.PasskeyService;
import dev.sesame.oauth.ServiceKeys;
import dev.sesame.oauth.Introspection;
import dev.sesame.sessions.SessionService;
import dev.sesame.tokens.AccessTokens;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/** Sesame's HTTP surface: the routes table, security headers, and the error mapper. */
public final class HttpServer implements AutoCloseable {
  static final long MAX_BODY_BYTES = 64 * 1024;
  private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

  private final Javalin app;

  /** Everything the HTTP layer talks to, built by {@code Main}. */
  public record Services(Config config, Database database, EmailSignInService emailSignIn, Outbox outbox,
                         SessionService sessions, AccessTokens accessTokens, PasskeyService passkeys,
                         AuthorizationCodes authorizationCodes, AuthorizationRequests authorizationRequests,
                         Introspection introspection, ServiceKeys serviceKeys, Clients clients, IdTokens idTokens,
                         Optional<DynamicRegistration> registration) {}

  public HttpServer(Services s) {
    Config config = s.config();
    ObjectMapper mapper = new ObjectMapper()
        .registerModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    ClientIps clientIps = new ClientIps(config.trustedProxies());
    Pages pages = new Pages(config.rpName());
    SessionCookies cookies = new SessionCookies(config);
    RequestAuth auth = new RequestAuth(s.accessTokens(), s.sessions(), cookies, config.allowedOrigins());
    Cors cors = new Cors(config.allowedOrigins(), s.clients()::isWebOrigin);
    ErrorMapper errors = new ErrorMapper(s.database());
    Retry retry = new Retry(s.database());
    EmailEndpoints email = new EmailEndpoints(s.emailSignIn(), s.outbox(), clientIps, mapper, pages, cookies,
        s.authorizationRequests());
    SessionEndpoints sessions = new SessionEndpoints(s.sessions(), auth, cookies, clientIps, mapper);
    PasskeyEndpoints passkeys = new PasskeyEndpoints(s.passkeys(), auth, cookies, clientIps, mapper);
    PageEndpoints hosted = new PageEndpoints(pages);
    AuthorizeEndpoints authorize = new AuthorizeEndpoints(s.authorizationCodes(), s.sessions(), auth, cookies,
        clientIps, mapper, s.introspection(), s.serviceKeys(), s.clients(), s.authorizationRequests(), hosted,
        s.registration());
    OpenIdEndpoints openId = new OpenIdEndpoints(auth, s.accessTokens(), config.issuer(), s.idTokens(), s.clients(),
        s.sessions(), cookies, clientIps, pages, s.registration().isPresent());
    WellKnownEndpoints wellKnown = new WellKnownEndpoints(s.accessTokens(), s.database(),
        config.passkeys().relatedOrigins());
    boolean devMail = config.devMailbox() && config.publicUrlIsLocalhost();

    StaticAssets assets = new StaticAssets();
    this.app = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      c.jetty.host = config.bindHost();
      c.jetty.port = config.port();
      c.jetty.modifyServer(HttpServer::graceful);
      c.jetty.threadPool = threadPool(config.databasePoolSize());
      c.http.maxRequestSize = MAX_BODY_BYTES;
      c.http.generateEtags = true;
      c.jsonMapper(new io.javalin.json.JavalinJackson(mapper, false));

      c.routes.before(ctx -> securityHeaders(ctx, config));
      c.routes.before("/v1/*", cors::allow);
      c.routes.before("/.well-known/*", cors::allowAnyone);
      c.routes.options("/v1/*", cors::preflight);

      c.routes.get("/assets/{name}", assets::serve);
      c.routes.head("/assets/{name}", assets::serve);
      c.routes.get("/", ctx -> ctx.redirect("/login"));
      c.routes.get("/login", retry.once(authorize::login));
      c.routes.get("/authorize", retry.once(authorize::authorizationEndpoint));
      c.routes.post("/authorize", retry.once(authorize::authorizationEndpoint));
      c.routes.get("/account", retry.once(hosted::account));

      c.routes.get("/health", wellKnown::health);
      c.routes.get("/ready", wellKnown::ready);
      c.routes.get("/.well-known/jwks.json", wellKnown::jwks);
      c.routes.get("/.well-known/webauthn", wellKnown::relatedOrigins);
      c.routes.get("/.well-known/oauth-authorization-server", openId::configuration);
      c.routes.get("/.well-known/openid-configuration", openId::configuration);
      c.routes.get("/logout", retry.once(openId::logout));
      c.routes.post("/logout", retry.once(openId::logout));

      c.routes.post("/v1/email/start", retry.once(email::start));
      c.routes.post("/v1/email/verify", retry.once(email::verify));
      c.routes.get("/email/confirm", retry.once(email::confirmPage));
      c.routes.head("/email/confirm", retry.once(email::confirmPage));

      c.routes.post("/v1/sessions/refresh", retry.once(authorize::sessionsRefresh));
      c.routes.post("/v1/sessions/logout", retry.once(sessions::logout));
      c.routes.get("/v1/sessions", retry.once(sessions::list));
      c.routes.delete("/v1/sessions/{id}", retry.once(sessions::revoke));
      c.routes.get("/v1/me", retry.once(sessions::me));
      c.routes.get("/v1/userinfo", retry.once(openId::userinfo));
      c.routes.post("/v1/userinfo", retry.once(openId::userinfo));

      c.routes.post("/v1/authorize", retry.once(authorize::authorize));
      c.routes.post("/v1/token", retry.once(authorize::token));
      c.routes.post("/v1/introspect", retry.once(authorize::introspect));
      c.routes.post("/v1/revoke", retry.once(authorize::revoke));
      if (s.registration().isPresent()) {
        c.routes.post("/v1/register", retry.once(authorize::register));
      }

      c.routes.post("/v1/passkeys/register/options", retry.once(passkeys::startRegistration));
      c.routes.post("/v1/passkeys/register/verify", retry.once(passkeys::finishRegistration));
      c.routes.post("/v1/passkeys/login/options", retry.once(passkeys::startSignIn));
      c.routes.post("/v1/passkeys/login/verify", retry.once(passkeys::finishSignIn));
      c.routes.get("/v1/me/passkeys", retry.once(passkeys::list));
      c.routes.patch("/v1/me/passkeys/{id}", retry.once(passkeys::rename));
      c.routes.delete("/v1/me/passkeys/{id}", retry.once(passkeys::remove));

      if (devMail) {
        c.routes.get("/dev/mail", retry.once(email::devMail));
      }

      c.routes.exception(ApiException.class, errors::api);
      c.routes.exception(HttpResponseException.class, errors::http);
      c.routes.exception(Exception.class, errors::unexpected);
      c.routes.error(404, errors::status);
      c.routes.error(405, errors::status);
    });
  }

  private static void securityHeaders(Context ctx, Config config) {
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("Referrer-Policy", "no-referrer");
    ctx.header("X-Frame-Options", "DENY");
    ctx.header("Content-Security-Policy", CSP);
    if (config.https()) {
      ctx.header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    }
    if (ctx.path().startsWith("/v1/")) {
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
          server.setHandler(new GracefulHandler(server.getHandler()));
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
