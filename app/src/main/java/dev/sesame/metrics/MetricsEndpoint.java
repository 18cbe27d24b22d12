package dev.sesame.metrics;

import com.sun.net.httpserver.HttpServer;
import dev.sesame.common.ApiException;
import dev.sesame.common.Secrets;
import dev.sesame.config.Config;
import dev.sesame.http.Feature;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.RequestLogger;
import io.javalin.router.Endpoint;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /metrics} in Prometheus text format: on its own port ({@code SESAME_METRICS_PORT}, a plain JDK server
 * with nothing else on it) and/or on the main port to requests bearing {@code SESAME_METRICS_TOKEN}. Neither set:
 * there is no {@code /metrics} at all.
 */
public final class MetricsEndpoint implements Feature, AutoCloseable {
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final Metrics metrics;
  private final Config.Metrics config;
  private HttpServer ownPort;

  public MetricsEndpoint(Metrics metrics, Config.Metrics config) {
    this.metrics = metrics;
    this.config = config;
  }

  /** Starts the metrics port, if one is configured, on {@code host}. */
  public MetricsEndpoint start(String host) {
    config.port().ifPresent(port -> {
      try {
        ownPort = HttpServer.create(new InetSocketAddress(host, port), 16);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot listen on " + host + ":" + port + " for /metrics", e);
      }
      ownPort.createContext("/metrics", exchange -> {
        byte[] body = "GET".equals(exchange.getRequestMethod())
            ? metrics.scrape().getBytes(StandardCharsets.UTF_8) : new byte[0];
        exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
        exchange.sendResponseHeaders("GET".equals(exchange.getRequestMethod()) ? 200 : 405, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      });
      ownPort.start();
    });
    return this;
  }

  /** The port the metrics server listens on (its own, when configured). */
  public int port() {
    return ownPort == null ? -1 : ownPort.getAddress().getPort();
  }

  @Override
  public void routes(RoutesConfig routes) {
    if (config.token().isPresent()) {
      routes.get("/metrics", this::scrape);
    }
  }

  void scrape(Context ctx) {
    String header = ctx.header("Authorization");
    String expected = "Bearer " + config.token().orElseThrow().reveal();
    if (header == null || !Secrets.constantTimeEquals(header.getBytes(StandardCharsets.UTF_8),
        expected.getBytes(StandardCharsets.UTF_8))) {
      throw new ApiException(401, "invalid_token", "/metrics needs 'Authorization: Bearer' with SESAME_METRICS_TOKEN.",
          java.util.Map.of("WWW-Authenticate", "Bearer realm=\"metrics\""));
    }
    ctx.header("Cache-Control", "no-store").contentType(CONTENT_TYPE).result(metrics.scrape());
  }

  /** Times every request by its route template (never the raw path: ids would make endless series). */
  public RequestLogger requestLogger() {
    return (ctx, millis) -> {
      Endpoint matched = ctx.endpoints().matchedHttpEndpoint();
      String route = matched == null ? "unmatched" : matched.path;
      metrics.httpRequest(route, ctx.method().name(), ctx.statusCode(), millis == null ? 0 : millis);
    };
  }

  @Override
  public void close() {
    if (ownPort != null) {
      ownPort.stop(0);
    }
  }
}
