package dev.sesame.web;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import dev.sesame.support.AppServer;
import dev.sesame.support.Browsers;
import dev.sesame.support.TestServer;
import dev.sesame.support.VirtualAuthenticator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An app on another host than Sesame (the first hour: app.example.com with Sesame at login.example.com): its passkey
 * button failed with "Something went wrong. Check your connection" and no hint. The person is now told passkeys
 * can't be used on this site and to continue with email; the developer's console names SESAME_RP_ID and
 * SESAME_RELATED_ORIGINS.
 */
class AnotherHostBrowserTest {
  static TestServer sesame;
  static AppServer app;
  static Browsers browsers;

  @BeforeAll
  static void start() {
    int appPort = TestServer.freePort();
    String appOrigin = "http://app.localhost:" + appPort;
    sesame = TestServer.startOnHost("login.localhost", Map.of("SESAME_ALLOWED_ORIGINS", appOrigin));
    app = new AppServer(Map.of("/embed.html", """
        <!doctype html><html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1"><title>App elsewhere</title>
        <script type="module" src="%s/assets/sesame-auth.js"></script></head>
        <body><h1>An app on another host</h1><sesame-auth></sesame-auth></body></html>
        """.formatted(sesame.url())), appPort);
    browsers = Browsers.launch();
  }

  @AfterAll
  static void stop() {
    if (browsers != null) {
      browsers.close();
    }
    if (app != null) {
      app.close();
    }
    if (sesame != null) {
      sesame.close();
    }
  }

  @Test
  void the_passkey_button_says_what_works_and_the_console_names_the_setting() {
    try (BrowserContext context = browsers.desktop()) {
      Page page = context.newPage();
      List<String> console = new CopyOnWriteArrayList<>();
      page.onConsoleMessage(m -> console.add(m.text()));
      VirtualAuthenticator.attach(page);
      page.navigate(app.origin().replace("localhost", "app.localhost") + "/embed.html");
      page.waitForSelector("sesame-auth #passkey");
      page.click("sesame-auth #passkey");
      page.waitForSelector("sesame-auth .status.error");
      String said = page.textContent("sesame-auth .status");
      assertTrue(said.contains("Passkeys can’t be used on this site yet"), said);
      assertTrue(!said.contains("connection"), said);
      assertTrue(console.stream().anyMatch(m -> m.contains("SESAME_RP_ID") && m.contains("SESAME_RELATED_ORIGINS")),
          console.toString());
      Browsers.screenshot(page, "desktop/another-host-passkey");
      assertTrue(page.isVisible("sesame-auth #email"), "email still works");
    }
  }
}
