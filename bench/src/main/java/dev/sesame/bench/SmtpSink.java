package dev.sesame.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A minimal SMTP server on loopback that accepts every message, remembers each recipient's last code, and counts. */
final class SmtpSink implements AutoCloseable {
  private static final Pattern CODE = Pattern.compile("enter this code: (\\d{6})");
  private final ServerSocket server;
  private final Map<String, String> lastCode = new ConcurrentHashMap<>();
  private final AtomicLong received = new AtomicLong();

  SmtpSink() throws IOException {
    server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "smtp-sink");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  long received() {
    return received.get();
  }

  String code(String recipient) {
    return lastCode.get(recipient.toLowerCase());
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        Thread t = new Thread(() -> serve(socket), "smtp-sink-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket; BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
        StandardCharsets.UTF_8)); OutputStream out = socket.getOutputStream()) {
      reply(out, "220 sink ESMTP");
      String recipient = null;
      String line;
      while ((line = in.readLine()) != null) {
        String upper = line.toUpperCase();
        if (upper.startsWith("EHLO") || upper.startsWith("HELO")) {
          reply(out, "250 sink");
        } else if (upper.startsWith("RCPT TO:")) {
          recipient = line.substring(8).replaceAll("[<> ]", "").toLowerCase();
          reply(out, "250 OK");
        } else if (upper.startsWith("DATA")) {
          reply(out, "354 go ahead");
          StringBuilder body = new StringBuilder();
          while ((line = in.readLine()) != null && !line.equals(".")) {
            body.append(line).append('\n');
          }
          Matcher m = CODE.matcher(body);
          if (recipient != null && m.find()) {
            lastCode.put(recipient, m.group(1));
          }
          received.incrementAndGet();
          reply(out, "250 queued");
        } else if (upper.startsWith("QUIT")) {
          reply(out, "221 bye");
          return;
        } else {
          reply(out, "250 OK");
        }
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  private static void reply(OutputStream out, String text) throws IOException {
    out.write((text + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
