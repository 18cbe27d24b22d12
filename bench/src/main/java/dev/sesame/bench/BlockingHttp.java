package dev.sesame.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A lean HTTP/1.1 client for the load generator: one kept-alive connection per virtual user, blocking reads, no
 * executor or future per request. The JDK's {@code java.net.http} client cost the generator about a quarter of its
 * CPU, which it took from the server on the same two cores. Understands exactly what Sesame sends: a status line,
 * headers, and a body framed by Content-Length or chunked encoding. Not thread-safe; one per thread.
 */
final class BlockingHttp implements AutoCloseable {
  record Response(int status, String body) {}

  private final String host;
  private final int port;
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  BlockingHttp(String baseUrl) {
    URI uri = URI.create(baseUrl);
    this.host = uri.getHost();
    this.port = uri.getPort();
  }

  Response send(String method, String path, String body, String bearer) throws IOException {
    return send(method, path, "application/json", body, bearer == null ? null : "Bearer " + bearer);
  }

  /** @param authorization the whole Authorization header's value, or null */
  Response send(String method, String path, String contentType, String body, String authorization)
      throws IOException {
    byte[] payload = body == null ? null : body.getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder(256).append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
        .append("Host: ").append(host).append(':').append(port).append("\r\n");
    if (payload != null) {
      head.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ").append(payload.length)
          .append("\r\n");
    } else if (!method.equals("GET")) {
      head.append("Content-Length: 0\r\n");
    }
    if (authorization != null) {
      head.append("Authorization: ").append(authorization).append("\r\n");
    }
    head.append("\r\n");
    boolean reused = socket != null;
    try {
      return exchange(head.toString().getBytes(StandardCharsets.ISO_8859_1), payload);
    } catch (IOException e) {
      close();
      if (!reused) {
        throw e;
      }
      return exchange(head.toString().getBytes(StandardCharsets.ISO_8859_1), payload); // the server closed an idle one
    }
  }

  private Response exchange(byte[] head, byte[] payload) throws IOException {
    if (socket == null) {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(30_000);
      socket.connect(new InetSocketAddress(host, port), 5_000);
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      out = socket.getOutputStream();
    }
    byte[] request = head;
    if (payload != null) {
      request = new byte[head.length + payload.length];
      System.arraycopy(head, 0, request, 0, head.length);
      System.arraycopy(payload, 0, request, head.length, payload.length);
    }
    out.write(request);
    out.flush();

    String statusLine = line();
    if (statusLine.length() < 12 || !statusLine.startsWith("HTTP/1.1 ")) {
      throw new IOException("not an HTTP/1.1 response: " + statusLine);
    }
    int status = Integer.parseInt(statusLine.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    boolean close = false;
    for (String h = line(); !h.isEmpty(); h = line()) {
      int colon = h.indexOf(':');
      String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = h.substring(colon + 1).trim();
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
        case "connection" -> close = value.equalsIgnoreCase("close");
        default -> { }
      }
    }
    ByteArrayOutputStream bodyBytes = new ByteArrayOutputStream();
    if (chunked) {
      for (int size = Integer.parseInt(line().split(";")[0].trim(), 16); size > 0;
           size = Integer.parseInt(line().split(";")[0].trim(), 16)) {
        bodyBytes.write(in.readNBytes(size));
        line();
      }
      for (String trailer = line(); !trailer.isEmpty(); trailer = line()) {
        // trailers are ignored
      }
    } else if (length > 0) {
      byte[] b = in.readNBytes((int) length);
      if (b.length != length) {
        throw new IOException("connection closed mid-body");
      }
      bodyBytes.write(b);
    } else if (length < 0 && status != 204 && status != 304) {
      bodyBytes.write(in.readAllBytes());
      close = true;
    }
    if (close) {
      close();
    }
    return new Response(status, bodyBytes.toString(StandardCharsets.UTF_8));
  }

  private String line() throws IOException {
    StringBuilder b = new StringBuilder(64);
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("connection closed");
      }
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      socket = null;
    }
  }
}
