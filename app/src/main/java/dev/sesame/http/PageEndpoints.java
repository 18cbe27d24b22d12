package dev.sesame.http;

import dev.sesame.common.Html;
import dev.sesame.oauth.AuthorizationRequest;
import io.javalin.http.Context;
import java.util.List;

/** The hosted pages: sign-in and {@code /account}. Their scripts are modules under {@code /assets}. */
final class PageEndpoints {
  private final Pages pages;

  PageEndpoints(Pages pages) {
    this.pages = pages;
  }

  /**
   * The sign-in page: {@code <sesame-auth>}, alone (then on to {@code /account}) or carrying a sealed authorization
   * request, with what the page needs to know of it in the clear: the prompt, an email to start with, and the app's
   * name.
   */
  void signIn(Context ctx, AuthorizationRequest request, String sealed) {
    StringBuilder main = new StringBuilder();
    StringBuilder attributes = new StringBuilder();
    if (request == null) {
      attributes.append(" continue-to=\"/account\"");
    } else {
      attributes.append(" request=\"").append(Html.escape(sealed)).append('"');
      if (!request.prompt().isEmpty()) {
        attributes.append(" prompt=\"").append(Html.escape(String.join(" ", request.prompt()))).append('"');
      }
      if (request.loginHint() != null) {
        attributes.append(" email=\"").append(Html.escape(request.loginHint())).append('"');
      }
      if (request.clientName() != null) {
        main.append("<p class=\"hint\">to continue to <strong>").append(Html.escape(request.clientName()))
            .append("</strong></p>");
      }
    }
    pages.render(ctx, "Sign in", "<sesame-auth" + attributes + "></sesame-auth>" + main,
        List.of("/assets/sesame-auth.js"));
  }

  /**
   * An authorization request nobody can be sent back from (unknown client, unregistered redirect URI): a page,
   * never a redirect (RFC 6749 §4.1.2.1).
   */
  void refused(Context ctx, String why) {
    ctx.status(400);
    pages.render(ctx, "Sign-in link not allowed", """
        <h1>This sign-in link can't be used</h1>
        <p class="lead">The app that sent you here asked for something this server does not allow.
        Go back to the app and try again, or contact its owner.</p>
        <p class="hint">%s</p>
        """.formatted(Html.escape(why)), List.of());
  }

  /** {@code GET /account}: the signed-in person's account, or the sign-in when there is none. */
  void account(Context ctx) {
    ctx.header("Cache-Control", "no-store");
    pages.render(ctx, "Your account", "<sesame-profile></sesame-profile>",
        List.of("/assets/sesame-auth.js", "/assets/sesame-profile.js"));
  }
}
