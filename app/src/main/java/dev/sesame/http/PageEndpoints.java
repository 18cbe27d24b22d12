package dev.sesame.http;

import dev.sesame.authorize.AuthorizationCodes;
import dev.sesame.common.ApiException;
import dev.sesame.common.Html;
import io.javalin.http.Context;
import java.util.List;

/** The hosted pages: {@code /login} and {@code /account}. Their scripts are modules under {@code /assets}. */
final class PageEndpoints {
  private final Pages pages;
  private final AuthorizationCodes codes;

  PageEndpoints(Pages pages, AuthorizationCodes codes) {
    this.pages = pages;
    this.codes = codes;
  }

  /**
   * {@code GET /login[?redirectTo=…&state=…&code_challenge=…&code_challenge_method=S256]}. A {@code redirectTo}
   * outside {@code SESAME_REDIRECT_ALLOWLIST} gets an error page: never an open redirect.
   */
  void login(Context ctx) {
    // redirect_uri and response_type=code are the standard OAuth names (RFC 6749 §4.1.1) for generic clients.
    String redirectTo = ctx.queryParam("redirectTo") != null ? ctx.queryParam("redirectTo")
        : ctx.queryParam("redirect_uri");
    String responseType = ctx.queryParam("response_type");
    if (responseType != null && !responseType.equals("code")) {
      throw ApiException.badRequest("unsupported_response_type", "response_type must be code.");
    }
    String state = ctx.queryParam("state");
    String challenge = ctx.queryParam("code_challenge");
    String clientId = ctx.queryParam("client_id");
    StringBuilder attributes = new StringBuilder(" continue-to=\"/account\"");
    if (redirectTo != null) {
      try {
        codes.checkRequest(clientId, redirectTo, challenge, ctx.queryParam("code_challenge_method"));
      } catch (ApiException e) {
        // Never a redirect: the client or its redirect URI is what is in doubt (RFC 6749 §4.1.2.1).
        ctx.status(400);
        pages.render(ctx, "Sign-in link not allowed", """
            <h1>This sign-in link can't be used</h1>
            <p class="lead">The app that sent you here asked for something this server does not allow.
            Go back to the app and try again, or contact its owner.</p>
            <p class="hint">%s</p>
            """.formatted(Html.escape(e.detail())), List.of());
        return;
      }
      attributes.append(" redirect-to=\"").append(Html.escape(redirectTo)).append('"');
      if (clientId != null) {
        attributes.append(" client-id=\"").append(Html.escape(clientId)).append('"');
      }
      if (state != null) {
        attributes.append(" state=\"").append(Html.escape(state)).append('"');
      }
      if (challenge != null) {
        attributes.append(" code-challenge=\"").append(Html.escape(challenge)).append('"');
      }
      for (String name : new String[] {"scope", "nonce"}) { // OpenID Connect's, carried to the code
        String value = ctx.queryParam(name);
        if (value != null) {
          attributes.append(' ').append(name).append("=\"").append(Html.escape(value)).append('"');
        }
      }
    } else if (state != null || challenge != null || clientId != null) {
      throw ApiException.badRequest("invalid_request", "state and code_challenge need a redirectTo.");
    }
    ctx.header("Cache-Control", "no-store");
    pages.render(ctx, "Sign in", "<sesame-auth" + attributes + "></sesame-auth>",
        List.of("/assets/sesame-auth.js"));
  }

  /** {@code GET /account}: the signed-in person's account, or the sign-in when there is none. */
  void account(Context ctx) {
    ctx.header("Cache-Control", "no-store");
    pages.render(ctx, "Your account", "<sesame-profile></sesame-profile>",
        List.of("/assets/sesame-auth.js", "/assets/sesame-profile.js"));
  }
}
