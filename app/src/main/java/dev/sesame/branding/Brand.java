package dev.sesame.branding;

import dev.sesame.config.Branding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The branding settings as pages, elements and emails use them: the logo (its bytes when Sesame serves the file),
 * the colours with a readable text colour on each, and the links. Built once at start-up.
 */
public final class Brand {
  private final Branding settings;
  private final String issuer;
  private final Optional<Logo> logoFile;

  /** A logo file Sesame serves itself. */
  public record Logo(byte[] bytes, String type) {}

  public Brand(Branding settings, String issuer) {
    this.settings = settings;
    this.issuer = issuer;
    this.logoFile = settings.logoFile().map(path -> {
      try {
        return new Logo(Files.readAllBytes(path), mediaType(path.getFileName().toString()));
      } catch (IOException e) {
        throw new UncheckedIOException("reading SESAME_LOGO_FILE " + path, e);
      }
    });
  }

  public Branding settings() {
    return settings;
  }

  public String appName() {
    return settings.appName();
  }

  /** The logo's absolute address, or empty. */
  public Optional<String> logo() {
    return settings.logo(issuer);
  }

  public Optional<Logo> logoFile() {
    return logoFile;
  }

  /**
   * {@code /brand.css}: the hosted pages' accent in the light and the dark scheme (sesame.css holds every other token
   * of both). Colours are validated {@code #rrggbb}, so nothing else can reach the stylesheet.
   */
  public String css() {
    return """
        /* The branding settings (SESAME_ACCENT_COLOR, SESAME_ACCENT_COLOR_DARK). */
        :root { --sesame-accent: %s; --sesame-accent-text: %s; }
        @media (prefers-color-scheme: dark) {
          :root { --sesame-accent: %s; --sesame-accent-text: %s; }
        }
        """.formatted(settings.accent(), Branding.textOn(settings.accent()), settings.accentDark(),
        Branding.textOn(settings.accentDark()));
  }

  /** What {@code <sesame-auth>} and {@code <sesame-profile>} show of the brand. */
  public Map<String, Object> forBrowser() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", settings.appName());
    out.put("logoUrl", logo().orElse(null));
    out.put("accent", settings.accent());
    out.put("accentText", Branding.textOn(settings.accent()));
    out.put("accentDark", settings.accentDark());
    out.put("accentDarkText", Branding.textOn(settings.accentDark()));
    out.put("supportEmail", settings.supportEmail().orElse(null));
    out.put("supportUrl", settings.supportUrl().map(URI::toString).orElse(null));
    out.put("termsUrl", settings.termsUrl().map(URI::toString).orElse(null));
    out.put("privacyUrl", settings.privacyUrl().map(URI::toString).orElse(null));
    return out;
  }

  /** The brand's variables in email templates (snake_case; absent links are empty strings, which sections skip). */
  public Map<String, Object> forTemplates() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("app_name", settings.appName());
    out.put("logo_url", logo().orElse(""));
    out.put("accent", settings.accent());
    out.put("accent_text", Branding.textOn(settings.accent()));
    out.put("support_email", settings.supportEmail().orElse(""));
    out.put("support_url", settings.supportUrl().map(URI::toString).orElse(""));
    out.put("terms_url", settings.termsUrl().map(URI::toString).orElse(""));
    out.put("privacy_url", settings.privacyUrl().map(URI::toString).orElse(""));
    out.put("has_support", settings.supportEmail().isPresent() || settings.supportUrl().isPresent());
    out.put("has_legal", settings.termsUrl().isPresent() || settings.privacyUrl().isPresent());
    return out;
  }

  static String mediaType(String fileName) {
    String name = fileName.toLowerCase(Locale.ROOT);
    if (name.endsWith(".svg")) {
      return "image/svg+xml";
    } else if (name.endsWith(".png")) {
      return "image/png";
    } else if (name.endsWith(".gif")) {
      return "image/gif";
    } else if (name.endsWith(".webp")) {
      return "image/webp";
    }
    return "image/jpeg";
  }
}
