package dev.sesame.webhooks;

import dev.sesame.outbound.Destinations;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends webhook deliveries: at least once, in order per person and endpoint (a person's next event waits until the
 * one before it is delivered or given up), retried with exponential back-off and jitter for up to 3 days. Every node
 * runs one; rows are claimed with {@code FOR UPDATE SKIP LOCKED} and leased, so no two nodes send one at once, and
 * a node that dies mid-send leaves its rows to be sent again when the lease ends. 10 s timeout, redirects not
 * followed, the destination checked again before each attempt; a batch is sent by up to 8 threads at once.
 */
public final class WebhookSender implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);
  static final Duration GIVE_UP_AFTER = Duration.ofDays(3);
  static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Duration LEASE = Duration.ofMinutes(2);
  private static final int BATCH = 20;

  private final Jdbi jdbi;
  private final Webhooks webhooks;
  private final Destinations destinations;
  private final Consumer<String> results;
  private final dev.sesame.audit.AuditLog audit;
  private org.eclipse.jetty.client.HttpClient http;
  private ScheduledExecutorService scheduler;
  private final java.util.concurrent.ExecutorService senders = Executors.newFixedThreadPool(8, r -> {
    Thread t = new Thread(r, "sesame-webhook-send");
    t.setDaemon(true);
    return t;
  });

  /** @param results told each attempt's result ({@code delivered}, {@code retry}, {@code failed}): the metrics */
  public WebhookSender(Jdbi jdbi, Webhooks webhooks, Destinations destinations, dev.sesame.audit.AuditLog audit,
                       Consumer<String> results) {
    this.audit = audit;
    this.jdbi = jdbi;
    this.webhooks = webhooks;
    this.destinations = destinations;
    this.results = results;
  }

  public WebhookSender start(Duration every) {
    http = dev.sesame.outbound.OutboundHttp.start(destinations, "Sesame-Webhooks/1", TIMEOUT);
    scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sesame-webhooks");
      t.setDaemon(true);
      return t;
    });
    scheduler.scheduleWithFixedDelay(() -> {
      try {
        while (deliverDue() == BATCH) {
          // a full batch: more may be due
        }
      } catch (RuntimeException e) {
        log.warn("Webhook delivery paused, will retry: {}", e.getMessage());
      }
    }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private record Claimed(long id, java.util.UUID endpointId, String url, String secret, String previousSecret,
                         String messageId, String body, int attempts, boolean expired) {}

  /** Sends what is due now; returns how many were claimed. */
  int deliverDue() {
    List<Claimed> batch = jdbi.inTransaction(h -> h.createQuery("""
            UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => :lease)
            FROM (SELECT p.id FROM webhook_deliveries p
                  WHERE p.status = 'pending' AND p.next_attempt_at <= now()
                    AND EXISTS (SELECT 1 FROM webhook_endpoints pe WHERE pe.id = p.endpoint_id AND pe.enabled)
                    AND (p.user_id IS NULL OR NOT EXISTS (
                      SELECT 1 FROM webhook_deliveries q
                      WHERE q.status = 'pending' AND q.endpoint_id = p.endpoint_id AND q.user_id = p.user_id
                        AND q.id < p.id))
                  ORDER BY p.id LIMIT :batch
                  FOR UPDATE SKIP LOCKED) due, webhook_endpoints e
            WHERE d.id = due.id AND e.id = d.endpoint_id
            RETURNING d.id, d.endpoint_id, e.url, e.secret,
                      CASE WHEN e.previous_until > now() THEN e.previous_secret END AS previous_secret,
                      d.message_id, d.payload::text AS body, d.attempts,
                      d.created_at < now() - make_interval(secs => :giveUp) AS expired
            """)
        .bind("lease", LEASE.getSeconds()).bind("batch", BATCH).bind("giveUp", GIVE_UP_AFTER.getSeconds())
        .map((rs, ctx) -> new Claimed(rs.getLong("id"), rs.getObject("endpoint_id", java.util.UUID.class),
            rs.getString("url"), rs.getString("secret"), rs.getString("previous_secret"), rs.getString("message_id"),
            rs.getString("body"), rs.getInt("attempts"), rs.getBoolean("expired")))
        .list());
    // In parallel: one slow or unreachable receiver (10 s each) must not hold up the others. A person's deliveries
    // to one endpoint are never in one batch together (only their oldest pending one is claimed), so order holds.
    List<java.util.concurrent.Future<?>> sending = new java.util.ArrayList<>();
    for (Claimed c : batch) {
      sending.add(senders.submit(() -> deliver(c)));
    }
    for (java.util.concurrent.Future<?> f : sending) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (java.util.concurrent.ExecutionException e) {
        log.warn("Webhook delivery failed unexpectedly: {}", e.getCause().toString());
      }
    }
    return batch.size();
  }

  private void deliver(Claimed c) {
    if (c.expired()) {
      finish(c.id(), "failed", null, "gave up after " + GIVE_UP_AFTER.toDays() + " days", null);
      results.accept("failed");
      disableAfterSustainedFailure(c);
      return;
    }
    Integer status = null;
    String error;
    try {
      destinations.check(c.url());
      String secret = webhooks.secretOf(c.secret()).orElseThrow(() ->
          new IllegalStateException("the endpoint's secret does not open with this SESAME_MASTER_KEY"));
      long timestamp = System.currentTimeMillis() / 1000;
      String signature = Webhooks.sign(secret, c.messageId(), timestamp, c.body());
      if (c.previousSecret() != null) {
        // During a rotation both secrets sign: Standard Webhooks receivers accept any one of the signatures.
        Optional<String> previous = webhooks.secretOf(c.previousSecret());
        if (previous.isPresent()) {
          signature += " " + Webhooks.sign(previous.get(), c.messageId(), timestamp, c.body());
        }
      }
      String signed = signature;
      org.eclipse.jetty.client.ContentResponse response = http.newRequest(c.url())
          .method(org.eclipse.jetty.http.HttpMethod.POST)
          .timeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .headers(h -> h.put("webhook-id", c.messageId())
              .put("webhook-timestamp", Long.toString(timestamp))
              .put("webhook-signature", signed))
          .body(new org.eclipse.jetty.client.StringRequestContent("application/json", c.body(),
              java.nio.charset.StandardCharsets.UTF_8))
          .send();
      status = response.getStatus();
      if (status >= 200 && status < 300) {
        finish(c.id(), "delivered", status, null, null);
        results.accept("delivered");
        return;
      }
      error = "the receiver answered " + status;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return; // shutting down: the lease ends and the delivery is sent again
    } catch (java.util.concurrent.TimeoutException e) {
      error = "no answer within " + TIMEOUT.toSeconds() + " s";
    } catch (java.util.concurrent.ExecutionException | RuntimeException e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
      error = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
    Duration wait = backoff(c.attempts());
    finish(c.id(), "pending", status, error, wait);
    results.accept("retry");
    log.warn("Webhook delivery {} to {} failed (attempt {}), retrying in {} s: {}", c.messageId(), loggable(c.url()),
        c.attempts(), wait.toSeconds(), error);
  }

  /**
   * A delivery failed for 3 days: the endpoint is disabled (its other deliveries wait, they are not lost) and an
   * audit event says so; an operator enables it again once the receiver is fixed.
   */
  private void disableAfterSustainedFailure(Claimed c) {
    jdbi.useTransaction(h -> {
      int disabled = h.createUpdate("""
              UPDATE webhook_endpoints SET enabled = false,
                     disabled_reason = 'deliveries failed for ' || :days || ' days'
              WHERE id = :id AND enabled""")
          .bind("id", c.endpointId()).bind("days", GIVE_UP_AFTER.toDays()).execute();
      if (disabled > 0) {
        audit.record(h, dev.sesame.audit.AuditLog.Type.WEBHOOK_DISABLED, null, null, null,
            java.util.Map.of("endpointId", c.endpointId().toString(), "reason", "sustained_failure"));
        log.warn("Webhook endpoint {} ({}) disabled: its deliveries failed for {} days", c.endpointId(),
            loggable(c.url()),
            GIVE_UP_AFTER.toDays());
      }
    });
  }

  /** A URL fit for the log: scheme, host, port and path; a query may carry the receiver's own token. */
  static String loggable(String url) {
    try {
      java.net.URI u = java.net.URI.create(url);
      return new java.net.URI(u.getScheme(), null, u.getHost(), u.getPort(), u.getPath(), null, null).toString();
    } catch (IllegalArgumentException | java.net.URISyntaxException e) {
      return "(a webhook URL)";
    }
  }

  /** 5 s doubling to 6 hours, each wait ±25% so receivers coming back are not hit by every sender at once. */
  static Duration backoff(int attempts) {
    long base = Math.min(Duration.ofHours(6).toMillis(), 5_000L << Math.min(20, Math.max(0, attempts - 1)));
    double jitter = 0.75 + ThreadLocalRandom.current().nextDouble() * 0.5;
    return Duration.ofMillis((long) (base * jitter));
  }

  private void finish(long id, String status, Integer httpStatus, String error, Duration retryIn) {
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE webhook_deliveries
            SET status = :status, last_status = CAST(:httpStatus AS integer), last_error = :error,
                -- a sent (or abandoned) email.send keeps no live code or link
                payload = CASE WHEN event_type = 'email.send' AND :status <> 'pending' THEN payload - 'data'
                               ELSE payload END,
                delivered_at = CASE WHEN :status = 'delivered' THEN now() END,
                next_attempt_at = CASE WHEN CAST(:retry AS double precision) IS NULL THEN next_attempt_at
                                       ELSE now() + make_interval(secs => CAST(:retry AS double precision)) END
            WHERE id = :id""")
        .bind("status", status).bind("httpStatus", httpStatus)
        .bind("error", error == null ? null : error.length() > 500 ? error.substring(0, 500) : error)
        .bind("retry", retryIn == null ? null : retryIn.toMillis() / 1000.0).bind("id", id).execute());
  }

  @Override
  public void close() {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
    senders.shutdownNow(); // an interrupted send is sent again when its lease ends
    try {
      if (http != null) {
        http.stop();
      }
    } catch (Exception e) {
      log.debug("webhook HTTP client stop: {}", e.toString());
    }
  }
}
