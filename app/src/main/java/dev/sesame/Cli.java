package dev.sesame;

import dev.sesame.admin.AdminCommands;
import dev.sesame.admin.UserCommands;
import dev.sesame.admin.UserTransfer;
import dev.sesame.config.Config;
import dev.sesame.db.Database;
import dev.sesame.email.EmailCommands;
import dev.sesame.maintenance.Janitor;
import dev.sesame.oauth.ClientCommands;
import dev.sesame.oauth.Clients;
import dev.sesame.oauth.ServiceKeys;
import dev.sesame.passkeys.Aaguids;
import dev.sesame.stats.Stats;
import dev.sesame.outbound.Destinations;
import dev.sesame.webhooks.WebhookCommands;
import dev.sesame.webhooks.Webhooks;
import dev.sesame.tokens.SigningKeys;
import java.io.PrintStream;
import java.util.List;

/**
 * Administration commands of the same jar: {@code java -jar sesame.jar service-key create billing}. They use the
 * configured database directly. (With the embedded database, stop the server first: only one process can own it.)
 */
final class Cli {
  static final String USAGE = """
      usage: java -jar sesame.jar [command]
        (no command)                 run the server
        service-key create NAME [--scopes S,…]
                                     create a key for a backend service; it is printed once. Without scopes it
                                     may introspect tokens; scopes open the admin API: users:read, users:write,
                                     stats:read, audit:read, clients:read, clients:write,
                                     settings:read, webhooks:read, webhooks:write, admins:write
                                     (changes to how administrators sign in)
        service-key list             list service keys
        service-key revoke NAME      revoke a service key
        admin grant EMAIL            give the person the admin role (the console; they sign in with a passkey)
        admin revoke EMAIL           take it back
        admin list                   list administrators
        users export [FILE]          every account and its passkeys as JSON (format sesame-users/1), to FILE or
                                     standard output
        users import FILE            add the accounts and passkeys of such a file, or of Passage's CSV export
                                     (FILE ending in .csv); checks every row first, imports nothing if one is
                                     wrong (errors name the lines); running it again changes nothing
        stats [DAYS]                 roll up finished days and print the dashboard's figures (the admin API's
                                     GET /admin/v1/stats) for the last DAYS days (30) as JSON
        clean-up                     run the janitor's pass now (every node runs it every 10 minutes): roll up
                                     the dashboard's finished days, then delete what is no longer kept (audit
                                     events past SESAME_AUDIT_RETENTION, sessions 30 days after they ended, spent
                                     codes and challenges); prints how many rows went
        keys rotate                  publish a new signing key now; every node signs with it 5 s later
        keys list                    list the published signing keys
      """ + ClientCommands.USAGE + WebhookCommands.USAGE + EmailCommands.USAGE + """

      Commands open the database the server uses (SESAME_DATABASE_URL, or the embedded one in SESAME_DATA_DIR,
      ./data by default): run them where the server runs. The embedded database is refused when it does not exist
      yet (add --new-data-dir to start an empty one) and while a running server holds it (stop it, or use the
      admin API or console).
      """;

  private Cli() {}

  /** With {@code --new-data-dir}: a command may start an empty embedded database where there is none. */
  static final String NEW_DATA_DIR = "--new-data-dir";

  /**
   * The configured database, for a command. With the embedded one, two traps are closed: run from another directory
   * (or with another SESAME_DATA_DIR), a command would quietly start a new, empty database and report that nobody
   * exists; run beside a running server, it failed with only "could not lock …/epg-lock".
   */
  static Database open(Config config, boolean mayCreate) {
    boolean embedded = config.databaseUrl().isEmpty();
    java.nio.file.Path data = config.dataDir().toAbsolutePath().normalize();
    if (embedded && !java.nio.file.Files.isDirectory(data.resolve("postgres")) && !mayCreate) {
      throw new IllegalStateException("there is no Sesame database in " + data + " (SESAME_DATA_DIR). Run the "
          + "command in the directory the server runs in, set SESAME_DATA_DIR (or SESAME_DATABASE_URL) as the "
          + "server has it, or add " + NEW_DATA_DIR + " to start an empty database there.");
    }
    try {
      return Database.open(config);
    } catch (RuntimeException e) {
      String message = String.valueOf(e.getMessage()) + (e.getCause() == null ? "" : " " + e.getCause());
      if (embedded && message.contains("lock")) {
        throw new IllegalStateException("the embedded database in " + data + " is in use by a running Sesame "
            + "server: only one process can open it. Stop the server and run the command again, or make the change "
            + "through the admin API or console (/admin) of the running server.", e);
      }
      throw e;
    }
  }


  private static Stats stats(Database database, Config config) {
    return new Stats(database.jdbi(), Aaguids.load(config.passkeys().aaguidFile()), java.time.Clock.systemUTC());
  }

  static int run(List<String> given, Config config, PrintStream out, PrintStream err) {
    List<String> args = given.stream().filter(a -> !a.equals(NEW_DATA_DIR)).toList();
    if (args.isEmpty()) {
      err.println(USAGE);
      return 2;
    }
    return dispatch(args, config, args.size() != given.size(), out, err);
  }

  private static int dispatch(List<String> args, Config config, boolean mayCreate, PrintStream out,
                              PrintStream err) {
    String command = String.join(" ", args.subList(0, Math.min(2, args.size())));
    if (List.of("help", "--help", "-h").contains(args.get(0))) {
      out.println(USAGE);
      return 0;
    }
    if (args.get(0).equals("users") && args.size() >= 2) {
      try (Database database = open(config, mayCreate)) {
        return UserCommands.run(new UserTransfer(database.jdbi()), args.subList(1, args.size()), out, err);
      }
    }
    if (args.get(0).equals("stats") && args.size() <= 2) {
      int days;
      try {
        days = args.size() == 2 ? Integer.parseInt(args.get(1)) : 30;
      } catch (NumberFormatException e) {
        days = 0;
      }
      if (days < 1 || days > Stats.MAX_DAYS) {
        err.println("sesame: DAYS is a number from 1 to " + Stats.MAX_DAYS + ".");
        return 2;
      }
      try (Database database = open(config, mayCreate)) {
        Stats stats = stats(database, config);
        stats.rollUp();
        out.println(dev.sesame.http.Web.json().writerWithDefaultPrettyPrinter()
            .writeValueAsString(stats.dashboard(days)));
        return 0;
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
    if (args.equals(List.of("clean-up"))) {
      try (Database database = open(config, mayCreate)) {
        Stats stats = stats(database, config);
        int deleted = new Janitor(database.jdbi(), config.auditRetention(), stats::rollUp).run();
        out.println("Deleted " + deleted + " rows.");
        return 0;
      }
    }
    if (args.get(0).equals("email")) {
      return EmailCommands.run(args.subList(1, args.size()), config, out, err); // no database needed
    }
    if (args.get(0).equals("webhook")) {
      try (Database database = open(config, mayCreate)) {
        Destinations destinations = new Destinations(config.webhookPrivateNetworks());
        return WebhookCommands.run(new Webhooks(database.jdbi(), Main.masterKey(config), destinations),
            args.subList(1, args.size()), out, err);
      }
    }
    if (args.get(0).equals("client")) {
      try (Database database = open(config, mayCreate)) {
        return ClientCommands.run(new Clients(database.jdbi(), config.clientId(),
            new Destinations(config.webhookPrivateNetworks()), java.util.Set.copyOf(java.util.List.of(config.tokenAudience(), config.issuer()))), args.subList(1, args.size()), out, err);
      }
    }
    boolean scoped = command.equals("service-key create") && args.size() == 5 && args.get(3).equals("--scopes");
    if (!List.of("service-key create", "service-key list", "service-key revoke", "keys rotate", "keys list",
        "admin grant", "admin revoke", "admin list").contains(command)
        || (command.endsWith("create") || command.endsWith("revoke") || command.endsWith("grant"))
        && args.size() != 3 && !scoped) {
      err.println(USAGE);
      return 2;
    }
    try (Database database = open(config, mayCreate)) {
      ServiceKeys serviceKeys = new ServiceKeys(database.jdbi());
      switch (command) {
        case "service-key create" -> {
          String key = serviceKeys.create(args.get(2), scoped ? List.of(args.get(4).split(",")) : List.of());
          err.println("Service key '" + args.get(2) + "' created. It is shown once; store it as a secret:");
          out.println(key);
        }
        case "service-key list" -> serviceKeys.list().forEach(k -> out.println(k.name() + "\t"
            + (k.scopes().isEmpty() ? "introspection" : String.join(",", k.scopes())) + "\tcreated "
            + k.createdAt() + "\tlast used " + (k.lastUsedAt() == null ? "never" : k.lastUsedAt())
            + (k.revokedAt() == null ? "" : "\trevoked " + k.revokedAt())));
        case "service-key revoke" -> {
          if (!serviceKeys.revoke(args.get(2))) {
            err.println("No live service key named '" + args.get(2) + "'.");
            return 1;
          }
          out.println("Revoked service key '" + args.get(2) + "'.");
        }
        case "admin grant", "admin revoke" -> {
          return AdminCommands.setRole(database.jdbi(), args.get(2), command.equals("admin grant"), out, err);
        }
        case "admin list" -> {
          return AdminCommands.list(database.jdbi(), out);
        }
        case "keys rotate" -> {
          SigningKeys keys = signingKeys(database, config);
          String kid = keys.rotate(SigningKeys.ROTATE_PUBLISH);
          out.println("Published key " + kid + "; every running node signs with it from "
              + SigningKeys.ROTATE_PUBLISH.toSeconds() + " s from now. The previous key stays published until the "
              + "tokens it signed expire.");
        }
        default -> signingKeys(database, config).current().publicKeys().getKeys()
            .forEach(k -> out.println(k.getKeyID() + "\t" + k.getAlgorithm()));
      }
      return 0;
    } catch (IllegalArgumentException e) {
      err.println("sesame: " + e.getMessage());
      return 2;
    }
  }

  private static SigningKeys signingKeys(Database database, Config config) {
    return new SigningKeys(database.jdbi(), java.util.Optional.of(Main.masterKey(config)), config.accessTokenTtl(),
        config.tokenAlg(),
        config.keyRotation(), config.keyPrepublish());
  }
}
