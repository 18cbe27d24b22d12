package dev.sesame.support;

import dev.sesame.Main;
import dev.sesame.config.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * The real Sesame, wired by {@link Main}, on 127.0.0.1 with its own fresh database. Settings are the production
 * defaults plus whatever the test passes; the per-IP limit is raised because every test request comes from one
 * address.
 */
public final class TestServer implements AutoCloseable {
  private final Main main;
  private final String url;
  private final String databaseUrl;
  private final Config config;
  private static final java.nio.file.Path DATA_DIR = tempDir();

  private static java.nio.file.Path tempDir() {
    try {
      java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("sesame-test-data");
      dir.toFile().deleteOnExit();
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private TestServer(Map<String, String> env) {
    this(env, "127.0.0.1");
  }

  private TestServer(Map<String, String> env, String publicHost) {
    int port = freePort();
    this.url = "http://" + publicHost + ":" + port;
    Map<String, String> settings = new HashMap<>();
    settings.put("SESAME_PORT", Integer.toString(port));
    settings.put("SESAME_BIND_HOST", "127.0.0.1");
    settings.put("SESAME_PUBLIC_URL", url);
    settings.put("SESAME_RATE_LIMIT_IP", "10000/1m");
    settings.put("SESAME_DATABASE_POOL_SIZE", "4");
    settings.put("SESAME_DATA_DIR", DATA_DIR.toString()); // the generated master key lands here, not in the tree
    // Test addresses are @example.com and there is no DNS here: MailDomainsTest checks domains against its own
    // DNS server on loopback.
    settings.put("SESAME_EMAIL_DOMAIN_CHECK", "off");
    settings.putAll(env);
    if (!settings.containsKey("SESAME_DATABASE_URL")) {
      settings.put("SESAME_DATABASE_URL", TestDatabase.create());
    }
    this.databaseUrl = settings.get("SESAME_DATABASE_URL");
    this.config = Config.load(settings);
    this.main = new Main(config).start();
  }

  public static TestServer start() {
    return new TestServer(Map.of());
  }

  public static TestServer start(Map<String, String> env) {
    return new TestServer(env);
  }

  /**
   * On {@code host} (a name under {@code localhost}, which browsers treat as a secure context and resolve to this
   * machine): its own RP ID, for tests of pages on other hosts.
   */
  public static TestServer startOnHost(String host, Map<String, String> env) {
    return new TestServer(env, host);
  }

  /** For browsers: WebAuthn needs a domain as RP id (not an IP), and http://localhost is a secure context. */
  public static TestServer startOnLocalhost(Map<String, String> env) {
    return new TestServer(env, "localhost");
  }

  public String url() {
    return url;
  }

  public Config config() {
    return config;
  }

  public Http http() {
    return new Http(url);
  }

  /** The server's database, for a test to look at or age rows; a separate connection from the server's pool. */
  public Jdbi jdbi() {
    return Jdbi.create(databaseUrl);
  }

  public String databaseUrl() {
    return databaseUrl;
  }

  @Override
  public void close() {
    main.close();
  }

  /** What an administration command printed, and how it exited. */
  public record CliResult(int status, String stdout, String stderr) {}

  /** Runs {@code java -jar sesame.jar ARGS} in-process against this server's database and settings. */
  public static CliResult cli(TestServer server, String... args) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    int status = dev.sesame.CliAccess.run(java.util.List.of(args), server.config(),
        new java.io.PrintStream(out, true), new java.io.PrintStream(err, true));
    return new CliResult(status, out.toString(), err.toString());
  }

  /** The server's own signing keys, to trigger the reload its nodes do every minute. */
  public static dev.sesame.tokens.SigningKeys signingKeys(TestServer server) {
    return server.main.signingKeys();
  }

  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
