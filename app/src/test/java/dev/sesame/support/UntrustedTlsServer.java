package dev.sesame.support;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A TLS listener on loopback presenting a self-signed certificate no trust store knows: enough to prove a client
 * refuses it. Uses the JDK's own TLS provider explicitly, whatever is installed first.
 */
public final class UntrustedTlsServer implements AutoCloseable {
  private final SSLServerSocket socket;
  private final Thread acceptor;

  public UntrustedTlsServer(Path workDir) throws Exception {
    Path keystore = workDir.resolve("untrusted.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "smtp", "-keyalg", "EC", "-dname", "CN=127.0.0.1", "-validity", "2",
        "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "changeit")
        .redirectErrorStream(true).start();
    if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
      throw new IllegalStateException("keytool failed: " + new String(keytool.getInputStream().readAllBytes()));
    }
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509", "SunJSSE");
    kmf.init(ks, "changeit".toCharArray());
    SSLContext context = SSLContext.getInstance("TLS", "SunJSSE");
    context.init(kmf.getKeyManagers(), null, null);
    socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50,
        java.net.InetAddress.getLoopbackAddress());
    acceptor = new Thread(this::accept, "untrusted-tls");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return socket.getLocalPort();
  }

  private void accept() {
    while (!socket.isClosed()) {
      try (SSLSocket client = (SSLSocket) socket.accept()) {
        client.startHandshake(); // the client is expected to abort here
      } catch (IOException expected) {
        // refused handshakes and the final close land here
      }
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
