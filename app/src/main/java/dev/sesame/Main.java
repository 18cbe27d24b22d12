package dev.sesame;

import dev.sesame.audit.AuditLog;
import dev.sesame.admin.AdminEndpoints;
import dev.sesame.admin.EmailPreviews;
import dev.sesame.admin.WebhookAdmin;
import dev.sesame.email.EmailChanges;
import dev.sesame.email.EmailEndpoints;
import dev.sesame.users.UserDirectory;
import dev.sesame.http.Feature;
import dev.sesame.http.Pages;
import dev.sesame.branding.Brand;
import dev.sesame.branding.BrandEndpoints;
import dev.sesame.email.EmailTemplates;
import dev.sesame.i18n.Languages;
import dev.sesame.http.Web;
import dev.sesame.oauth.AuthorizationCodes;
import dev.sesame.oauth.AuthorizationEndpoint;
import dev.sesame.oauth.OpenIdEndpoints;
import dev.sesame.oauth.TokenEndpoint;
import dev.sesame.oauth.BackchannelLogout;
import dev.sesame.oauth.DynamicRegistration;
import dev.sesame.oauth.AuthorizationRequests;
import dev.sesame.common.FastCrypto;
import dev.sesame.common.RedirectPolicy;
import dev.sesame.config.Config;
import dev.sesame.config.ConfigException;
import dev.sesame.config.DataDirSecrets;
import dev.sesame.config.Secret;
import dev.sesame.config.Env;
import dev.sesame.db.Database;
import dev.sesame.db.ServerSecrets;
import dev.sesame.email.ConsoleMailer;
import dev.sesame.email.EmailSignInService;
import dev.sesame.email.MailDomains;
import dev.sesame.email.Mailer;
import dev.sesame.email.Outbox;
import dev.sesame.email.SmtpMailer;
import dev.sesame.http.HttpServer;
import dev.sesame.maintenance.Janitor;
import dev.sesame.metrics.Metrics;
import dev.sesame.metrics.MetricsEndpoint;
import dev.sesame.stats.Stats;
import dev.sesame.outbound.Destinations;
import dev.sesame.webhooks.WebhookMailer;
import dev.sesame.webhooks.WebhookSender;
import dev.sesame.webhooks.Webhooks;
import dev.sesame.oauth.Clients;
import dev.sesame.passkeys.Aaguids;
import dev.sesame.passkeys.PasskeyService;
import dev.sesame.ratelimit.RateLimiter;
import dev.sesame.oauth.ServiceKeys;
import dev.sesame.oauth.Introspection;
import dev.sesame.sessions.SessionService;
import dev.sesame.tokens.AccessTokens;
import dev.sesame.tokens.IdTokens;
import dev.sesame.tokens.SigningKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: reads the configuration, opens the database, builds every service with its constructor and
 * starts the HTTP server. {@link #close()} stops everything in reverse order: HTTP first (in-flight requests finish),
 * then the mail sender, then the database.
 */
public final class Main implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private final Deque<AutoCloseable> running = new ArrayDeque<>();
  private final HttpServer http;
  private MetricsEndpoint metricsEndpoint;
  private final Config config;
  private SigningKeys signingKeys;

  public Main(Config config) {
    this.config = config;
    // Languages, brand and email templates belong to the configuration: a broken template stops start-up with one
    // line naming its file, before anything runs.
    Languages languages = new Languages(config.branding().languages(), config.branding().defaultLanguage());
    Brand brand = new Brand(config.branding(), config.issuer());
    EmailTemplates emailTemplates = new EmailTemplates(brand, languages, config.branding().templatesDir());
    try {
      String provider = FastCrypto.install();
      log.info("Starting Sesame with {}", config.describe());
      log.info("Crypto provider: {}", provider);

      Database database = Database.open(config);
      running.push(database);
      Metrics metrics = new Metrics();
      running.push(metrics);
      database.instrument(metrics.registry());
      metrics.counter("sesame.database.embedded.restarts", "Times the embedded PostgreSQL was started again after "
          + "it died", database, Database::embeddedRestarts);

      AuditLog audit = new AuditLog(metrics::auditEvent);
      Destinations destinations = new Destinations(config.webhookPrivateNetworks());
      Secret masterKey = masterKey(config); // read (and its source logged) once
      Webhooks webhooks = new Webhooks(database.jdbi(), masterKey, destinations);
      running.push(new WebhookSender(database.jdbi(), webhooks, destinations, audit, metrics::webhookDelivery)
          .start(Duration.ofSeconds(1)));
      Clients clients = new Clients(database.jdbi(), config.clientId(), destinations,
          java.util.Set.copyOf(java.util.List.of(config.tokenAudience(), config.issuer())));
      config.clientsFile().ifPresent(file -> applyClientsFile(clients, file));
      signingKeys = new SigningKeys(database.jdbi(), Optional.of(masterKey), config.accessTokenTtl(),
          config.tokenAlg(), config.keyRotation(), config.keyPrepublish());
      running.push(signingKeys.startRefresh(Duration.ofMinutes(1)));
      running.push(database.listen(SigningKeys.CHANNEL, signingKeys::reloadQuietly));
      AccessTokens accessTokens = new AccessTokens(signingKeys, config.issuer(), config.tokenAudience(),
          config.clientId(), config.accessTokenTtl());
      IdTokens idTokens = new IdTokens(signingKeys, config.issuer(), config.accessTokenTtl());
      BackchannelLogout backchannelLogout = new BackchannelLogout(database.jdbi(), idTokens, destinations);
      running.push(backchannelLogout.start(Duration.ofSeconds(5)));
      RateLimiter rateLimiter = new RateLimiter(database.jdbi(), metrics::rateLimited);
      SessionService sessions = new SessionService(database.jdbi(), accessTokens, audit, config.refreshTokenTtl(),
          config.sessionIdleTtl(), config.sessionMaxTtl(), config.refreshReuseGrace(), backchannelLogout,
          rateLimiter, config.refreshLimit());

      Mailer mailer = config.emailViaWebhook() ? new WebhookMailer(database.jdbi())
          : config.smtp().<Mailer>map(SmtpMailer::new).orElseGet(ConsoleMailer::new);
      if (config.devMailbox()) {
        log.warn("SESAME_SMTP_HOST is not set: sign-in emails are printed to the console{} (development only)",
            config.publicUrlIsLocalhost() ? " and shown at " + config.issuer() + "/dev/mail to this machine" : "");
      }
      devMailboxWarning(config).ifPresent(log::warn);
      Outbox outbox = new Outbox(database.jdbi(), mailer, config.devMailbox())
          .countingDeliveries(metrics::emailDelivery);
      metrics.gauge("sesame.email.outbox.depth", "Emails waiting to be sent", outbox, o -> o.backlog().depth());
      metrics.gauge("sesame.email.outbox.oldest.seconds", "Age of the oldest email waiting to be sent", outbox,
          o -> o.backlog().oldestSeconds());
      running.push(outbox.startSender(Duration.ofSeconds(1)));
      Aaguids aaguids = Aaguids.load(config.passkeys().aaguidFile());
      Stats stats = new Stats(database.jdbi(), aaguids, java.time.Clock.systemUTC());
      running.push(new Janitor(database.jdbi(), config.auditRetention(), stats::rollUp)
          .start(Duration.ofMinutes(10)));

      AuthorizationRequests authorizationRequests = new AuthorizationRequests(clients,
          new RedirectPolicy(config.redirectAllowlist()), config.issuer(),
          ServerSecrets.getOrCreate(database.jdbi(), "authorization-requests", 32));
      AuthorizationCodes authorizationCodes = new AuthorizationCodes(database.jdbi(), sessions, authorizationRequests,
          clients, idTokens);
      MailDomains mailDomains = new MailDomains(config.mailDomains());
      EmailSignInService emailSignIn = new EmailSignInService(database.jdbi(), outbox, emailTemplates, sessions,
          rateLimiter, audit, mailDomains, config);
      EmailChanges emailChanges = new EmailChanges(database.jdbi(), outbox, emailTemplates, audit, mailDomains, config);

      PasskeyService passkeys = new PasskeyService(database.jdbi(), aaguids,
          sessions, audit, config, rateLimiter, ServerSecrets.getOrCreate(database.jdbi(), "pseudo-credentials", 32),
          ServerSecrets.getOrCreate(database.jdbi(), "sign-in-challenges", 32));

      Web web = Web.of(config, database, accessTokens, sessions, new Pages(brand, languages));
      ServiceKeys serviceKeys = new ServiceKeys(database.jdbi());
      Introspection introspection = new Introspection(database.jdbi(), accessTokens, sessions, config.clientId());
      Optional<DynamicRegistration> registration = config.dynamicRegistration()
          .map(limit -> new DynamicRegistration(clients, rateLimiter, limit));
      UserDirectory userDirectory = new UserDirectory(database.jdbi());
      metricsEndpoint = new MetricsEndpoint(metrics, config.metrics());
      List<Feature> features = List.of(
          metricsEndpoint,
          new BrandEndpoints(brand, languages),
          new EmailEndpoints(emailSignIn, emailChanges, outbox, authorizationRequests, passkeys, web,
              config.devMailbox() && config.publicUrlIsLocalhost()),
          new AuthorizationEndpoint(authorizationCodes, authorizationRequests, web),
          new TokenEndpoint(authorizationCodes, sessions, introspection, serviceKeys, clients,
              registration, web),
          new OpenIdEndpoints(accessTokens, config.issuer(), idTokens, clients, sessions, userDirectory,
              registration.isPresent(), web),
          new AdminEndpoints(userDirectory, clients, sessions, passkeys, emailSignIn, emailChanges, audit,
              serviceKeys, stats, config.describe(), database.jdbi(), web),
          new WebhookAdmin(webhooks, audit, serviceKeys, userDirectory, database.jdbi(), web),
          new EmailPreviews(emailTemplates, serviceKeys, userDirectory, config.issuer(), web),
          new dev.sesame.users.ProfileEndpoints(database.jdbi(), web));
      http = new HttpServer(new HttpServer.Services(config, database, web, sessions, accessTokens, passkeys,
          features, clients::isWebOrigin, metricsEndpoint.requestLogger()));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Without SMTP, sign-in emails exist only in this server's console and mailbox: fine on a laptop, a mistake on a
   * server that other machines reach. Said loudly, because such a Sesame cannot deliver a single sign-in email.
   */
  static java.util.Optional<String> devMailboxWarning(Config config) {
    if (!config.devMailbox() || config.bindsLoopbackOnly()) {
      return java.util.Optional.empty();
    }
    String bar = "*".repeat(100);
    return java.util.Optional.of("\n" + bar + "\n*  NO SMTP SERVER IS CONFIGURED, YET SESAME LISTENS ON " + config.bindHost()
        + ", REACHABLE FROM OTHER HOSTS.\n*  Nobody can receive a sign-in email: they go to this console only. The "
        + "development mailbox (/dev/mail)\n*  answers only requests from this machine. Set SESAME_SMTP_HOST before "
        + "anyone else uses this server,\n*  or SESAME_BIND_HOST=127.0.0.1 to keep it local.\n" + bar);
  }

  /** Declared clients (SESAME_CLIENTS_FILE) are applied at every start; a bad file stops start-up. */
  private static void applyClientsFile(Clients clients, Path file) {
    try {
      Clients.FileResult result = clients.applyFile(file);
      log.info("Clients from {}: {} changed, {} unchanged, {} removed", file, result.changed(), result.unchanged(),
          result.deleted());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("SESAME_CLIENTS_FILE", e.getMessage());
    }
  }

  /** The master key; without {@code SESAME_MASTER_KEY}, a generated one kept in the data directory (0600). */
  static Secret masterKey(Config config) {
    if (config.masterKey().isEmpty()) {
      log.info("SESAME_MASTER_KEY is not set: signing keys are encrypted with the key in {} (back it up with the "
          + "data directory; nodes sharing one database need the same SESAME_MASTER_KEY)",
          DataDirSecrets.masterKeyFile(config).toAbsolutePath());
    }
    return DataDirSecrets.masterKey(config);
  }

  public Main start() {
    http.start();
    running.push(http);
    running.push(metricsEndpoint.start(config.bindHost()));
    config.metrics().port().ifPresent(p -> log.info("Metrics at http://{}:{}/metrics", config.bindHost(),
        metricsEndpoint.port()));
    log.info("Sesame is ready on port {}", http.port());
    return this;
  }

  /** The port /metrics listens on when it has its own, else -1. */
  public int metricsPort() {
    return metricsEndpoint.port();
  }

  public int port() {
    return http.port();
  }

  /** The signing keys of this node (operations and tests reload or inspect them). */
  public SigningKeys signingKeys() {
    return signingKeys;
  }

  @Override
  public void close() {
    while (!running.isEmpty()) {
      AutoCloseable part = running.pop();
      try {
        part.close();
      } catch (Exception e) {
        log.warn("Stopping {} failed: {}", part.getClass().getSimpleName(), e.toString());
      }
    }
  }

  public static void main(String[] args) {
    Config config;
    try {
      config = Config.load(Env.load(Path.of(".env"), System.getenv()));
    } catch (ConfigException e) {
      System.err.println("sesame: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (args.length > 0) {
      int status;
      try {
        status = Cli.run(java.util.List.of(args), config, System.out, System.err);
      } catch (ConfigException e) {
        System.err.println("sesame: configuration error: " + e.getMessage());
        status = 2;
      } catch (RuntimeException e) {
        System.err.println("sesame: " + e.getMessage());
        status = 1;
      }
      System.exit(status);
      return;
    }
    Main sesame;
    try {
      sesame = new Main(config);
    } catch (ConfigException e) {
      System.err.println("sesame: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    } catch (RuntimeException e) {
      log.error("Sesame could not start: {}", e.getMessage(), e);
      System.exit(1);
      return;
    }
    try {
      sesame.start();
    } catch (RuntimeException e) {
      log.error("Sesame could not start: {}", e.getMessage(), e);
      sesame.close(); // stops the embedded database too, instead of leaving it running
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("Shutting down");
      sesame.close();
      log.info("Stopped");
    }, "sesame-shutdown"));
  }
}
