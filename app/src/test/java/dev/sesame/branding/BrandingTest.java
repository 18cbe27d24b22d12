package dev.sesame.branding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import dev.sesame.config.Config;
import dev.sesame.config.ConfigException;
import dev.sesame.i18n.Languages;
import dev.sesame.support.Http;
import dev.sesame.support.MailInbox;
import dev.sesame.support.SmtpServers;
import dev.sesame.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Branding and language settings over HTTP: pages, /v1/ui, /brand.css, the logo, and the email's language. */
class BrandingTest {
  @RegisterExtension
  static GreenMailExtension greenMail = new GreenMailExtension(SmtpServers.smtpSetup()).withPerMethodLifecycle(false);

  static final String HOSTILE = "<script>alert(1)</script>\"Acme\"";
  static TestServer server;
  static Http http;
  static MailInbox inbox;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    Path logo = dir.resolve("logo.svg");
    Files.writeString(logo, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8\" height=\"8\"><script>x</script></svg>");
    server = TestServer.start(Map.of(
        "SESAME_RP_NAME", HOSTILE,
        "SESAME_LOGO_FILE", logo.toString(),
        "SESAME_ACCENT_COLOR", "#FFCC00",
        "SESAME_LANGUAGES", "en,de,fr,ar",
        "SESAME_TERMS_URL", "https://acme.example/terms?x=1&y=2",
        "SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(greenMail.getSmtp().getPort()),
        "SESAME_SMTP_TLS", "none"));
    http = server.http();
    inbox = new MailInbox(greenMail);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void pages_escape_a_hostile_app_name_and_carry_the_brand() {
    Http.Response page = http.get("/login", "Accept-Language", "fr-CA,fr;q=0.9");
    assertEquals(200, page.status());
    assertFalse(page.body().contains("<script>alert(1)"), "never raw");
    assertTrue(page.body().contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;Acme&quot;"), page.body());
    assertTrue(page.body().contains("<html lang=\"fr\" dir=\"ltr\">"));
    assertTrue(page.body().contains("<img class=\"logo\" src=\"" + server.url() + "/brand/logo\""));
    assertTrue(page.body().contains("href=\"https://acme.example/terms?x=1&amp;y=2\""), "escaped in the attribute");
    assertTrue(page.body().contains("<link rel=\"stylesheet\" href=\"/brand.css\">"));
    assertEquals("Accept-Language", page.header("Vary"));
  }

  @Test
  void brand_css_logo_and_ui_follow_the_settings() {
    Http.Response css = http.get("/brand.css");
    assertEquals(200, css.status());
    assertTrue(css.header("Content-Type").startsWith("text/css"));
    assertTrue(css.body().contains("--sesame-accent: #ffcc00; --sesame-accent-text: #000000;"), css.body());
    assertTrue(css.body().contains("prefers-color-scheme: dark"));

    Http.Response logo = http.get("/brand/logo");
    assertEquals(200, logo.status());
    assertEquals("image/svg+xml", logo.header("Content-Type"));
    assertTrue(logo.header("Content-Security-Policy").contains("sandbox"), "an SVG opened alone runs nothing");

    JsonNode german = http.get("/v1/ui?lang=de-CH").json();
    assertEquals("de", german.get("language").asText());
    assertEquals("ltr", german.get("dir").asText());
    assertEquals(Languages.all().catalog("de").format("auth.heading.signIn"),
        german.at("/messages/auth.heading.signIn").asText());
    assertTrue(german.at("/messages/auth.code.help").isArray(), "a message with a plural comes parsed");
    assertFalse(german.get("messages").has("email.signIn.subject"), "the emails' words stay on the server");
    assertEquals(HOSTILE, german.at("/brand/name").asText());
    assertEquals("#ffcc00", german.at("/brand/accent").asText());
    assertEquals("#000000", german.at("/brand/accentText").asText());
    assertEquals("[\"en\",\"de\",\"fr\",\"ar\"]", german.get("languages").toString());

    Http.Response byHeader = http.get("/v1/ui", "Accept-Language", "ar-EG,ar;q=0.9");
    assertEquals("ar", byHeader.json().get("language").asText());
    assertEquals("rtl", byHeader.json().get("dir").asText());
    assertEquals("Accept-Language", byHeader.header("Vary"));
    assertEquals("ar", http.get("/v1/ui?lang=xx", "Accept-Language", "ar").json().get("language").asText(),
        "a lang not offered passes to Accept-Language");
    assertEquals("en", http.get("/v1/ui?lang=ja", "Accept-Language", "ja").json().get("language").asText(),
        "Japanese ships, but this server does not offer it: the default");
  }

  @Test
  void the_email_speaks_the_asked_language_then_accept_language_then_the_default() {
    String german = "de-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    assertEquals(202, http.post("/v1/email/start", Map.of("email", german), "Accept-Language", "de-DE").status());
    MailInbox.SignInMail mail = inbox.next(german);
    assertEquals(Languages.all().catalog("de").format("email.signIn.subject", "code", mail.code(), "app", HOSTILE),
        mail.subject());
    assertTrue(mail.subject().startsWith(mail.code() + " ist dein Anmeldecode"), mail.subject());
    assertTrue(mail.text().contains("Oder gib diesen Code ein: " + mail.code()));
    assertFalse(mail.html().contains("<script>alert(1)"), "the app's name is escaped in the HTML part");

    String french = "fr-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    assertEquals(202, http.post("/v1/email/start", Map.of("email", french, "language", "fr"),
        "Accept-Language", "de-DE").status());
    assertTrue(inbox.next(french).subject().contains("est votre code de connexion"), "the page's language wins");

    String fallback = "xx-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    assertEquals(202, http.post("/v1/email/start", Map.of("email", fallback, "language", "ja"),
        "Accept-Language", "ko").status());
    assertTrue(inbox.next(fallback).subject().contains("is your"), "nothing offered: the default language");
  }

  @Test
  void wrong_branding_settings_stop_start_up_naming_the_variable(@TempDir Path dir) throws Exception {
    Path logo = Files.writeString(dir.resolve("logo.bmp"), "x");
    Map<String, String> cases = Map.of(
        "SESAME_ACCENT_COLOR", "red",
        "SESAME_LOGO_FILE", logo.toString(),
        "SESAME_LANGUAGES", "en,tlh",
        "SESAME_DEFAULT_LANGUAGE", "ja",
        "SESAME_TERMS_URL", "javascript:alert(1)",
        "SESAME_SUPPORT_EMAIL", "not an address",
        "SESAME_TEMPLATES_DIR", dir.resolve("nope").toString());
    cases.forEach((name, value) -> {
      Map<String, String> env = new HashMap<>(Map.of(name, value));
      if (name.equals("SESAME_DEFAULT_LANGUAGE")) {
        env.put("SESAME_LANGUAGES", "en,de");
      }
      ConfigException e = assertThrows(ConfigException.class, () -> Config.load(env), name);
      assertTrue(e.getMessage().startsWith(name + ":"), e.getMessage());
    });
    assertTrue(assertThrows(ConfigException.class, () -> Config.load(Map.of("SESAME_LOGO_URL",
        "https://cdn.example/l.png", "SESAME_LOGO_FILE", Files.writeString(dir.resolve("l.png"), "x").toString())))
        .getMessage().contains("not both"));
  }
}
