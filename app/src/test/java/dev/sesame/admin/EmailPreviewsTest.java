package dev.sesame.admin;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.i18n.Languages;
import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import dev.sesame.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Email previews for operators: the admin API (settings:read) and the CLI's {@code email preview}. */
class EmailPreviewsTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.with(Map.of("SESAME_RP_NAME", "Acme", "SESAME_LANGUAGES",
      "en,de,ja", "SESAME_DEFAULT_LANGUAGE", "de"));

  static String key(String scopes) {
    TestServer.CliResult r = TestServer.cli(sesame.server(), "service-key", "create",
        "k" + System.nanoTime(), "--scopes", scopes);
    assertEquals(0, r.status(), r.stderr());
    return r.stdout().strip();
  }

  @Test
  void every_template_in_every_offered_language_is_previewed_with_settings_read() {
    Http http = sesame.http();
    String[] reader = {"Authorization", "Bearer " + key("settings:read")};
    assertProblem(http.get("/admin/v1/email-previews", "Authorization", "Bearer " + key("users:read")), 403,
        "insufficient_scope");
    JsonNode index = http.get("/admin/v1/email-previews", reader).json();
    assertEquals("[\"en\",\"de\",\"ja\"]", index.get("languages").toString(), "only the offered languages");
    assertEquals("de", index.get("defaultLanguage").asText());
    Languages languages = Languages.all();
    for (JsonNode template : index.get("templates")) {
      for (JsonNode language : index.get("languages")) {
        Http.Response r = http.get("/admin/v1/email-previews/" + template.asText() + "/" + language.asText(), reader);
        assertEquals(200, r.status(), r.body());
        JsonNode preview = r.json();
        assertTrue(preview.get("html").asText().contains("<html lang=\"" + language.asText() + "\""));
        Http.Response html = http.get(preview.get("htmlUrl").asText(), reader);
        assertEquals(200, html.status());
        assertEquals(preview.get("html").asText(), html.body());
        assertTrue(html.header("Content-Security-Policy").contains("sandbox")
            && html.header("Content-Security-Policy").contains("default-src 'none'"), "no script in the frame");
        assertEquals("SAMEORIGIN", html.header("X-Frame-Options"));
      }
    }
    JsonNode german = http.get("/admin/v1/email-previews/sign-in/de", reader).json();
    assertEquals(languages.catalog("de").format("email.signIn.subject", "code", "428913", "app", "Acme"),
        german.get("subject").asText());
    assertTrue(german.get("text").asText().contains(sesame.url() + "/email/confirm?token=SAMPLE-TOKEN"));
    assertProblem(http.get("/admin/v1/email-previews/sign-in/fr", reader), 404, "not_found");
    assertProblem(http.get("/admin/v1/email-previews/welcome/de", reader), 404, "not_found");
    assertProblem(http.get("/admin/v1/email-previews/sign-in/de/html"), 401, "invalid_token");
  }

  @Test
  void the_cli_renders_one_email_to_a_file(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("sign-in.ja.html");
    TestServer.CliResult r = TestServer.cli(sesame.server(), "email", "preview", "sign-in", "ja", "--out",
        file.toString());
    assertEquals(0, r.status(), r.stderr());
    String html = Files.readString(file);
    assertTrue(html.contains("<html lang=\"ja\"") && html.contains("428913")
        && html.contains(Languages.all().catalog("ja").format("email.signIn.heading", "app", "Acme")), html);

    TestServer.CliResult text = TestServer.cli(sesame.server(), "email", "preview", "address-changed", "--part",
        "text");
    assertEquals(0, text.status(), text.stderr());
    assertTrue(text.stdout().contains("new.address@example.com") && text.stdout().contains("Acme"),
        "the default language (de): " + text.stdout());
    assertTrue(text.stdout().contains(Languages.all().catalog("de").format("email.addressChanged.heading")));

    assertEquals(2, TestServer.cli(sesame.server(), "email", "preview", "sign-in", "fr").status(),
        "a language not offered");
    assertEquals(2, TestServer.cli(sesame.server(), "email", "preview", "welcome").status());
  }
}
