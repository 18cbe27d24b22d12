package dev.sesame.metrics;

import dev.sesame.audit.AuditLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Sesame's meters, one registry per server, scraped in Prometheus text format at {@code /metrics}. Sign-ins,
 * sign-ups and refresh-token reuse are counted from the audit events as they are recorded (so every feature's
 * events count without code of their own); HTTP requests by route template, method and status; email deliveries
 * by result; rate-limit refusals by limit; the database pool (HikariCP's own meters) and the JVM's.
 */
public final class Metrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final Counter signUps;
  private final Counter refreshReuse;

  public Metrics() {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    signUps = Counter.builder("sesame.sign.ups").description("Accounts created by a first sign-in")
        .register(registry);
    refreshReuse = Counter.builder("sesame.refresh.token.reuse")
        .description("Refresh tokens presented again after rotation; each revoked its session").register(registry);
    // Present from the start at zero, so a rate() works before the first sign-in.
    for (String method : new String[] {"passkey", "email_code", "email_link", "email_link_other_device"}) {
      signIns(method, "succeeded");
    }
    signIns("passkey", "failed");
    signIns("email", "failed");
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  /** Meters are looked up once per series and kept: building a meter id on every request costs more than counting. */
  private final java.util.concurrent.ConcurrentHashMap<String, Counter> signIns = new java.util.concurrent.ConcurrentHashMap<>();

  private static final java.util.Set<String> KNOWN_METHODS =
      java.util.Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

  private record RequestSeries(String route, String method, int status) {}

  private final java.util.concurrent.ConcurrentHashMap<RequestSeries, Timer> requests =
      new java.util.concurrent.ConcurrentHashMap<>();

  private Counter signIns(String method, String result) {
    return signIns.computeIfAbsent(method + "|" + result, k -> Counter.builder("sesame.sign.ins")
        .description("Sign-ins by method and result").tags("method", method, "result", result).register(registry));
  }

  /** Counts an audit event as it is recorded. */
  public void auditEvent(AuditLog.Event event) {
    Map<String, ?> d = event.details();
    switch (event.type()) {
      case PASSKEY_SIGN_IN_SUCCEEDED -> signIns("passkey", "succeeded").increment();
      case PASSKEY_SIGN_IN_FAILED -> signIns("passkey", "failed").increment();
      case EMAIL_SIGN_IN_SUCCEEDED -> signIns("email_" + (d.get("method") == null ? "link" : d.get("method")),
          "succeeded").increment();
      case EMAIL_SIGN_IN_FAILED -> signIns("email", "failed").increment();
      case USER_CREATED -> signUps.increment();
      case REFRESH_TOKEN_REUSED -> refreshReuse.increment();
      default -> { }
    }
  }

  /** A request refused by a rate limit ({@code limit}: which one, e.g. {@code email-start}). */
  public void rateLimited(String limit) {
    Counter.builder("sesame.rate.limited").description("Requests refused by a rate limit").tag("limit", limit)
        .register(registry).increment();
  }

  /** An email delivery attempt's result: {@code sent}, {@code retry} or {@code expired}. */
  public void emailDelivery(String result) {
    Counter.builder("sesame.email.deliveries").description("Email delivery attempts by result")
        .tag("result", result).register(registry).increment();
  }

  /** A webhook delivery attempt's result: {@code delivered}, {@code retry} or {@code failed} (gave up). */
  public void webhookDelivery(String result) {
    Counter.builder("sesame.webhook.deliveries").description("Webhook delivery attempts by result")
        .tag("result", result).register(registry).increment();
  }

  /** One HTTP request: its route template (or {@code unmatched}), method, status and duration. */
  public void httpRequest(String route, String method, int status, float millis) {
    // Every label from a small known set: a value a client chose would be a new series (memory) per request.
    String knownMethod = KNOWN_METHODS.contains(method) ? method : "other";
    int knownStatus = status >= 100 && status <= 599 ? status : 0;
    requests.computeIfAbsent(new RequestSeries(route, knownMethod, knownStatus), k -> Timer.builder("http.server.requests")
            .description("HTTP requests by route, method and status")
            .tags("route", route, "method", knownMethod, "status", Integer.toString(knownStatus))
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
            .register(registry))
        .record((long) (millis * 1_000_000L), TimeUnit.NANOSECONDS);
  }

  /** A gauge read when scraped (e.g. the outbox's depth, queried from the database then). */
  public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).description(description).register(registry);
  }

  /** A counter whose total the source keeps (e.g. embedded-database restarts). */
  public <T> void counter(String name, String description, T source, ToDoubleFunction<T> total) {
    FunctionCounter.builder(name, source, total).description(description).register(registry);
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
