package dev.sesame.email;

import dev.sesame.db.Sql;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.SqlStatement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The email outbox: a request writes its message in the same transaction as the flow it belongs to; a background
 * {@link Sender} on every node delivers it. Rows are claimed with {@code FOR UPDATE SKIP LOCKED} under a lease, so
 * nodes never send the same message twice at once, and a node that dies mid-send only delays the message.
 */
public final class Outbox {
  private static final Logger log = LoggerFactory.getLogger(Outbox.class);
  private static final Duration LEASE = Duration.ofMinutes(2);
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(10);
  private static final int BATCH = 20;

  private final Jdbi jdbi;
  private final Mailer mailer;
  private final boolean keepBodies;
  private final dev.sesame.common.Wakeup wake = new dev.sesame.common.Wakeup();
  private volatile boolean stopping;

  /**
   * @param keepBodies keep delivered bodies for {@code /dev/mail}; in production they are wiped after delivery,
   *     because they hold a live link and code.
   */
  public Outbox(Jdbi jdbi, Mailer mailer, boolean keepBodies) {
    this.jdbi = jdbi;
    this.mailer = mailer;
    this.keepBodies = keepBodies;
  }

  public record StoredMessage(long id, String recipient, String subject, String textBody, String htmlBody,
                              Instant createdAt, String status) {}

  /**
   * The INSERT of a message, usable as the last part of a statement whose CTE {@code allowed} says whether to send
   * ({@code ok}), so a message is queued in the same statement as the change it belongs to; binds
   * {@code :recipient}, {@code :subject}, {@code :text}, {@code :html} and {@code :expiresAt} (see {@link #bind}).
   */
  static final String INSERT_IF_ALLOWED = """
      INSERT INTO email_outbox (recipient, subject, text_body, html_body, expires_at)
      SELECT :recipient, :subject, :text, :html, :expiresAt FROM allowed WHERE ok""";

  /** Queues a message in the caller's transaction (it goes out only if that commits); its id. */
  static long queue(org.jdbi.v3.core.Handle h, Mailer.OutgoingEmail email, Instant expiresAt) {
    return bind(h.createQuery("""
        INSERT INTO email_outbox (recipient, subject, text_body, html_body, expires_at)
        VALUES (:recipient, :subject, :text, :html, :expiresAt) RETURNING id"""), email, expiresAt)
        .mapTo(Long.class).one();
  }

  static <S extends SqlStatement<S>> S bind(S statement, Mailer.OutgoingEmail email, Instant expiresAt) {
    return statement.bind("recipient", email.recipient()).bind("subject", email.subject())
        .bind("text", email.textBody()).bind("html", email.htmlBody()).bind("expiresAt", expiresAt);
  }

  /** Wakes this node's sender after a commit instead of waiting for its next poll. */
  public void nudge() {
    wake.nudge();
  }

  /** What waits to be sent: how many messages, and the age of the oldest (0 when none). */
  public record Backlog(long depth, double oldestSeconds) {}

  public Backlog backlog() {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT count(*) AS depth, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest
            FROM email_outbox WHERE status = 'pending'""")
        .map((rs, ctx) -> new Backlog(rs.getLong("depth"), rs.getDouble("oldest"))).one());
  }

  /** Tells {@code deliveries} each attempt's result ({@code sent}, {@code retry}, {@code expired}): the metrics. */
  public Outbox countingDeliveries(java.util.function.Consumer<String> deliveries) {
    this.deliveries = deliveries;
    return this;
  }

  private volatile java.util.function.Consumer<String> deliveries = result -> { };

  /** The newest messages, for the development mailbox. */
  public List<StoredMessage> latest(int limit) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, recipient, subject, text_body, html_body, created_at, status
            FROM email_outbox ORDER BY id DESC LIMIT :limit
            """)
        .bind("limit", limit)
        .map((rs, ctx) -> new StoredMessage(rs.getLong("id"), rs.getString("recipient"), rs.getString("subject"),
            rs.getString("text_body"), rs.getString("html_body"),
            Sql.instant(rs, "created_at"), rs.getString("status")))
        .list());
  }

  private record Claimed(long id, String recipient, String subject, String textBody, String htmlBody,
                         boolean expired, int attempts) {}

  /** What became of a claimed message, to be written back; kept in memory until the database takes it. */
  private record Mark(long id, String status, Duration retryIn, String error) {}

  /** Outcomes not yet written (the database failed when they were): written before anything new is claimed. */
  private final java.util.ArrayDeque<Mark> unwritten = new java.util.ArrayDeque<>();

  /**
   * Delivers every due message once; returns how many were handled. A claimed batch is always worked through to the
   * end: when writing an outcome fails (the database is restarting), the outcome is kept in memory and the rest of
   * the batch is still sent, instead of waiting out its lease; the outcomes are written as soon as the database
   * answers, before anything else is claimed. So a message is sent twice only if this node dies between the mail
   * server's acceptance and that write.
   */
  int deliverDue() {
    writeUnwritten(); // throws while the database is away: nothing new is claimed until the old outcomes are in
    List<Claimed> batch = jdbi.inTransaction(h -> h.createQuery("""
            UPDATE email_outbox o
            SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => :lease)
            FROM (SELECT id FROM email_outbox
                  WHERE status = 'pending' AND next_attempt_at <= now()
                  ORDER BY next_attempt_at LIMIT :batch
                  FOR UPDATE SKIP LOCKED) due
            WHERE o.id = due.id
            RETURNING o.id, o.recipient, o.subject, o.text_body, o.html_body, o.expires_at < now() AS expired,
                      o.attempts
            """)
        .bind("lease", LEASE.getSeconds()).bind("batch", BATCH)
        .map((rs, ctx) -> new Claimed(rs.getLong("id"), rs.getString("recipient"), rs.getString("subject"),
            rs.getString("text_body"), rs.getString("html_body"), rs.getBoolean("expired"), rs.getInt("attempts")))
        .list());
    try (Mailer.Batch connection = mailer.batch()) { // one SMTP connection for the batch
      for (int i = 0; i < batch.size(); i++) {
        Claimed message = batch.get(i);
        if (stopping) {
          release(batch.subList(i, batch.size())); // another node (or the next start) takes them at once
          break;
        }
        if (message.expired()) {
          record(new Mark(message.id(), "expired", null, null));
          deliveries.accept("expired");
          log.warn("Dropped outbox message {}: it expired before it could be delivered", message.id());
          continue;
        }
        try {
          connection.send(message.id(), new Mailer.OutgoingEmail(message.recipient(), message.subject(),
              message.textBody(), message.htmlBody()));
          record(new Mark(message.id(), "sent", null, null));
          deliveries.accept("sent");
        } catch (Mailer.MailException | RuntimeException e) {
          deliveries.accept("retry");
          Duration backoff = backoff(message.attempts());
          record(new Mark(message.id(), "pending", backoff, truncate(e.getMessage())));
          log.warn("Outbox message {} not delivered (attempt {}), retrying in {} ms: {}", message.id(),
              message.attempts(), backoff.toMillis(), e.getMessage());
        }
      }
    }
    writeUnwritten();
    return batch.size();
  }

  private void record(Mark mark) {
    synchronized (unwritten) {
      unwritten.add(mark);
    }
    try {
      writeUnwritten();
    } catch (RuntimeException e) {
      log.warn("Outbox: the outcome of message {} is kept until the database answers: {}", mark.id(),
          e.getMessage());
    }
  }

  /** Writes the kept outcomes, oldest first; throws (keeping the rest) when the database fails. */
  private void writeUnwritten() {
    synchronized (unwritten) {
      while (!unwritten.isEmpty()) {
        Mark mark = unwritten.peek();
        jdbi.useHandle(h -> {
          if (mark.status().equals("pending")) {
            h.createUpdate("""
                    UPDATE email_outbox SET next_attempt_at = now() + make_interval(secs => :delay), last_error = :error
                    WHERE id = :id AND status = 'pending'
                    """)
                .bind("delay", mark.retryIn().toMillis() / 1000.0).bind("error", mark.error()).bind("id", mark.id())
                .execute();
          } else if (mark.status().equals("expired")) {
            // Never delivered: the audit log (and through it the email.delivery_failed webhook) says so, in the same
            // statement, naming the person when the address is theirs (ids only, no address).
            h.createUpdate("""
                    WITH dropped AS (
                      UPDATE email_outbox SET status = 'expired', text_body = NULL, html_body = NULL
                      WHERE id = :id AND status = 'pending' RETURNING id, recipient, attempts, last_error)
                    INSERT INTO audit_events (type, user_id, details)
                    SELECT 'email.delivery_failed', (SELECT u.id FROM users u WHERE lower(u.email) = lower(d.recipient)),
                           jsonb_build_object('outboxId', d.id, 'attempts', d.attempts,
                                              'reason', CASE WHEN d.last_error IS NULL THEN 'expired_before_sending'
                                                             ELSE 'expired_after_failures' END)
                    FROM dropped d
                    """)
                .bind("id", mark.id()).execute();
          } else {
            h.createUpdate("""
                    UPDATE email_outbox
                    SET status = :status, sent_at = CASE WHEN :status = 'sent' THEN now() END,
                        text_body = CASE WHEN :keep THEN text_body END, html_body = CASE WHEN :keep THEN html_body END
                    WHERE id = :id
                    """)
                .bind("status", mark.status()).bind("keep", keepBodies).bind("id", mark.id()).execute();
          }
        });
        unwritten.poll();
      }
    }
  }

  /** Gives claimed messages back before their lease ends (best effort: the lease covers a failure here). */
  private void release(List<Claimed> messages) {
    try {
      jdbi.useHandle(h -> h.createUpdate(
              "UPDATE email_outbox SET next_attempt_at = now() WHERE id = ANY(:ids) AND status = 'pending'")
          .bind("ids", messages.stream().mapToLong(Claimed::id).toArray()).execute());
    } catch (RuntimeException e) {
      log.warn("Outbox: could not release {} claimed message(s); they wait out their lease: {}", messages.size(),
          e.getMessage());
    }
  }

  /** 1s, 2s, 4s … capped at 10 minutes, with ±20% jitter so many nodes don't retry in lockstep. */
  static Duration backoff(int attempts) {
    long base = 1000L << Math.min(attempts - 1, 20);
    long capped = Math.min(base, MAX_BACKOFF.toMillis());
    double jitter = 0.8 + ThreadLocalRandom.current().nextDouble() * 0.4;
    return Duration.ofMillis((long) (capped * jitter));
  }

  private static String truncate(String s) {
    if (s == null) {
      return "unknown error";
    }
    return s.length() > 500 ? s.substring(0, 500) : s;
  }

  private boolean hasUnwritten() {
    synchronized (unwritten) {
      return !unwritten.isEmpty();
    }
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Starts this node's background sender. */
  public Sender startSender(Duration pollInterval) {
    Sender sender = new Sender(pollInterval);
    sender.thread.start();
    return sender;
  }

  /** The background delivery loop of one node; {@link #close()} lets the current message finish. */
  public final class Sender implements AutoCloseable {
    private final Thread thread;
    private final Duration pollInterval;
    private volatile boolean running = true;

    private Sender(Duration pollInterval) {
      this.pollInterval = pollInterval;
      this.thread = new Thread(this::run, "sesame-outbox-" + UUID.randomUUID().toString().substring(0, 8));
      this.thread.setDaemon(true);
    }

    private void run() {
      while (running) {
        try {
          int handled = deliverDue();
          if (handled > 0) {
            continue; // there may be more
          }
        } catch (RuntimeException e) {
          log.warn("Outbox sender: {}", e.getMessage()); // e.g. database restarting; try again next round
          if (hasUnwritten()) {
            sleepQuietly(500); // outcomes to write: look again soon, not at the next poll
            continue;
          }
        }
        if (running && !wake.await(pollInterval)) {
          return;
        }
      }
    }

    @Override
    public void close() {
      running = false;
      stopping = true;
      nudge();
      try {
        thread.join(Duration.ofSeconds(30).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try {
        writeUnwritten();
      } catch (RuntimeException e) {
        log.warn("Outbox: {} delivery outcome(s) could not be written; those messages may be sent again: {}",
            unwritten.size(), e.getMessage());
      }
    }
  }
}
