package dev.sesame.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real PostgreSQL for tests: {@code SESAME_TEST_DATABASE_URL} when set (a JDBC URL of a server where the user may
 * create databases, e.g. {@code jdbc:postgresql://localhost:5432/postgres?user=postgres&password=x}), otherwise one
 * embedded server for the whole test run. Every call to {@link #create()} makes a new empty database.
 */
public final class TestDatabase {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static volatile String adminUrl;

  private TestDatabase() {}

  /** A JDBC URL (user and password included) of a new, empty database. */
  public static String create() {
    String admin = adminUrl();
    String name = "sesame_test_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
    try (Connection c = DriverManager.getConnection(admin); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database: " + e.getMessage(), e);
    }
    return withDatabase(admin, name);
  }

  private static String adminUrl() {
    if (adminUrl == null) {
      synchronized (TestDatabase.class) {
        if (adminUrl == null) {
          String external = System.getenv("SESAME_TEST_DATABASE_URL");
          if (external != null && !external.isBlank()) {
            adminUrl = external;
          } else {
            try {
              EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
              adminUrl = pg.getJdbcUrl("postgres", "postgres");
              Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                  pg.close();
                } catch (IOException ignored) {
                  // the JVM is going away
                }
              }));
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }
        }
      }
    }
    return adminUrl;
  }

  /** Replaces the database name in a JDBC URL, keeping host, port and parameters. */
  static String withDatabase(String url, String database) {
    int query = url.indexOf('?');
    String base = query < 0 ? url : url.substring(0, query);
    String params = query < 0 ? "" : url.substring(query);
    int slash = base.lastIndexOf('/');
    return base.substring(0, slash + 1) + database + params;
  }
}
