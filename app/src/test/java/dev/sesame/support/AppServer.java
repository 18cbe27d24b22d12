package dev.sesame.support;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** A stand-in for an app on another origin: static pages that embed Sesame, and a /callback to land on. */
public final class AppServer implements AutoCloseable {
  private final HttpServer server;

  public AppServer(Map<String, String> pages) {
    this(pages, 0);
  }

  public AppServer(Map<String, String> pages, int port) {
    try {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      String body = pages.getOrDefault(path, path.equals("/callback") ? "<!doctype html><title>Callback</title>"
          + "<h1>Back in the app</h1>" : null);
      if (body == null) {
        exchange.sendResponseHeaders(404, -1);
        exchange.close();
        return;
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", path.endsWith(".js") ? "text/javascript" : "text/html");
      exchange.sendResponseHeaders(200, bytes.length);
      exchange.getResponseBody().write(bytes);
      exchange.close();
    });
    server.start();
  }

  /** http://localhost:PORT: a different origin from Sesame's, with the same registrable host for WebAuthn. */
  public String origin() {
    return "http://localhost:" + server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
