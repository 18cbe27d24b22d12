package dev.sesame.http;

import dev.sesame.branding.Brand;
import dev.sesame.common.Html;
import dev.sesame.i18n.Languages;
import io.javalin.http.Context;
import java.net.URI;
import java.util.List;

/**
 * The shell of Sesame's own HTML pages: in the person's language ({@code <html lang dir>}), branded (logo, name,
 * accent from {@code /brand.css}, legal and help links), no inline script or style (the CSP forbids both).
 */
public final class Pages {
  private final Brand brand;
  private final Languages languages;

  public Pages(Brand brand, Languages languages) {
    this.brand = brand;
    this.languages = languages;
  }

  public String rpName() {
    return brand.appName();
  }

  public Brand brand() {
    return brand;
  }

  public Languages languages() {
    return languages;
  }

  /**
   * The language of a page: the first of {@code preferred} (an OpenID Connect request's {@code ui_locales}) that
   * this server offers, else the page's own {@code ?lang=}, else {@code Accept-Language}, else the default.
   */
  public Languages.Catalog catalog(Context ctx, String... preferred) {
    String[] sources = java.util.Arrays.copyOf(preferred, preferred.length + 2);
    sources[preferred.length] = ctx.queryParam("lang");
    sources[preferred.length + 1] = ctx.header("Accept-Language");
    ctx.header("Vary", "Accept-Language");
    return languages.catalog(languages.choose(sources));
  }

  /** A page whose text is {@code mainHtml} (already escaped), titled {@code title} (plain text). */
  public void render(Context ctx, Languages.Catalog t, String title, String mainHtml, List<String> scripts) {
    StringBuilder scriptTags = new StringBuilder();
    for (String src : scripts) {
      scriptTags.append("<script type=\"module\" src=\"").append(Html.escape(src)).append("\"></script>\n");
    }
    String name = Html.escape(brand.appName());
    String logo = brand.logo().map(url -> "<img class=\"logo\" src=\"" + Html.escape(url) + "\" alt=\"\">")
        .orElse("");
    ctx.html("""
        <!doctype html>
        <html lang="%1$s" dir="%2$s">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <meta name="color-scheme" content="light dark">
          <title>%3$s · %4$s</title>
          <link rel="stylesheet" href="/assets/sesame.css">
          <link rel="stylesheet" href="/brand.css">
          %5$s</head>
        <body>
          <main class="card">
            <header class="brand">%6$s<span class="name">%4$s</span></header>
            %7$s
            %8$s
          </main>
        </body>
        </html>
        """.formatted(t.tag(), t.dir(), Html.escape(title), name, scriptTags, logo, mainHtml, footer(t)));
  }

  /** Terms, privacy and help, where set. */
  private String footer(Languages.Catalog t) {
    StringBuilder links = new StringBuilder();
    var settings = brand.settings();
    settings.termsUrl().ifPresent(u -> link(links, u.toString(), t.format("common.terms")));
    settings.privacyUrl().ifPresent(u -> link(links, u.toString(), t.format("common.privacy")));
    settings.supportUrl().map(URI::toString)
        .or(() -> settings.supportEmail().map(e -> "mailto:" + e))
        .ifPresent(u -> link(links, u, t.format("common.help")));
    return links.isEmpty() ? "" : "<footer class=\"legal\">" + links + "</footer>";
  }

  private static void link(StringBuilder out, String href, String text) {
    out.append("<a href=\"").append(Html.escape(href)).append("\" rel=\"noopener\">").append(Html.escape(text))
        .append("</a>");
  }

  /**
   * A message as HTML: the text escaped, and the arguments named in {@code strong} (already plain text) set in
   * {@code <strong>}. Used where a sentence holds an address or a name to stand out.
   */
  public static String html(Languages.Catalog t, String key, String strong, String value, Object... more) {
    String marker = "\u0000" + strong + "\u0000";
    Object[] args = java.util.Arrays.copyOf(more, more.length + 2);
    args[more.length] = strong;
    args[more.length + 1] = marker;
    String text = Html.escape(t.format(key, args));
    // An address is set apart left to right (in Arabic it would otherwise take the sentence's direction and break
    // at its hyphen); a name keeps its own direction, isolated.
    String open = strong.equals("email") ? "<strong class=\"addr\" dir=\"ltr\">" : "<strong><bdi>";
    String close = strong.equals("email") ? "</strong>" : "</bdi></strong>";
    return text.replace(Html.escape(marker), open + Html.escape(value) + close);
  }
}
