package dev.sesame.http;

import dev.sesame.common.Html;
import io.javalin.http.Context;
import java.util.List;

/** The shell of Sesame's own HTML pages: branded, no inline script (the CSP forbids it), one stylesheet. */
public final class Pages {
  private final String rpName;

  public Pages(String rpName) {
    this.rpName = rpName;
  }

  public String rpName() {
    return rpName;
  }

  public void render(Context ctx, String title, String mainHtml, List<String> scripts) {
    StringBuilder scriptTags = new StringBuilder();
    for (String src : scripts) {
      scriptTags.append("<script type=\"module\" src=\"").append(Html.escape(src)).append("\"></script>\n");
    }
    ctx.html("""
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>%1$s · %2$s</title>
          <link rel="stylesheet" href="/assets/sesame.css">
          %3$s</head>
        <body>
          <main class="card">
            <p class="brand">%2$s</p>
            %4$s
          </main>
        </body>
        </html>
        """.formatted(Html.escape(title), Html.escape(rpName), scriptTags, mainHtml));
  }
}
