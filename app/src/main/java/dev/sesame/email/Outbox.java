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
  private final Object wake = new Object();
  private volatile boolean pending;

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
   * The INSERT of a message, also usable as a data-modifying CTE so a message is queued in the same statement as
   * the change it belongs to; binds {@code :recipient}, {@code :subject}, {@code :text}, {@code :html} and
   * {@code :expiresAt} (see {@link #bind}).
   */
  static final String INSERT = """
      INSERT INTO email_outbox (recipient, subject, text_body, html_body, expires_at)
      VALUES (:recipient, :subject, :text, :html, :expiresAt)""";

  static <S extends SqlStatement<S>> S bind(S statement, Mailer.OutgoingEmail email, Instant expiresAt) {
    return statement.bind("recipient", email.recipient()).bind("subject", email.subject())
        .bind("text", email.textBody()).bind("html", email.htmlBody()).bind("expiresAt", expiresAt);
  }

  /** Wakes this node's sender after a commit instead of waiting for its next poll. */
  public void nudge() {
    synchronized (wake) {
      pending = true;
      wake.notifyAll();
    }
  }

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

  /** Delivers every due message once; returns how many were handled. */
  int deliverDue() {
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
    for (Claimed message : batch) {
      if (message.expired()) {
        finish(message.id(), "expired");
        log.warn("Dropped outbox message {}: it expired before it could be delivered", message.id());
        continue;
      }
      try {
        mailer.send(new Mailer.OutgoingEmail(message.recipient(), message.subject(), message.textBody(),
            message.htmlBody()));
        finish(message.id(), "sent");
      } catch (Mailer.MailException | RuntimeException e) {
        Duration backoff = backoff(message.attempts());
        jdbi.useHandle(h -> h.createUpdate("""
                UPDATE email_outbox SET next_attempt_at = now() + make_interval(secs => :delay), last_error = :error
                WHERE id = :id
                """)
            .bind("delay", backoff.toMillis() / 1000.0).bind("error", truncate(e.getMessage())).bind("id", message.id())
            .execute());
        log.warn("Outbox message {} not delivered (attempt {}), retrying in {} ms: {}", message.id(),
            message.attempts(), backoff.toMillis(), e.getMessage());
      }
    }
    return batch.size();
  }

  private void finish(long id, String status) {
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE email_outbox
            SET status = :status, sent_at = CASE WHEN :status = 'sent' THEN now() END,
                text_body = CASE WHEN :keep THEN text_body END, html_body = CASE WHEN :keep THEN html_body END
            WHERE id = :id
            """)
        .bind("status", status).bind("keep", keepBodies).bind("id", id).execute());
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
        }
        synchronized (wake) {
          if (!pending && running) {
            try {
              wake.wait(pollInterval.toMillis());
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
          pending = false;
        }
      }
    }

    @Override
    public void close() {
      running = false;
      nudge();
      try {
        thread.join(Duration.ofSeconds(30).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
