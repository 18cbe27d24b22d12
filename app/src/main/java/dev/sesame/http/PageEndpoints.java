package dev.sesame.http;

import io.javalin.http.Context;
import java.util.List;

/** The hosted account page, {@code /account}. Its scripts are modules under {@code /assets}. */
final class PageEndpoints {
  private final Pages pages;

  PageEndpoints(Pages pages) {
    this.pages = pages;
  }

  /** {@code GET /account}: the signed-in person's account, or the sign-in when there is none. */
  void account(Context ctx) {
    ctx.header("Cache-Control", "no-store");
    dev.sesame.i18n.Languages.Catalog t = pages.catalog(ctx);
    pages.render(ctx, t, t.format("page.account.title"), "<sesame-profile></sesame-profile>",
        List.of("/assets/sesame-auth.js", "/assets/sesame-profile.js"));
  }
}
