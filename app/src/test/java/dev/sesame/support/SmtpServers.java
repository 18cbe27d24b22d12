package dev.sesame.support;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;

/** Real SMTP servers (GreenMail) on loopback for tests. */
public final class SmtpServers {
  private SmtpServers() {}

  /** Starts a GreenMail server; {@code port} 0 picks a free one. Start-up may take seconds on a busy CI machine. */
  public static GreenMail start(int port, String protocol) {
    ServerSetup setup = new ServerSetup(port, "127.0.0.1", protocol);
    setup.setServerStartupTimeout(30_000);
    GreenMail greenMail = new GreenMail(setup);
    greenMail.start();
    return greenMail;
  }

  /** A setup for {@code GreenMailExtension}: SMTP on a free port with a generous start-up timeout. */
  public static ServerSetup smtpSetup() {
    ServerSetup setup = new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP);
    setup.setServerStartupTimeout(30_000);
    return setup;
  }
}
