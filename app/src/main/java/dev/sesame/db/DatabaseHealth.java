package dev.sesame.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the database can serve requests now: reachable <em>and writable</em>. A thread writes this node's row in
 * {@code readiness_probes} every second over a connection of its own (outside the pool), with short timeouts, so
 * {@code /ready} turns within a second or two of the database going away, becoming read-only, or coming back; and
 * while it is away, requests fail fast with 503 instead of each waiting for a pool connection. Request threads that
 * meet a connection failure say so ({@link #suspect()}), which makes the next probe come at once.
 */
public final class DatabaseHealth implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DatabaseHealth.class);
  static final Duration INTERVAL = Duration.ofSeconds(1);

  /** The states {@code /ready} reports. */
  public enum State { UP, UNREACHABLE, READ_ONLY }

  private final Notifications.ConnectionSource source;
  private final String node = UUID.randomUUID().toString();
  private final Object wake = new Object();
  private final Thread thread;
  private volatile boolean running = true;
  private volatile boolean reconnect;
  private volatile State state = State.UP;
  private volatile Instant since = Instant.now();
  private volatile String reason = "";
  private Connection connection;

  private final Runnable onUnreachable;
  private volatile long probedAt;

  /** @param onUnreachable run when a probe finds the database unreachable (requests waiting for it are let go) */
  DatabaseHealth(Notifications.ConnectionSource source, Runnable onUnreachable) {
    this.source = source;
    this.onUnreachable = onUnreachable;
    this.thread = new Thread(this::run, "sesame-db-health");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  public State state() {
    return state;
  }

  /** Since when the current state holds. */
  public Instant since() {
    return since;
  }

  /** Why the database is not up (no secrets: a driver message). */
  public String reason() {
    return reason;
  }

  public boolean up() {
    return state == State.UP;
  }

  /**
   * A request just met a connection failure or a read-only refusal: probe now rather than at the next tick, on a
   * fresh connection (the pool's new connections may see settings this probe's older one does not).
   */
  public void suspect() {
    reconnect = true;
    synchronized (wake) {
      wake.notifyAll();
    }
  }

  /** The database is known to be down (its process was seen to die): unreachable until a probe finds it again. */
  synchronized void down(String why) {
    set(State.UNREACHABLE, why);
    closeConnection();
    probedAt = System.nanoTime();
    onUnreachable.run();
  }

  /** The state from a probe no older than {@code maxAge}, probing now if need be. */
  synchronized State probeIfOlderThan(Duration maxAge) {
    if (System.nanoTime() - probedAt <= maxAge.toNanos() && !reconnect) {
      return state;
    }
    return probe();
  }

  /** Probes once, now (also what the background thread does each second). */
  synchronized State probe() {
    if (reconnect) {
      reconnect = false;
      closeConnection();
    }
    try {
      try {
        write(connection != null ? connection : (connection = source.open()));
      } catch (SQLException first) {
        // The probe's own connection may be the one that was ended (terminated, or the server restarted in
        // between); only a fresh connection's answer counts. Per-database settings (read-only) also apply only
        // to new connections.
        closeConnection();
        write(connection = source.open());
      }
      set(State.UP, "");
    } catch (SQLException e) {
      State failed = "25006".equals(e.getSQLState()) ? State.READ_ONLY : State.UNREACHABLE;
      set(failed, e.getMessage());
      closeConnection();
      if (failed == State.UNREACHABLE) {
        onUnreachable.run();
      }
    }
    probedAt = System.nanoTime();
    return state;
  }

  private void write(Connection c) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("""
        INSERT INTO readiness_probes (node, at) VALUES (?, now()) ON CONFLICT (node) DO UPDATE SET at = now()""")) {
      st.setString(1, node);
      st.setQueryTimeout(2);
      st.executeUpdate();
    }
  }

  private void set(State next, String why) {
    if (next != state) {
      if (next == State.UP) {
        log.info("Database is reachable and writable again (was {} for {} s)", state,
            Duration.between(since, Instant.now()).toSeconds());
      } else {
        log.warn("Database is {}: {}", next == State.READ_ONLY ? "read-only" : "unreachable", why);
      }
      since = Instant.now();
      state = next;
    }
    reason = why;
  }

  private void run() {
    while (running) {
      probe();
      synchronized (wake) {
        try {
          wake.wait(INTERVAL.toMillis());
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // it is broken anyway
      }
      connection = null;
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      try {
        if (connection != null) {
          try (PreparedStatement st = connection.prepareStatement("DELETE FROM readiness_probes WHERE node = ?")) {
            st.setString(1, node);
            st.setQueryTimeout(2);
            st.executeUpdate();
          }
        }
      } catch (SQLException ignored) {
        // the row is harmless; the janitor removes old ones
      }
      closeConnection();
    }
  }
}
