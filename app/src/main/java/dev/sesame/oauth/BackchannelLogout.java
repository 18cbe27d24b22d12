package dev.sesame.oauth;

import dev.sesame.outbound.Destinations;
import dev.sesame.common.Wakeup;
import dev.sesame.sessions.SessionService;
import dev.sesame.tokens.IdTokens;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenID Connect Back-Channel Logout 1.0: when a session of a client that registered a {@code backchannel_logout_uri}
 * ends, a notice is written in the same transaction ({@link #ended}); a background sender on every node delivers
 * it — a logout token POSTed to the client (§2.5) — claiming notices with {@code FOR UPDATE SKIP LOCKED} under a
 * lease, retrying with backoff (2 s, 4 s, 8 s … capped at an hour) until the client answers 200 or 204, and giving
 * up after {@value #MAX_ATTEMPTS} attempts (about five hours). At least once: a node that dies mid-delivery only
 * delays the notice; a client may see one twice (the {@code jti} differs, the {@code sid} does not).
 */
public final class BackchannelLogout implements SessionService.EndListener {
  static final int MAX_ATTEMPTS = 15;
  private static final Logger log = LoggerFactory.getLogger(BackchannelLogout.class);
  private static final Duration LEASE = Duration.ofMinutes(1);
  private static final Duration MAX_BACKOFF = Duration.ofHours(1);
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final int BATCH = 20;

  private final Jdbi jdbi;
  private final IdTokens idTokens;
  private final Destinations destinations;
  // §2.5: the RP answers itself; a redirect is a failure. Only to addresses the SSRF rules allow, as webhooks.
  private volatile org.eclipse.jetty.client.HttpClient http;
  // Notices go out side by side: one slow or unreachable receiver (up to TIMEOUT each) holds up no other client's.
  private final java.util.concurrent.ExecutorService senders = java.util.concurrent.Executors.newFixedThreadPool(8,
      r -> {
        Thread t = new Thread(r, "sesame-backchannel-send");
        t.setDaemon(true);
        return t;
      });
  private final Wakeup wake = new Wakeup();
  private volatile boolean running = true;
  private Thread thread;

  public BackchannelLogout(Jdbi jdbi, IdTokens idTokens, Destinations destinations) {
    this.jdbi = jdbi;
    this.idTokens = idTokens;
    this.destinations = destinations;
  }

  /** Writes the notice for an ended session, if its client wants one; wakes the sender after the commit. */
  @Override
  public void ended(Handle h, UUID sessionId, UUID userId, String clientId) {
    if (clientId == null) {
      return; // the first-party client has no back channel
    }
    int written = h.createUpdate("""
            INSERT INTO logout_notices (client_id, uri, user_id, session_id)
            SELECT client_id, backchannel_logout_uri, :userId, :sessionId FROM oauth_clients
            WHERE client_id = :clientId AND backchannel_logout_uri IS NOT NULL
            """)
        .bind("userId", userId).bind("sessionId", sessionId).bind("clientId", clientId).execute();
    if (written > 0) {
      h.afterCommit(this::nudge);
    }
  }

  private record Claimed(long id, String clientId, String alg, String uri, UUID userId, UUID sessionId,
                         int attempts) {}

  /** Delivers every due notice once; returns how many were claimed. */
  int deliverDue() {
    List<Claimed> batch = jdbi.inTransaction(h -> h.createQuery("""
            UPDATE logout_notices n
            SET attempts = n.attempts + 1, next_attempt_at = now() + make_interval(secs => :lease)
            FROM (SELECT id FROM logout_notices
                  WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
                  ORDER BY next_attempt_at LIMIT :batch
                  FOR UPDATE SKIP LOCKED) due
            WHERE n.id = due.id
            RETURNING n.id, n.client_id, n.uri, n.user_id, n.session_id, n.attempts,
                      (SELECT id_token_signed_response_alg FROM oauth_clients c WHERE c.client_id = n.client_id)
                        AS alg
            """)
        .bind("lease", LEASE.getSeconds()).bind("batch", BATCH)
        .map((rs, ctx) -> new Claimed(rs.getLong("id"), rs.getString("client_id"), rs.getString("alg"),
            rs.getString("uri"), rs.getObject("user_id", UUID.class), rs.getObject("session_id", UUID.class),
            rs.getInt("attempts")))
        .list());
    List<java.util.concurrent.Future<?>> sending = new java.util.ArrayList<>();
    for (Claimed notice : batch) {
      sending.add(senders.submit(() -> {
        if (!running) {
          return; // the lease gives it to another node, or to the next start
        }
        String error = notice.alg() == null ? "the client was deleted" : deliver(notice);
        try {
          record(notice, error);
        } catch (RuntimeException e) {
          log.warn("Back-channel logout notice {}: outcome not written ({}); the notice may be sent again",
              notice.id(), e.getMessage());
        }
      }));
    }
    for (java.util.concurrent.Future<?> f : sending) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (java.util.concurrent.ExecutionException e) {
        log.warn("Back-channel logout delivery failed unexpectedly: {}", e.getCause().toString());
      }
    }
    return batch.size();
  }

  /**
   * POSTs the logout token; null when the client took it, else what went wrong. The whole exchange (connect, send,
   * the entire answer) is bounded by TIMEOUT: a receiver trickling its answer is cut off, not waited for.
   */
  private String deliver(Claimed notice) {
    String token = idTokens.logoutToken(notice.clientId(), notice.alg(), notice.userId(), notice.sessionId());
    try {
      destinations.check(notice.uri());
      org.eclipse.jetty.client.ContentResponse response = client().newRequest(notice.uri())
          .method(org.eclipse.jetty.http.HttpMethod.POST)
          .timeout(TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .body(new org.eclipse.jetty.client.StringRequestContent("application/x-www-form-urlencoded",
              "logout_token=" + URLEncoder.encode(token, StandardCharsets.UTF_8), StandardCharsets.US_ASCII))
          .send();
      int status = response.getStatus();
      return status == 200 || status == 204 ? null : "HTTP " + status;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    } catch (java.util.concurrent.TimeoutException e) {
      return "no complete answer within " + TIMEOUT.toSeconds() + " s";
    } catch (java.util.concurrent.ExecutionException | RuntimeException e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
      return cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
    }
  }

  private org.eclipse.jetty.client.HttpClient client() {
    org.eclipse.jetty.client.HttpClient c = http;
    if (c == null) {
      synchronized (this) {
        if (http == null) {
          http = dev.sesame.outbound.OutboundHttp.start(destinations, "Sesame-Logout/1", Duration.ofSeconds(5));
        }
        c = http;
      }
    }
    return c;
  }

  private void record(Claimed notice, String error) {
    if (error == null) {
      jdbi.useHandle(h -> h.createUpdate(
              "UPDATE logout_notices SET delivered_at = now(), last_error = NULL WHERE id = :id")
          .bind("id", notice.id()).execute());
      return;
    }
    boolean giveUp = notice.attempts() >= MAX_ATTEMPTS || notice.alg() == null;
    Duration retryIn = backoff(notice.attempts());
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE logout_notices
            SET last_error = :error,
                failed_at = CASE WHEN :giveUp THEN now() END,
                next_attempt_at = now() + make_interval(secs => :delay)
            WHERE id = :id
            """)
        .bind("error", error.length() > 500 ? error.substring(0, 500) : error).bind("giveUp", giveUp)
        .bind("delay", retryIn.toMillis() / 1000.0).bind("id", notice.id()).execute());
    if (giveUp) {
      log.warn("Back-channel logout to client {} failed for good after {} attempts: {}", notice.clientId(),
          notice.attempts(), error);
    } else {
      log.info("Back-channel logout to client {} not delivered (attempt {}), retrying in {} s: {}",
          notice.clientId(), notice.attempts(), retryIn.toSeconds(), error);
    }
  }

  /** 2 s, 4 s, 8 s … capped at an hour, with ±20% jitter. */
  static Duration backoff(int attempts) {
    long base = 2000L << Math.min(Math.max(attempts - 1, 0), 20);
    long capped = Math.min(base, MAX_BACKOFF.toMillis());
    return Duration.ofMillis((long) (capped * (0.8 + ThreadLocalRandom.current().nextDouble() * 0.4)));
  }

  public void nudge() {
    wake.nudge();
  }

  /** Starts this node's sender; closing it lets the current delivery finish. */
  public AutoCloseable start(Duration pollInterval) {
    thread = new Thread(() -> run(pollInterval), "sesame-backchannel-logout");
    thread.setDaemon(true);
    thread.start();
    return () -> {
      running = false;
      nudge();
      thread.join(Duration.ofSeconds(15).toMillis());
      senders.shutdownNow();
      if (http != null) {
        http.stop();
      }
    };
  }

  private void run(Duration pollInterval) {
    while (running) {
      try {
        if (deliverDue() > 0) {
          continue;
        }
      } catch (RuntimeException e) {
        log.warn("Back-channel logout sender: {}", e.getMessage()); // e.g. the database restarting
      }
      if (running && !wake.await(pollInterval)) {
        return;
      }
    }
  }
}
