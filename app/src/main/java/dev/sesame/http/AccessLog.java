package dev.sesame.http;

import io.javalin.http.Context;
import io.javalin.http.RequestLogger;
import io.javalin.router.Endpoint;
import java.util.HexFormat;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A request id for every request — the trusted proxy's {@code X-Request-Id} when it sent a sane one, else a new one
 * — returned in the {@code X-Request-Id} header and on every log line written while the request runs (MDC
 * {@code request_id}, and {@code user_id} once the request is authenticated). With {@code SESAME_LOG_FORMAT=json},
 * one access line per request: route template (never the path or query, which may hold a link's token), method,
 * status, duration.
 */
final class AccessLog {
  private static final Logger log = LoggerFactory.getLogger("sesame.access");
  private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  static final String HEADER = "X-Request-Id";

  private final ClientIps clientIps;
  private final boolean accessLines;

  AccessLog(ClientIps clientIps, boolean accessLines) {
    this.clientIps = clientIps;
    this.accessLines = accessLines;
  }

  void before(Context ctx) {
    String given = ctx.header(HEADER);
    String id = given != null && SANE.matcher(given).matches() && clientIps.fromTrustedProxy(ctx) ? given : newId();
    MDC.put("request_id", id);
    ctx.header(HEADER, id);
  }

  /** 96 random bits, hex: a correlation id, not a secret (so no SecureRandom lock on every request). */
  private static String newId() {
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    return HexFormat.of().toHexDigits(random.nextLong()) + HexFormat.of().toHexDigits(random.nextInt());
  }

  /** The person this request acts for, once authenticated (on every later log line of the request). */
  static void identify(UUID userId) {
    MDC.put("user_id", userId.toString());
  }

  /** Writes the access line (JSON format), then passes the request on to {@code next} (the metrics). */
  RequestLogger after(RequestLogger next) {
    return (ctx, millis) -> {
      try {
        if (accessLines) {
          Endpoint matched = ctx.endpoints().matchedHttpEndpoint();
          String route = matched == null ? "unmatched" : matched.path;
          log.atInfo().addKeyValue("route", route).addKeyValue("method", ctx.method().name())
              .addKeyValue("status", ctx.statusCode())
              .addKeyValue("duration_ms", millis == null ? 0 : Math.round(millis * 10) / 10.0)
              .log("{} {} {}", ctx.method().name(), route, ctx.statusCode());
        }
        next.handle(ctx, millis);
      } finally {
        MDC.clear();
      }
    };
  }
}
