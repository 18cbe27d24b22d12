package dev.sesame.http;

import dev.sesame.common.ApiException;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The public files under {@code /assets} (web/ in the repository), read from the jar once at start-up and served
 * from memory. Javalin's static-file handler opens the whole jar as a zip file system when the server starts, which
 * took about a quarter of a second of every restart. Public: an app on another origin loads {@code <sesame-auth>}
 * from here as a module script (CORS mode).
 */
final class StaticAssets {
  /** Every file in web/, with its media type (StaticAssetsTest keeps this in step with the directory). */
  static final Map<String, String> FILES = Map.ofEntries(
      Map.entry("sesame.js", "text/javascript; charset=utf-8"),
      Map.entry("ui.js", "text/javascript; charset=utf-8"),
      Map.entry("i18n.js", "text/javascript; charset=utf-8"),
      Map.entry("sesame-auth.js", "text/javascript; charset=utf-8"),
      Map.entry("sesame-profile.js", "text/javascript; charset=utf-8"),
      Map.entry("confirm.js", "text/javascript; charset=utf-8"),
      Map.entry("email-change.js", "text/javascript; charset=utf-8"),
      Map.entry("sesame.css", "text/css; charset=utf-8"),
      Map.entry("admin.js", "text/javascript; charset=utf-8"),
      Map.entry("admin.css", "text/css; charset=utf-8"));

  private record Asset(byte[] bytes, String type) {}

  private final Map<String, Asset> assets;

  StaticAssets() {
    Map<String, Asset> loaded = new HashMap<>();
    FILES.forEach((name, type) -> loaded.put(name, new Asset(read(name), type)));
    this.assets = Map.copyOf(loaded);
  }

  private static byte[] read(String name) {
    try (InputStream in = StaticAssets.class.getResourceAsStream("/web/" + name)) {
      if (in == null) {
        throw new IllegalStateException("web/" + name + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void serve(Context ctx) {
    Asset asset = assets.get(ctx.pathParam("name"));
    if (asset == null) {
      throw new ApiException(404, "not_found", "No such file.");
    }
    ctx.header("Cache-Control", "public, max-age=300")
        .header("Access-Control-Allow-Origin", "*")
        .header("Cross-Origin-Resource-Policy", "cross-origin")
        .contentType(asset.type())
        .result(asset.bytes());
  }
}
