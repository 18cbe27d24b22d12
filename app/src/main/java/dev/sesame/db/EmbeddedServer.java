package dev.sesame.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL of {@code java -jar}, supervised: its postmaster runs detached from Sesame (pg_ctl
 * daemonizes it), so nothing would notice it die. A watcher looks each second; when the postmaster is gone it starts
 * a new one on the same data directory and port, with back-off (1 s doubling to 30 s) while that fails (e.g. the old
 * server's processes still hold its shared memory for a moment).
 */
final class EmbeddedServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedServer.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private final Path dir;
  private final String password;
  private final int port;
  private final AtomicInteger restarts = new AtomicInteger();
  private volatile EmbeddedPostgres pg;
  private volatile boolean closing;
  private ScheduledExecutorService watcher;

  private EmbeddedServer(Path dir, String password, EmbeddedPostgres pg) {
    this.dir = dir;
    this.password = password;
    this.pg = pg;
    this.port = pg.getPort();
  }

  static EmbeddedServer start(Path dir, String password) {
    return new EmbeddedServer(dir, password, Database.startEmbedded(dir, password, 0));
  }

  String jdbcUrl() {
    return pg.getJdbcUrl("postgres", "postgres");
  }

  /** How many times the server was started again after it died. */
  int restarts() {
    return restarts.get();
  }

  /**
   * Watches the postmaster: when it is found dead, {@code onDied} runs (requests stop waiting for it); after each
   * restart, {@code onRestarted} runs (the pool drops its dead connections).
   */
  void supervise(Runnable onDied, Runnable onRestarted) {
    watcher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sesame-embedded-postgres");
      t.setDaemon(true);
      return t;
    });
    watcher.scheduleWithFixedDelay(() -> {
      if (!closing && !postmasterAlive()) {
        onDied.run();
        restart(onRestarted);
      }
    }, 1, 1, TimeUnit.SECONDS);
  }

  /** The postmaster's PID is the first line of postmaster.pid; the file is gone after a clean stop. */
  boolean postmasterAlive() {
    try {
      List<String> lines = Files.readAllLines(dir.resolve("postmaster.pid"));
      long pid = Long.parseLong(lines.get(0).strip());
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private void restart(Runnable onRestarted) {
    log.error("Embedded PostgreSQL has stopped unexpectedly; starting it again on the same data");
    closeQuietly(pg); // releases zonky's lock on the data directory
    long backoff = 1000;
    while (!closing) {
      try {
        pg = Database.startEmbedded(dir, password, port);
        restarts.incrementAndGet();
        log.info("Embedded PostgreSQL is running again on port {}", port);
        onRestarted.run();
        return;
      } catch (RuntimeException e) {
        log.warn("Embedded PostgreSQL did not start, retrying in {} ms: {}", backoff, e.getMessage());
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException interrupted) {
          return;
        }
        backoff = Math.min(backoff * 2, MAX_BACKOFF.toMillis());
      }
    }
  }

  private static void closeQuietly(EmbeddedPostgres server) {
    try {
      server.close();
    } catch (IOException | RuntimeException e) {
      log.warn("Embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
    }
  }

  @Override
  public void close() {
    closing = true;
    if (watcher != null) {
      watcher.shutdownNow();
      try {
        watcher.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    closeQuietly(pg);
  }
}
