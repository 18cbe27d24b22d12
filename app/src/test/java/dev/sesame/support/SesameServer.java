package dev.sesame.support;

import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real Sesame for a whole test class, started before its first test and stopped after its last:
 * {@code @RegisterExtension static final SesameServer sesame = SesameServer.with(Map.of(...));} — instead of copied
 * {@code @BeforeAll}/{@code @AfterAll} blocks. Settings are {@link TestServer}'s plus the given ones.
 */
public final class SesameServer implements BeforeAllCallback, AfterAllCallback {
  private final Map<String, String> settings;
  private final boolean localhost;
  private TestServer server;
  private Http http;

  private SesameServer(Map<String, String> settings, boolean localhost) {
    this.settings = Map.copyOf(settings);
    this.localhost = localhost;
  }

  public static SesameServer withDefaults() {
    return new SesameServer(Map.of(), false);
  }

  public static SesameServer with(Map<String, String> settings) {
    return new SesameServer(settings, false);
  }

  /** On http://localhost (a domain, as WebAuthn's RP ID must be, and a secure context): for browser tests. */
  public static SesameServer onLocalhost(Map<String, String> settings) {
    return new SesameServer(settings, true);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    server = localhost ? TestServer.startOnLocalhost(settings) : TestServer.start(settings);
    http = server.http();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (server != null) {
      server.close();
    }
  }

  public TestServer server() {
    if (server == null) {
      throw new IllegalStateException("the server starts before the class's first test");
    }
    return server;
  }

  /** One client for the class, kept-alive connections and all. */
  public Http http() {
    server();
    return http;
  }

  public Jdbi jdbi() {
    return server().jdbi();
  }

  public String url() {
    return server().url();
  }
}
