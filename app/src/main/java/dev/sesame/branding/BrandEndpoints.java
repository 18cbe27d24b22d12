package dev.sesame.branding;

import dev.sesame.common.ApiException;
import dev.sesame.config.Branding;
import dev.sesame.http.Feature;
import dev.sesame.i18n.BrowserMessages;
import dev.sesame.i18n.Languages;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What pages and elements need to look and speak like the app: {@code /brand.css} (the accent of both schemes),
 * {@code /brand/logo} (when Sesame serves the logo file), and {@code GET /v1/ui?lang=} — the chosen language, its
 * direction and messages (compiled for the browser), and the brand — for {@code <sesame-auth>} and
 * {@code <sesame-profile>}. All public and cacheable for five minutes; {@code /v1/ui} varies by Accept-Language.
 */
public final class BrandEndpoints implements Feature {
  private final Brand brand;
  private final Languages languages;
  private final byte[] css;
  private final Map<String, Map<String, Object>> messages = new HashMap<>();

  public BrandEndpoints(Brand brand, Languages languages) {
    this.brand = brand;
    this.languages = languages;
    this.css = brand.css().getBytes(StandardCharsets.UTF_8);
    for (String tag : languages.offered()) {
      messages.put(tag, BrowserMessages.of(languages.catalog(tag)));
    }
  }

  @Override
  public void routes(RoutesConfig routes) {
    routes.get("/brand.css", this::css);
    routes.get(Branding.LOGO_PATH, this::logo);
    routes.get("/v1/ui", this::ui);
  }

  void css(Context ctx) {
    publicFor5Minutes(ctx);
    ctx.contentType("text/css; charset=utf-8").result(css);
  }

  void logo(Context ctx) {
    Brand.Logo logo = brand.logoFile().orElseThrow(() -> new ApiException(404, "not_found", "No logo file is set."));
    publicFor5Minutes(ctx);
    // An SVG opened on its own is a document: no script, no plug-in, nothing it could load.
    ctx.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    ctx.contentType(logo.type()).result(logo.bytes());
  }

  /**
   * {@code GET /v1/ui?lang=} → {@code {"language", "dir", "languages", "messages", "brand"}}. {@code lang} is the
   * element's (or its page's) {@code lang}; when it names no offered language, Accept-Language decides, then the
   * default.
   */
  void ui(Context ctx) {
    String tag = languages.choose(ctx.queryParam("lang"), ctx.header("Accept-Language"));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("language", tag);
    out.put("dir", languages.catalog(tag).dir());
    out.put("languages", languages.offered());
    out.put("messages", messages.get(tag));
    out.put("brand", brand.forBrowser());
    publicFor5Minutes(ctx);
    ctx.header("Vary", "Accept-Language");
    ctx.json(out);
  }

  private static void publicFor5Minutes(Context ctx) {
    ctx.header("Cache-Control", "public, max-age=300")
        .header("Access-Control-Allow-Origin", "*")
        .header("Cross-Origin-Resource-Policy", "cross-origin");
  }
}
