package dev.sesame.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

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
    Path data = Files.createTempDirectory("sesame-bench-pg-");
    return new BenchDatabase(EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(true)
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
   * CPU ticks of every PostgreSQL process on this machine (the bench's server, or a local one behind
   * {@code SESAME_DATABASE_URL}); nothing else should run one during a measurement. Each process counts its own
   * time and that of its children it has reaped: a backend or parallel worker that ends (a closed connection) stays
   * counted in the postmaster, so the sum never goes backwards.
   */
  static long ticks() {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().command().map(cmd -> cmd.endsWith("/postgres")).orElse(false))
        .mapToLong(p -> SesameProcess.ticks(p.pid(), true)).sum();
  }

  @Override
  public void close() throws Exception {
    pg.close();
  }
}
