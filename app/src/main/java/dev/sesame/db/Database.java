package dev.sesame.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sesame.config.Config;
import dev.sesame.config.DataDirSecrets;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementException;
import org.jdbi.v3.core.statement.StatementExceptions;
import org.jdbi.v3.postgres.PostgresPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL Sesame keeps everything in: an external server when {@code SESAME_DATABASE_URL} is set, otherwise an
 * embedded one whose data lives in {@code SESAME_DATA_DIR} and survives restarts. Migrations run on open.
 */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private final Optional<EmbeddedServer> embedded;
  private final HikariDataSource pool;
  private volatile DatabaseHealth health; // set once, after the migrations; read by request threads
  private final Jdbi jdbi;

  private final String url;
  private final String user;
  private final String password;

  private Database(Optional<EmbeddedServer> embedded, HikariDataSource pool, String url, String user,
                   String password) {
    this.embedded = embedded;
    this.pool = pool;
    this.url = url;
    this.user = user;
    this.password = password;
    // While the database is known to be unreachable, a request fails at once (503) instead of waiting for a
    // connection that cannot come.
    this.jdbi = Jdbi.create(() -> {
      DatabaseHealth h = health;
      if (h != null && h.state() == DatabaseHealth.State.UNREACHABLE) {
        throw new SQLTransientConnectionException("the database is unreachable: " + h.reason(), "08001");
      }
      return borrow();
    }).installPlugin(new PostgresPlugin()).registerArgument(new FastArguments());
    // A failing statement's error names the statement, never its bound values: they include codes, link tokens,
    // email bodies and addresses, and the error reaches the log.
    // (Jdbi's own renderings other than NONE all include the arguments.)
    jdbi.getConfig(StatementExceptions.class).setMessageRendering(Database::withoutArguments);
  }

  public static Database open(Config config) {
    Optional<EmbeddedServer> embedded = Optional.empty();
    String url;
    String user;
    String password;
    if (config.databaseUrl().isPresent()) {
      url = config.databaseUrl().get();
      user = config.databaseUser().orElse(null);
      password = config.databasePassword().map(s -> s.reveal()).orElse(null);
    } else {
      password = DataDirSecrets.readOrCreate(config.dataDir().resolve(PASSWORD_FILE)).reveal();
      EmbeddedServer server = EmbeddedServer.start(config.dataDir().resolve("postgres"), password);
      embedded = Optional.of(server);
      url = server.jdbcUrl();
      user = "postgres";
    }
    HikariConfig hikari = new HikariConfig();
    hikari.setPoolName("sesame");
    hikari.setJdbcUrl(url);
    hikari.setUsername(user);
    hikari.setPassword(password);
    hikari.setMaximumPoolSize(config.databasePoolSize());
    // A fixed-size pool (HikariCP's advice): with fewer idle connections than the maximum, every busy moment wakes
    // its connection-adder thread, about 1.5% of the CPU under sign-in load in the profile.
    hikari.setMinimumIdle(config.databasePoolSize());
    // Long enough for a busy moment, short enough that a request does not hang on a database that went away
    // before the health probe noticed.
    hikari.setConnectionTimeout(Duration.ofSeconds(5).toMillis());
    hikari.addDataSourceProperty("ApplicationName", "sesame");
    hikari.addDataSourceProperty("reWriteBatchedInserts", "true");
    // PostgreSQL's error detail quotes row values ("Key (email)=(ana@…) already exists"): keep it out of messages.
    hikari.addDataSourceProperty("logServerErrorDetail", "false");
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(hikari);
    } catch (RuntimeException e) {
      embedded.ifPresent(EmbeddedServer::close);
      throw new IllegalStateException("cannot connect to PostgreSQL at " + Config.withoutQuery(url) + ": "
          + rootMessage(e), e);
    }
    Database db = new Database(embedded, pool, url, user, password);
    try {
      db.migrate(url, user, password);
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
    // After the migrations: the probe writes a table they create.
    db.health = new DatabaseHealth(() -> java.sql.DriverManager.getConnection(url, db.connectionProperties(2)),
        db::releaseWaiters);
    embedded.ifPresent(server -> server.supervise(
        () -> db.health.down("the embedded PostgreSQL stopped; starting it again"), db::connectionsLost));
    return db;
  }

  /**
   * Starts the embedded server on {@code port} (0: a free one) and makes sure it asks for a password. initdb (inside
   * zonky) trusts every local connection; on the first start Sesame sets the superuser's password (kept in
   * {@code SESAME_DATA_DIR/postgres.password}, mode 0600) and replaces pg_hba.conf so that every connection, TCP or
   * Unix socket, needs it (SCRAM-SHA-256). Another process on this machine can then no longer read the database.
   */
  static EmbeddedPostgres startEmbedded(Path dir, String password, int port) {
    try {
      Files.createDirectories(dir);
      log.info("Starting embedded PostgreSQL with data in {}", dir.toAbsolutePath());
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
          .setDataDirectory(dir)
          .setCleanDataDirectory(false) // the data must survive restarts
          .setRegisterShutdownHook(false) // Main stops it after the HTTP server and the mail sender
          // Durable settings: this is the database of record, not a test fixture.
          .setServerConfig("fsync", "on")
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("full_page_writes", "on")
          .setServerConfig("listen_addresses", "127.0.0.1")
          .setServerConfig("password_encryption", "scram-sha-256")
          .setConnectConfig("password", password) // zonky's own readiness check connects too
          .setPGStartupWait(Duration.ofSeconds(60));
      if (port > 0) {
        builder.setPort(port);
      }
      EmbeddedPostgres pg = builder.start();
      try {
        requirePassword(pg, dir, password);
      } catch (RuntimeException e) {
        closeQuietly(pg);
        throw e;
      }
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dir + ": " + e.getMessage(), e);
    }
  }

  static final String PASSWORD_FILE = "postgres.password";
  private static final String HBA = """
      # Written by Sesame. Every connection needs the password Sesame keeps in SESAME_DATA_DIR/postgres.password.
      local   all   all                  scram-sha-256
      host    all   all   127.0.0.1/32   scram-sha-256
      host    all   all   ::1/128        scram-sha-256
      """;

  private static void requirePassword(EmbeddedPostgres pg, Path dir, String password) throws IOException {
    Path hba = dir.resolve("pg_hba.conf");
    if (Files.exists(hba) && Files.readString(hba).equals(HBA)) {
      return;
    }
    // The password first, then the rule that asks for it: a crash in between leaves a database that still opens.
    try (java.sql.Connection c = pg.getPostgresDatabase().getConnection();
         java.sql.Statement st = c.createStatement()) {
      // A base64url secret: nothing in it needs quoting.
      if (!password.matches("[A-Za-z0-9_-]{32,}")) {
        throw new IllegalStateException("the embedded database password must be base64url");
      }
      st.execute("ALTER ROLE postgres PASSWORD '" + password + "'");
      Files.writeString(hba, HBA);
      st.execute("SELECT pg_reload_conf()");
      log.info("Embedded PostgreSQL now requires a password for every connection");
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("cannot secure the embedded PostgreSQL: " + e.getMessage(), e);
    }
  }

  /**
   * Flyway holds two connections at once (its lock and the migration), so it gets its own instead of the pool's:
   * with {@code SESAME_DATABASE_POOL_SIZE=1} it used to wait for itself until start-up failed.
   */
  private void migrate(String url, String user, String password) {
    Flyway.configure()
        .dataSource(url, user, password)
        .locations("classpath:db/migration")
        .load()
        .migrate();
  }

  /** A statement error as the log may show it: the driver's message and the statement's first line, no values. */
  static String withoutArguments(StatementException e) {
    String sql = e.getStatementContext() == null ? null : e.getStatementContext().getRawSql();
    String firstLine = sql == null ? "" : sql.strip().lines().findFirst().orElse("");
    return e.getShortMessage() + (firstLine.isEmpty() ? "" : " [statement: " + firstLine + " …]");
  }

  /**
   * Calls {@code onNotify} whenever any node sends {@code NOTIFY channel}, and once after each (re)connection (a
   * notification may have been missed meanwhile). One connection of its own, outside the pool, so a small pool is
   * never short of one; it reconnects with back-off when the database goes away.
   */
  public Notifications listen(String channel, Runnable onNotify) {
    return new Notifications(() -> java.sql.DriverManager.getConnection(url, connectionProperties()), channel,
        onNotify);
  }

  private java.util.Properties connectionProperties() {
    return connectionProperties(5);
  }

  /** For the probe and listener connections: {@code timeoutSeconds} bounds connecting and each read. */
  private java.util.Properties connectionProperties(int timeoutSeconds) {
    java.util.Properties p = new java.util.Properties();
    if (user != null) {
      p.setProperty("user", user);
    }
    if (password != null) {
      p.setProperty("password", password);
    }
    p.setProperty("ApplicationName", "sesame-background");
    p.setProperty("connectTimeout", Integer.toString(timeoutSeconds));
    p.setProperty("socketTimeout", Integer.toString(timeoutSeconds + 1));
    p.setProperty("tcpKeepAlive", "true");
    return p;
  }

  public Jdbi jdbi() {
    return jdbi;
  }

  /** Whether the database is reachable and writable, as the health probe saw it within the last second. */
  public DatabaseHealth health() {
    return health;
  }

  /** Request threads waiting for one of the pool's connections, to be let go when the database is found down. */
  private final java.util.Set<Thread> waiting = new java.util.HashSet<>();

  /**
   * A connection from the pool. A request that arrived a moment before the database died waits here for a
   * connection that cannot come (the pool's timeout is 5 s); when the probe finds the database unreachable it lets
   * every such waiter go at once ({@link #releaseWaiters}), so they answer 503 as quickly as the requests after them.
   */
  private java.sql.Connection borrow() throws java.sql.SQLException {
    Thread self = Thread.currentThread();
    synchronized (waiting) {
      waiting.add(self);
    }
    try {
      return pool.getConnection();
    } catch (java.sql.SQLException e) {
      DatabaseHealth h = health;
      if (h != null && h.state() == DatabaseHealth.State.UNREACHABLE) {
        throw new SQLTransientConnectionException("the database became unreachable: " + h.reason(), "08001", e);
      }
      throw e;
    } finally {
      boolean released;
      synchronized (waiting) {
        waiting.remove(self);
        released = this.released.remove(self);
      }
      if (released) {
        // The interruption was meant for the wait, not for what the thread does next (only threads in the set are
        // interrupted, so none can arrive after it left).
        Thread.interrupted();
      }
    }
  }

  private final java.util.Set<Thread> released = new java.util.HashSet<>();

  /** The database is unreachable: wake every request waiting for a connection (Hikari answers an interrupt). */
  private void releaseWaiters() {
    synchronized (waiting) {
      for (Thread t : waiting) {
        released.add(t);
        t.interrupt();
      }
    }
  }

  /** Publishes the pool's meters (connections active, idle, pending; acquire and usage times) to {@code registry}. */
  public void instrument(io.micrometer.core.instrument.MeterRegistry registry) {
    pool.setMetricRegistry(registry);
  }

  /** True when Sesame runs its own embedded PostgreSQL. */
  public boolean embedded() {
    return embedded.isPresent();
  }

  /** Times the embedded server was started again after it died (0 with an external database). */
  public int embeddedRestarts() {
    return embedded.map(EmbeddedServer::restarts).orElse(0);
  }

  /**
   * A request failed because the database is unavailable ({@link #unavailable}): the probe looks at once, and when
   * connections were lost (rather than refused a write), the pool replaces its idle ones too.
   */
  public void sawUnavailable(Throwable e) {
    if (lostConnection(e)) {
      connectionsLost();
    } else if (health != null) {
      health.suspect();
    }
  }

  private static boolean lostConnection(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null
          && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Connections were found broken (terminated, or the server restarted): the pool replaces its idle ones now
   * rather than one failed request at a time, and the probe looks at once.
   */
  public void connectionsLost() {
    pool.getHikariPoolMXBean().softEvictConnections();
    if (health != null) {
      health.suspect();
    }
  }

  /**
   * Whether the database answers now, from a probe at most a moment old (one probe for a burst of requests): asked
   * before a request is retried on a fresh connection, so a dead database means 503 now, not after the pool's wait.
   */
  public boolean answersNow() {
    return health == null || health.probeIfOlderThan(java.time.Duration.ofMillis(250)) == DatabaseHealth.State.UP;
  }

  /**
   * True when {@code e} (or a cause) says the database cannot serve now: no connection, a lost connection, the server
   * shutting down or starting, too many connections, or a read-only database. Such requests get 503, not 500.
   */
  public static boolean unavailable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLTransientConnectionException || t instanceof java.net.ConnectException) {
        return true;
      }
      if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null) {
        String state = sql.getSQLState();
        if (state.startsWith("08") || state.startsWith("57P") || state.equals("25006") || state.equals("53300")) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * True when {@code e} proves the failed statement never ran: no connection was had, or the server had already
   * ended the connection (it was terminated or shut down while idle in the pool), so the request may safely run
   * again on a fresh one. A connection lost mid-statement (08006) proves nothing and is not retried.
   */
  public static boolean neverRan(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLTransientConnectionException) {
        return true;
      }
      if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null) {
        return List.of("57P01", "57P02", "57P03", "08001", "08004").contains(sql.getSQLState());
      }
    }
    return false;
  }

  @Override
  public void close() {
    if (health != null) {
      health.close();
    }
    pool.close();
    embedded.ifPresent(EmbeddedServer::close);
  }

  private static void closeQuietly(EmbeddedPostgres pg) {
    try {
      pg.close();
    } catch (IOException e) {
      log.warn("Embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage();
  }
}
