package dev.sesame.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The bench's own PostgreSQL (the same build Sesame embeds), with Sesame's durable settings (fsync and synchronous
 * commit on): Sesame, a seeding step and a peer server (Keycloak) can all use it, each in its own database, and its
 * processes' CPU is measured as "PostgreSQL". {@code SESAME_DATABASE_URL} in the environment replaces it for Sesame.
 */
final class BenchDatabase implements AutoCloseable {
  private final EmbeddedPostgres pg;

  private BenchDatabase(EmbeddedPostgres pg) {
    this.pg = pg;
  }

  static BenchDatabase start() throws Exception {
    return start(false);
  }

  /**
   * @param statementStats load pg_stat_statements (per-statement time, blocks and WAL; costs PostgreSQL a little
   *                       CPU per statement, so only where its figures are printed)
   */
  static BenchDatabase start(boolean statementStats) throws Exception {
    Path data = Files.createTempDirectory("sesame-bench-pg-");
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
    if (statementStats) {
      builder.setServerConfig("shared_preload_libraries", "pg_stat_statements");
    }
    return new BenchDatabase(builder.setDataDirectory(data).setCleanDataDirectory(true)
        .setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on")
        .setServerConfig("full_page_writes", "on")
        .setServerConfig("shared_buffers", "512MB").setServerConfig("max_wal_size", "4GB")
        .setServerConfig("listen_addresses", "127.0.0.1")
        .setPGStartupWait(Duration.ofSeconds(60)).start());
  }

  /** A JDBC URL of {@code database}, created if missing (user postgres, no password: loopback only). */
  String url(String database) throws Exception {
    try (Connection c = DriverManager.getConnection(pg.getJdbcUrl("postgres", "postgres"));
         Statement s = c.createStatement();
         var rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + database + "'")) {
      if (!rs.next()) {
        s.execute("CREATE DATABASE " + database);
      }
    }
    return pg.getJdbcUrl("postgres", database);
  }

  int port() {
    return pg.getPort();
  }

  /** Sesame's settings for {@code database} on this server. */
  Map<String, String> sesameSettings(String database) throws Exception {
    String external = System.getenv("SESAME_DATABASE_URL");
    if (external != null && !external.isBlank()) {
      return Map.of("SESAME_DATABASE_URL", external,
          "SESAME_DATABASE_USER", System.getenv().getOrDefault("SESAME_DATABASE_USER", ""),
          "SESAME_DATABASE_PASSWORD", System.getenv().getOrDefault("SESAME_DATABASE_PASSWORD", ""));
    }
    return Map.of("SESAME_DATABASE_URL", url(database), "SESAME_DATABASE_USER", "postgres",
        "SESAME_DATABASE_PASSWORD", "");
  }

  Connection connect(String database) throws Exception {
    return DriverManager.getConnection(url(database), "postgres", "");
  }

  /**
   * CPU ticks of PostgreSQL on this machine (the bench's server, or a local one behind {@code SESAME_DATABASE_URL}),
   * split by who spent them. {@code connections}: the backends serving client connections (their command line reads
   * {@code postgres: USER DATABASE HOST(PORT) …}) and parallel workers running their queries. {@code background}:
   * everything else: checkpointer, background writer, WAL writer, autovacuum, and what the postmaster reaped from
   * processes that ended (an autovacuum worker that finished; a closed connection, which the bench's fixed-size pools
   * don't do while measuring). Nothing else should run a PostgreSQL during a measurement.
   */
  record Ticks(long connections, long background) {
    long total() {
      return connections + background;
    }

    Ticks minus(Ticks earlier) {
      return new Ticks(connections - earlier.connections, background - earlier.background);
    }
  }

  private static final Pattern CONNECTION = Pattern.compile(
      "postgres: (\\S+ \\S+ (\\[local]|\\S+\\(\\d+\\))|parallel worker).*");

  static Ticks ticks() {
    long connections = 0;
    long background = 0;
    for (ProcessHandle p : (Iterable<ProcessHandle>) ProcessHandle.allProcesses()::iterator) {
      if (!p.info().command().map(cmd -> cmd.endsWith("/postgres")).orElse(false)) {
        continue;
      }
      String title = commandLine(p.pid());
      if (CONNECTION.matcher(title).matches()) {
        connections += SesameProcess.ticks(p.pid());
      } else { // the postmaster (with what it reaped) or a background process
        background += SesameProcess.ticks(p.pid(), true);
      }
    }
    return new Ticks(connections, background);
  }

  /** The process title PostgreSQL sets ({@code /proc/PID/cmdline}; NULs as spaces). */
  private static String commandLine(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
          java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ').strip();
    } catch (java.io.IOException e) {
      return "";
    }
  }

  @Override
  public void close() throws Exception {
    pg.close();
  }
}
