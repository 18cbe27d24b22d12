package dev.sesame.email;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sesame.branding.Brand;
import dev.sesame.config.Config;
import dev.sesame.config.ConfigException;
import dev.sesame.i18n.Languages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmailTemplatesTest {
  private static final String HOSTILE = "<script>alert(1)</script> & \"Co\" <img src=x onerror=alert(2)>";

  @TempDir
  Path dir;

  private static Brand brand(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(Map.of("SESAME_PUBLIC_URL", "https://login.example.com"));
    env.putAll(extra);
    Config config = Config.load(env);
    return new Brand(config.branding(), config.issuer());
  }

  private static EmailTemplates templates(Brand brand, Optional<Path> overrides) {
    return new EmailTemplates(brand, Languages.all(), overrides);
  }

  @Test
  void every_message_renders_in_every_language_with_its_code_and_link_and_no_template_left() {
    EmailTemplates templates = templates(brand(Map.of()), Optional.empty());
    Languages languages = Languages.all();
    for (String tag : Languages.SHIPPED) {
      for (EmailTemplates.Kind kind : EmailTemplates.Kind.values()) {
        Map<String, Object> sample = EmailTemplates.sample(kind, "https://login.example.com");
        EmailTemplates.Rendered r = templates.render(kind, tag, sample);
        for (String part : new String[] {r.subject(), r.text(), r.html()}) {
          assertFalse(part.contains("{{") || part.contains("}}") || part.contains("{app}"), tag + " " + kind);
          assertFalse(part.isBlank(), tag + " " + kind);
        }
        assertTrue(r.html().contains("<html lang=\"" + tag + "\" dir=\"" + languages.catalog(tag).dir() + "\">"),
            tag + " " + kind);
        if (kind != EmailTemplates.Kind.ADDRESS_CHANGED) {
          String link = (String) sample.get("link");
          assertTrue(r.text().contains(link), tag + " " + kind + " text has the link");
          assertTrue(r.html().contains("href=\"" + com.samskivert.mustache.Escapers.HTML.escape(link) + "\""),
              tag + " " + kind);
        }
        if (kind == EmailTemplates.Kind.SIGN_IN) {
          assertTrue(r.subject().contains("428913") && r.text().contains("428913") && r.html().contains("428913"),
              tag);
        }
        // The words are the language's own: the subject is the catalog's, formatted.
        String subjectKey = switch (kind) {
          case SIGN_IN -> "email.signIn.subject";
          case CONFIRM_ADDRESS -> "email.confirmAddress.subject";
          case ADDRESS_CHANGED -> "email.addressChanged.subject";
        };
        assertEquals(languages.catalog(tag).format(subjectKey, "app", "Sesame", "code", "428913"), r.subject(), tag);
      }
    }
  }

  @Test
  void a_hostile_app_name_is_escaped_in_html_and_left_as_text_in_the_subject_and_plain_part() {
    EmailTemplates templates = templates(brand(Map.of("SESAME_RP_NAME", HOSTILE)), Optional.empty());
    for (String tag : Languages.SHIPPED) {
      for (EmailTemplates.Kind kind : EmailTemplates.Kind.values()) {
        EmailTemplates.Rendered r = templates.render(kind, tag,
            EmailTemplates.sample(kind, "https://login.example.com"));
        assertFalse(r.html().contains("<script>") || r.html().contains("<img src=x"), tag + " " + kind);
        assertTrue(r.html().contains("&lt;script&gt;alert(1)&lt;/script&gt;"), tag + " " + kind);
        assertTrue(r.text().contains(HOSTILE) || kind == EmailTemplates.Kind.CONFIRM_ADDRESS
            && r.text().contains("<script>"), tag + " " + kind);
      }
    }
  }

  @Test
  void brand_settings_reach_the_email() {
    EmailTemplates templates = templates(brand(Map.of("SESAME_RP_NAME", "Acme", "SESAME_ACCENT_COLOR", "#ffcc00",
        "SESAME_LOGO_URL", "https://cdn.acme.example/logo.png", "SESAME_SUPPORT_EMAIL", "help@acme.example",
        "SESAME_TERMS_URL", "https://acme.example/terms", "SESAME_PRIVACY_URL", "https://acme.example/privacy")),
        Optional.empty());
    EmailTemplates.Rendered r = templates.render(EmailTemplates.Kind.SIGN_IN, "fr",
        EmailTemplates.sample(EmailTemplates.Kind.SIGN_IN, "https://login.example.com"));
    assertTrue(r.html().contains("background:#ffcc00;color:#000000"), "a light accent gets dark text");
    assertTrue(r.html().contains("src=\"https://cdn.acme.example/logo.png\""));
    assertTrue(r.html().contains("mailto:help@acme.example"));
    assertTrue(r.html().contains("href=\"https://acme.example/terms\"") && r.html().contains("Conditions d’utilisation"));
    assertTrue(r.text().contains("Confidentialité : https://acme.example/privacy")
        || r.text().contains("Confidentialité: https://acme.example/privacy"), r.text());
    assertTrue(r.subject().endsWith("Acme"), r.subject());
  }

  @Test
  void an_override_replaces_a_file_for_every_language_or_for_one() throws IOException {
    Files.writeString(dir.resolve("sign-in.txt"), "Code {{code}} · {{link}} · {{app_name}}\n");
    Files.createDirectories(dir.resolve("de"));
    Files.writeString(dir.resolve("de/sign-in.subject"), "Dein Code für {{app_name}}: {{code}}\n");
    EmailTemplates templates = templates(brand(Map.of("SESAME_RP_NAME", "Acme")), Optional.of(dir));
    var de = templates.signIn("de", "a@example.com", "https://x.example/email/confirm?token=T", "123456",
        Duration.ofMinutes(10));
    assertEquals("Dein Code für Acme: 123456", de.subject());
    assertEquals("Code 123456 · https://x.example/email/confirm?token=T · Acme\n", de.textBody());
    var es = templates.signIn("es", "a@example.com", "https://x.example/email/confirm?token=T", "123456",
        Duration.ofMinutes(10));
    assertEquals("123456 es tu código de acceso a Acme", es.subject(), "the built-in subject where none is set");
    assertTrue(es.textBody().startsWith("Code 123456"));
    assertTrue(es.htmlBody().contains("Inicia sesión en Acme"), "the built-in HTML");
  }

  @Test
  void a_missing_variable_stops_start_up_naming_the_file_and_the_variable() throws IOException {
    Files.createDirectories(dir.resolve("pl"));
    Path file = dir.resolve("pl/confirm-address.html");
    Files.writeString(file, "<p>{{link}}</p>\n<p>{{support_phone}}</p>");
    ConfigException e = assertThrows(ConfigException.class, () -> templates(brand(Map.of()), Optional.of(dir)));
    assertTrue(e.getMessage().startsWith("SESAME_TEMPLATES_DIR: " + file), e.getMessage());
    assertTrue(e.getMessage().contains("support_phone") && e.getMessage().contains("line 2"), e.getMessage());
  }

  @Test
  void a_sign_in_template_without_the_code_or_the_link_stops_start_up() throws IOException {
    Files.writeString(dir.resolve("sign-in.html"), "<a href=\"{{link}}\">{{t.button}}</a>");
    ConfigException noCode = assertThrows(ConfigException.class,
        () -> templates(brand(Map.of()), Optional.of(dir)));
    assertTrue(noCode.getMessage().contains(dir.resolve("sign-in.html").toString())
        && noCode.getMessage().contains("code"), noCode.getMessage());

    Files.writeString(dir.resolve("sign-in.html"), "<p>{{code}}</p>");
    ConfigException noLink = assertThrows(ConfigException.class,
        () -> templates(brand(Map.of()), Optional.of(dir)));
    assertTrue(noLink.getMessage().contains("link"), noLink.getMessage());

    Files.delete(dir.resolve("sign-in.html"));
    Files.writeString(dir.resolve("sign-in.txt"), "{{link}}");
    assertTrue(assertThrows(ConfigException.class, () -> templates(brand(Map.of()), Optional.of(dir)))
        .getMessage().contains("sign-in.txt"));
  }

  @Test
  void broken_syntax_unknown_files_and_unknown_languages_stop_start_up() throws IOException {
    Path broken = dir.resolve("address-changed.html");
    Files.writeString(broken, "{{#has_support}} never closed");
    assertTrue(assertThrows(ConfigException.class, () -> templates(brand(Map.of()), Optional.of(dir)))
        .getMessage().contains(broken.toString()));
    Files.delete(broken);

    Files.writeString(dir.resolve("signin.html"), "{{code}} {{link}}");
    assertTrue(assertThrows(ConfigException.class, () -> templates(brand(Map.of()), Optional.of(dir)))
        .getMessage().contains("signin.html: not a template Sesame knows"));
    Files.delete(dir.resolve("signin.html"));

    Files.createDirectories(dir.resolve("klingon"));
    assertTrue(assertThrows(ConfigException.class, () -> templates(brand(Map.of()), Optional.of(dir)))
        .getMessage().contains("klingon: not a language"));
    Files.delete(dir.resolve("klingon"));

    Files.writeString(dir.resolve("sign-in.subject"), "{{t.subject}}\n{{code}}\n");
    assertTrue(assertThrows(ConfigException.class, () -> templates(brand(Map.of()), Optional.of(dir)))
        .getMessage().contains("a subject is one line"));
    Files.delete(dir.resolve("sign-in.subject"));

    Files.writeString(dir.resolve("footer.html"), "{{> nosuch.html}}");
    assertTrue(assertThrows(ConfigException.class, () -> templates(brand(Map.of()), Optional.of(dir)))
        .getMessage().contains("nosuch.html"));
  }
}
