package dev.sesame.maintenance;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes rows that can no longer matter, so tables don't grow forever: audit events past their retention (after the
 * dashboard's roll-up has read them), rate-limit buckets that are empty again, used sign-in challenges once expired,
 * email flows a day after they expired, delivered or dropped outbox rows after a week, refresh tokens a day after
 * they expired, sessions 30 days after they ended, WebAuthn ceremonies an hour after they expired, spent
 * authorization codes and delivered logout notices. Safe on every node at once: each statement is idempotent.
 */
public final class Janitor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Janitor.class);
  /** Rows a big clean-up deletes per statement: a backlog goes in short transactions, not one long lock. */
  static final int BATCH = 10_000;

  private final Jdbi jdbi;
  private final Duration auditRetention;
  private final Runnable rollUp;
  private ScheduledExecutorService scheduler;

  /** @param auditRetention how long audit events are kept ({@code SESAME_AUDIT_RETENTION}) */
  public Janitor(Jdbi jdbi, Duration auditRetention) {
    this(jdbi, auditRetention, () -> { });
  }

  /**
   * @param rollUp what must read audit events before old ones are deleted (the dashboard's daily roll-up); a
   *               failure of it is logged and the clean-up goes on (retention is a promise to the people in the log)
   */
  public Janitor(Jdbi jdbi, Duration auditRetention, Runnable rollUp) {
    this.jdbi = jdbi;
    this.auditRetention = auditRetention;
    this.rollUp = rollUp;
  }

  public Janitor start(Duration every) {
    scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sesame-janitor");
      t.setDaemon(true);
      return t;
    });
    // The first pass soon after start: the dashboard's roll-up and totals are ready minutes after an upgrade.
    scheduler.scheduleWithFixedDelay(this::runSafely, Math.min(30, every.toSeconds()), every.toSeconds(),
        TimeUnit.SECONDS);
    return this;
  }

  private void runSafely() {
    try {
      run();
    } catch (RuntimeException e) {
      log.warn("Clean-up failed, will retry: {}", e.getMessage());
    }
  }

  /** One clean-up pass; returns the number of rows deleted. */
  public int run() {
    try {
      rollUp.run();
    } catch (RuntimeException e) {
      log.warn("Dashboard roll-up failed, will retry: {}", e.getMessage());
    }
    int deleted = inBatches("""
        DELETE FROM audit_events WHERE id IN (
          SELECT id FROM audit_events WHERE occurred_at < now() - make_interval(secs => :retention) LIMIT :batch)
        """, Map.of("retention", auditRetention.toSeconds()));
    // Each clean-up in a statement of its own, the big ones in batches: one long transaction held the row locks of
    // its first deletes (rate_limits, which every email start updates) while it worked through a million expired
    // refresh tokens, and requests queued behind it until the pool ran dry (found by `bench scale`).
    for (String sql : List.of(
        "DELETE FROM rate_limits WHERE tat < now()", // a bucket whose time has passed is empty
        "DELETE FROM used_challenges WHERE expires_at < now()", // expired: refused anyway
        "DELETE FROM readiness_probes WHERE at < now() - interval '1 hour'", // nodes long gone
        "DELETE FROM email_flows WHERE expires_at < now() - interval '1 day'",
        """
        DELETE FROM email_outbox
        WHERE (status <> 'pending' AND created_at < now() - interval '7 days')
           OR (status = 'pending' AND expires_at < now() - interval '7 days')""",
        "DELETE FROM webauthn_ceremonies WHERE expires_at < now() - interval '1 hour'",
        "DELETE FROM authorization_codes WHERE expires_at < now() - interval '1 day'",
        "DELETE FROM logout_notices WHERE coalesce(delivered_at, failed_at) < now() - interval '7 days'")) {
      deleted += jdbi.withHandle(h -> h.execute(sql));
    }
    deleted += inBatches("""
        DELETE FROM refresh_tokens WHERE token_hash IN (
          SELECT token_hash FROM refresh_tokens WHERE expires_at < now() - interval '1 day' LIMIT :batch)
        """, Map.of());
    deleted += inBatches("""
        DELETE FROM sessions WHERE id IN (
          SELECT id FROM sessions WHERE coalesce(revoked_at, expires_at) < now() - interval '30 days' LIMIT :batch)
        """, Map.of());
    return deleted;
  }

  /** Runs a {@code DELETE … LIMIT :batch} until it deletes less than a batch; each batch its own transaction. */
  private int inBatches(String sql, Map<String, Object> arguments) {
    int total = 0;
    int batch;
    do {
      batch = jdbi.withHandle(h -> h.createUpdate(sql).bindMap(arguments).bind("batch", BATCH).execute());
      total += batch;
    } while (batch == BATCH);
    return total;
  }

  @Override
  public void close() {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }
}
