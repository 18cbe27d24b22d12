package dev.sesame;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.config.Config;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DevMailboxWarningTest {
  @Test
  void a_server_without_smtp_that_other_hosts_reach_says_so_loudly() {
    Config exposed = Config.load(Map.of()); // the defaults: no SMTP, bound to 0.0.0.0
    String warning = Main.devMailboxWarning(exposed).orElseThrow();
    assertTrue(warning.contains("NO SMTP SERVER IS CONFIGURED") && warning.contains("0.0.0.0"), warning);
    assertTrue(warning.contains("SESAME_SMTP_HOST") && warning.contains("SESAME_BIND_HOST=127.0.0.1"), warning);
  }

  @Test
  void no_warning_when_local_only_or_with_smtp() {
    assertTrue(Main.devMailboxWarning(Config.load(Map.of("SESAME_BIND_HOST", "127.0.0.1"))).isEmpty());
    assertTrue(Main.devMailboxWarning(Config.load(Map.of("SESAME_BIND_HOST", "::1"))).isEmpty());
    assertTrue(Main.devMailboxWarning(Config.load(Map.of("SESAME_SMTP_HOST", "smtp.example.com"))).isEmpty());
  }
}
