package dev.sesame.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A PostgreSQL {@code LISTEN} on one channel, on its own thread and connection (see {@link Database#listen}). */
public final class Notifications implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Notifications.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  interface ConnectionSource {
    Connection open() throws SQLException;
  }

  private final ConnectionSource source;
  private final String channel;
  private final Runnable onNotify;
  private final Thread thread;
  private volatile boolean running = true;
  private volatile Connection connection;

  Notifications(ConnectionSource source, String channel, Runnable onNotify) {
    if (!channel.matches("[a-z_]+")) {
      throw new IllegalArgumentException("channel names are lower-case identifiers");
    }
    this.source = source;
    this.channel = channel;
    this.onNotify = onNotify;
    this.thread = new Thread(this::run, "sesame-listen-" + channel);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Sends {@code NOTIFY channel} through {@code statement}'s connection: delivered when its transaction commits. */
  public static void notify(org.jdbi.v3.core.Handle h, String channel) {
    if (!channel.matches("[a-z_]+")) {
      throw new IllegalArgumentException("channel names are lower-case identifiers");
    }
    h.execute("NOTIFY " + channel);
  }

  private void run() {
    long backoffMs = 500;
    while (running) {
      try (Connection c = source.open(); Statement st = c.createStatement()) {
        connection = c;
        st.execute("LISTEN " + channel);
        backoffMs = 500;
        deliver(); // anything sent while this node was not listening
        PGConnection pg = c.unwrap(PGConnection.class);
        long checked = System.nanoTime();
        while (running) {
          PGNotification[] received = pg.getNotifications(1000); // a server going away throws here
          if (received != null && received.length > 0) {
            deliver();
          }
          if (System.nanoTime() - checked > 10_000_000_000L) { // and a silently dead network, here
            if (!c.isValid(5)) {
              throw new SQLException("listen connection lost");
            }
            checked = System.nanoTime();
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (!running) {
          return;
        }
        log.warn("Listening on {} failed, retrying in {} ms: {}", channel, backoffMs, e.getMessage());
        sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF.toMillis());
      } finally {
        connection = null;
      }
    }
  }

  private void deliver() {
    try {
      onNotify.run();
    } catch (RuntimeException e) {
      log.warn("Handling a notification on {} failed: {}", channel, e.getMessage());
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    running = false;
    Connection c = connection;
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // going away anyway
      }
    }
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
