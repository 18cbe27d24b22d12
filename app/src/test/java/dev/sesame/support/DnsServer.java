package dev.sesame.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A real DNS server for tests: Debian's dnsmasq on 127.0.0.1, authoritative for {@code .test} (every other name in
 * it is NXDOMAIN), answering from the records a test gives. {@code .ci/run} installs it (package dnsmasq-base).
 */
public final class DnsServer implements AutoCloseable {
  private static final Path DNSMASQ = Path.of("/usr/sbin/dnsmasq");
  private final Process process;
  private final int port;

  /** {@code records} are dnsmasq options, e.g. {@code --mx-host=good.test,mail.good.test,10}. */
  public DnsServer(List<String> records) {
    if (!Files.isExecutable(DNSMASQ)) {
      throw new IllegalStateException(DNSMASQ + " is missing: install Debian's dnsmasq-base (.ci/run does)");
    }
    this.port = TestServer.freePort();
    List<String> command = new ArrayList<>(List.of(DNSMASQ.toString(), "--keep-in-foreground",
        "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
        "--conf-file=/dev/null", "--pid-file=" + tempFile("dnsmasq", ".pid"), "--local=/test/",
        "--log-facility=-"));
    command.addAll(records);
    try {
      this.process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(tempFile("dnsmasq", ".log").toFile()).start();
      Thread.sleep(300); // it binds at once; a failure (e.g. a taken port) shows as an exit here
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    if (!process.isAlive()) {
      throw new IllegalStateException("dnsmasq exited with " + process.exitValue());
    }
  }

  /** {@code 127.0.0.1:PORT}, as SESAME_DNS_SERVERS takes it. */
  public String address() {
    return "127.0.0.1:" + port;
  }

  private static Path tempFile(String prefix, String suffix) {
    try {
      Path file = Files.createTempFile(prefix, suffix);
      file.toFile().deleteOnExit();
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    process.destroy();
  }
}
