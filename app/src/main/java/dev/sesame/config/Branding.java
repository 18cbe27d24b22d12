package dev.sesame.config;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How Sesame presents itself on its pages, in its elements and in its emails: the app's name (also the relying
 * party name passkey prompts show), a logo (a URL, or a file Sesame serves at {@code /brand/logo}), the accent colour
 * for light and dark schemes, where to get help, the legal links, the languages offered and the default one, and
 * the directory of email templates that override the built-in ones.
 */
public record Branding(
    String appName,
    Optional<String> logoUrl,
    Optional<Path> logoFile,
    String accent,
    String accentDark,
    Optional<String> supportEmail,
    Optional<URI> supportUrl,
    Optional<URI> termsUrl,
    Optional<URI> privacyUrl,
    List<String> languages,
    String defaultLanguage,
    Optional<Path> templatesDir) {

  public static final String DEFAULT_ACCENT = "#0b57d0";
  public static final String DEFAULT_ACCENT_DARK = "#8ab4f8";
  public static final String LOGO_PATH = "/brand/logo";

  /** The logo's address as a page or an email can load it (absolute: emails have no base), or empty. */
  public Optional<String> logo(String issuer) {
    if (logoFile.isPresent()) {
      return Optional.of(issuer + LOGO_PATH);
    }
    return logoUrl.map(url -> url.startsWith("/") ? issuer + url : url);
  }

  /** The dark scheme's card, which links and outlined buttons in the accent colour stand on (sesame.css, ui.js). */
  static final String DARK_CARD = "#1c1c1e";
  /** The light scheme's card. */
  static final String LIGHT_CARD = "#ffffff";

  /**
   * The brand's colour for the dark scheme when only the light one is given: the same hue, lightened (mixed with
   * white in 5 % steps) until text in it on the dark card reaches 4.5:1 (WCAG 2.2 SC 1.4.3). A purple such as
   * #7c3aed is about 3:1 on #1c1c1e as it is.
   */
  public static String forDarkScheme(String accent) {
    int rgb = Integer.parseInt(accent.substring(1), 16);
    for (int step = 0; step <= 20; step++) {
      double t = step / 20.0;
      String mixed = String.format(Locale.ROOT, "#%02x%02x%02x", mix((rgb >> 16) & 0xff, t),
          mix((rgb >> 8) & 0xff, t), mix(rgb & 0xff, t));
      if (contrast(mixed, DARK_CARD) >= 4.5) {
        return mixed;
      }
    }
    return "#ffffff";
  }

  private static int mix(int channel, double towardWhite) {
    return (int) Math.round(channel + (255 - channel) * towardWhite);
  }

  /** The WCAG contrast ratio of two colours, 1 to 21. */
  public static double contrast(String a, String b) {
    double la = luminance(a);
    double lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  /** Text on the accent colour: black or white, whichever contrasts more (WCAG relative luminance). */
  public static String textOn(String hex) {
    double l = luminance(hex);
    return (1.05) / (l + 0.05) >= (l + 0.05) / 0.05 ? "#ffffff" : "#000000";
  }

  static double luminance(String hex) {
    int rgb = Integer.parseInt(hex.substring(1), 16);
    double r = channel((rgb >> 16) & 0xff);
    double g = channel((rgb >> 8) & 0xff);
    double b = channel(rgb & 0xff);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }

  private static double channel(int c) {
    double v = c / 255.0;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }

  /** {@code #rgb} or {@code #rrggbb}, as {@code #rrggbb} in lower case. */
  static String color(String s) {
    String v = s.strip().toLowerCase(Locale.ROOT);
    if (v.matches("#[0-9a-f]{3}")) {
      v = "#" + v.charAt(1) + v.charAt(1) + v.charAt(2) + v.charAt(2) + v.charAt(3) + v.charAt(3);
    }
    if (!v.matches("#[0-9a-f]{6}")) {
      throw new IllegalArgumentException("expected a colour as #rrggbb (or #rgb), got '" + s + "'");
    }
    return v;
  }
}
