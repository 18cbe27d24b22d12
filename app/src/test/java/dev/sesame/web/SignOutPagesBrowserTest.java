package dev.sesame.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.Cookie;
import dev.sesame.oauth.Client;
import dev.sesame.oauth.Clients;
import dev.sesame.support.AppSignIn;
import dev.sesame.support.Browsers;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sign-out question a person sees when an app's sign-out link names another sign-in than this browser's (logout
 * CSRF), and the signed-out page with its way back to the app: desktop and phone, light and dark, English and
 * Arabic (right to left), with screenshots.
 */
class SignOutPagesBrowserTest {
  static final String APP = "https://notes.example";

  @RegisterExtension
  static final SesameServer sesame = SesameServer.onLocalhost(Map.of("SESAME_RP_NAME", "Acme Notes"));
  static String secret;
  static Browsers browsers;

  @BeforeAll
  static void start() {
    secret = new Clients(sesame.jdbi(), "default").create(Map.of("client_id", "notes", "client_name", "Notes",
        "redirect_uris", List.of(APP + "/cb"), "post_logout_redirect_uris", List.of(APP + "/bye")),
        Client.Source.MANAGED).secret().orElseThrow();
    browsers = Browsers.launch();
  }

  @AfterAll
  static void stop() {
    if (browsers != null) {
      browsers.close();
    }
  }

  /** A browser session of a new person, as the cookie Sesame's pages keep. */
  static String cookieOf(String email) {
    Http http = sesame.http();
    Http.Response started = http.post("/v1/email/start", Map.of("email", email));
    Http.Response verified = http.post("/v1/email/verify", Map.of("flowId", started.json().get("flowId").asText(),
        "code", DevMailbox.latestCode(http, email)), "Origin", sesame.url(), "X-Sesame-Session", "cookie");
    return verified.headers().get("set-cookie").stream().filter(c -> c.startsWith("sesame_at=")).findFirst()
        .orElseThrow().split(";")[0].substring("sesame_at=".length());
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({"en, light, desktop", "en, dark, phone", "ar, dark, desktop", "ar, light, phone"})
  void a_foreign_sign_out_link_asks_and_the_signed_out_page_leads_back(String language, String scheme,
                                                                       String device) {
    String attacker = cookieOf("a-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com");
    JsonNode tokens = AppSignIn.codeFlow(sesame, "notes", secret, APP + "/cb", "openid", "sesame_at=" + attacker);
    String hint = tokens.get("id_token").asText();
    String victim = cookieOf("v-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com");
    String shots = device + "/sign-out-" + language + "-" + scheme;
    try (BrowserContext context = browsers.context(language.equals("ar") ? "ar" : "en-US",
        device.equals("phone"), scheme.equals("dark"))) {
      context.addCookies(List.of(new Cookie("sesame_at", victim).setUrl(sesame.url())));
      Page page = context.newPage();
      page.navigate(sesame.url() + "/logout?id_token_hint=" + hint + "&post_logout_redirect_uri="
          + URLEncoder.encode(APP + "/bye", StandardCharsets.UTF_8) + "&state=s1&ui_locales=" + language);
      page.waitForSelector("form[action='/logout'] button.primary");
      assertEquals(language.equals("ar") ? "rtl" : "ltr", page.getAttribute("html", "dir"));
      assertFalse(page.textContent("main").contains("null"), page.textContent("main"));
      Browsers.screenshot(page, shots + "-01-asked");
      assertEquals(200, sesame.http().get("/v1/me", "Cookie", "sesame_at=" + victim).status(),
          "nothing ended before the person answered");

      page.click("form[action='/logout'] button.primary");
      page.waitForSelector("main a[href^='" + APP + "/bye']");
      Browsers.screenshot(page, shots + "-02-signed-out");
      assertTrue(page.getAttribute("main a[href^='" + APP + "/bye']", "href").endsWith("state=s1"));
      assertEquals(401, sesame.http().get("/v1/me", "Cookie", "sesame_at=" + victim).status(),
          "signed out after the person said so");
    }
  }
}
