package dev.sesame.oauth;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.common.ApiException;
import dev.sesame.common.Html;
import dev.sesame.http.Pages;
import dev.sesame.i18n.Languages;
import dev.sesame.http.Feature;
import dev.sesame.http.JsonBody;
import dev.sesame.http.Pages;
import dev.sesame.http.RequestAuth;
import dev.sesame.http.Web;
import dev.sesame.sessions.SessionService;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The authorization endpoint (OpenID Connect Core §3.1.2, RFC 6749 §4.1): {@code GET|POST /authorize}, the hosted
 * sign-in page {@code GET /login} (also the older {@code redirectTo} form of a request), and
 * {@code POST /v1/authorize}, the page's last step that turns a signed-in session into a code for the app.
 */
public final class AuthorizationEndpoint implements Feature {
  private final AuthorizationCodes codes;
  private final AuthorizationRequests requests;
  private final RequestAuth auth;
  private final ObjectMapper mapper;
  private final Pages pages;
  private final Web web;

  public AuthorizationEndpoint(AuthorizationCodes codes, AuthorizationRequests requests, Web web) {
    this.codes = codes;
    this.requests = requests;
    this.auth = web.auth();
    this.mapper = web.mapper();
    this.pages = web.pages();
    this.web = web;
  }

  @Override
  public void routes(RoutesConfig routes) {
    routes.get("/login", web.retry().once(this::login));
    routes.get("/authorize", web.retry().once(this::authorizationEndpoint));
    routes.post("/authorize", web.retry().once(this::authorizationEndpoint));
    routes.post("/v1/authorize", web.retry().once(this::authorize));
  }

  /**
   * {@code GET|POST /authorize}: the OpenID Connect authorization endpoint (Core §3.1.2). A bad client or redirect
   * URI gets a page; any other refusal goes back to the client. A browser already signed in on Sesame's pages goes
   * straight back with a code (single sign-on) unless {@code prompt} or {@code max_age} asks for a new sign-in;
   * otherwise the sign-in page opens with the request sealed into it.
   */
  public void authorizationEndpoint(Context ctx) {
    answer(ctx, false);
  }

  /**
   * {@code GET /login}: the hosted sign-in page. With an app's {@code redirectTo} (or {@code redirect_uri}) it is an
   * authorization request in the page's older form (the first-party client by default, "Continue as …" when
   * already signed in).
   */
  public void login(Context ctx) {
    boolean forApp = java.util.stream.Stream.of("redirectTo", "redirect_uri", "client_id", "state", "code_challenge",
        "response_type").anyMatch(name -> ctx.queryParam(name) != null);
    if (!forApp) {
      ctx.header("Cache-Control", "no-store");
      signInPage(ctx, null, null);
      return;
    }
    answer(ctx, true);
  }

  private void answer(Context ctx, boolean hostedPage) {
    ctx.header("Cache-Control", "no-store");
    boolean post = ctx.method().name().equals("POST");
    if (post) {
      ctx.bodyAsBytes(); // enforces the size limit before the form is parsed
    }
    AuthorizationRequest request;
    try {
      request = requests.check(name -> post ? ctx.formParams(name) : ctx.queryParams(name), hostedPage);
    } catch (AuthorizationRequests.NotRedirectable e) {
      refusedPage(ctx, e.getMessage());
      return;
    } catch (AuthorizationRequests.Refused e) {
      ctx.redirect(e.redirect());
      return;
    }
    if (!request.prompt().contains("select_account")) {
      Optional<SessionService.ActiveSession> current = auth.cookieSession(ctx);
      if (current.isPresent()) {
        try {
          ctx.redirect(codes.authorize(current.get(), request));
          return;
        } catch (AuthorizationCodes.LoginRequired e) {
          if (request.promptNone()) {
            ctx.redirect(loginRequired(request));
            return;
          }
        }
      }
    }
    signInPage(ctx, request, requests.seal(request));
  }

  private String loginRequired(AuthorizationRequest request) {
    return requests.errorRedirect(request.redirectUri(), request.state(), "login_required",
        "The person is not signed in, or must sign in again.");
  }

  /**
   * {@code POST /v1/authorize}: the sign-in page's last step, with {@code {"request"}} (the sealed request the page
   * was opened with) or the older fields {@code {"clientId"?, "redirectTo", "state"?, "codeChallenge"?,
   * "codeChallengeMethod"?, "scope"?, "nonce"?}} → {@code {"redirect"}}: where to send the browser. A
   * {@code prompt=none} request always answers with a redirect ({@code login_required} without a fitting session);
   * otherwise a sign-in too old for the request is 403 {@code login_required}.
   */
  public void authorize(Context ctx) {
    JsonBody body = JsonBody.of(ctx, mapper);
    AuthorizationRequest request = requests.fromBody(body, true).orElseThrow();
    SessionService.ActiveSession session;
    try {
      session = auth.require(ctx);
    } catch (ApiException e) {
      if (request.promptNone() && e.status() == 401) {
        ctx.json(Map.of("redirect", loginRequired(request)));
        return;
      }
      throw e;
    }
    try {
      ctx.json(Map.of("redirect", codes.authorize(session, request)));
    } catch (AuthorizationCodes.LoginRequired e) {
      if (request.promptNone()) {
        ctx.json(Map.of("redirect", loginRequired(request)));
        return;
      }
      throw new ApiException(403, "login_required", "Sign in again to continue to the app.");
    }
  }

  /**
   * The sign-in page: {@code <sesame-auth>}, alone (then on to {@code /account}) or carrying a sealed authorization
   * request, with what the page needs to know of it in the clear: the prompt, an email to start with, and the app's
   * name.
   */
  private void signInPage(Context ctx, AuthorizationRequest request, String sealed) {
    Languages.Catalog t = pages.catalog(ctx, request == null ? null : request.uiLocales());
    StringBuilder main = new StringBuilder();
    StringBuilder attributes = new StringBuilder();
    if (request == null) {
      // The account page keeps the sign-in page's language, wherever it came from.
      attributes.append(" continue-to=\"/account?lang=").append(t.tag()).append('"');
    } else {
      attributes.append(" request=\"").append(Html.escape(sealed)).append('"');
      if (!request.prompt().isEmpty()) {
        attributes.append(" prompt=\"").append(Html.escape(String.join(" ", request.prompt()))).append('"');
      }
      if (request.loginHint() != null) {
        attributes.append(" email=\"").append(Html.escape(request.loginHint())).append('"');
      }
      if (request.clientName() != null) {
        // The element shows it under its heading; the page keeps a copy for browsers without JavaScript modules.
        attributes.append(" app-name=\"").append(Html.escape(request.clientName())).append('"');
        main.append("<noscript><p class=\"hint\">").append(Pages.html(t, "auth.toApp", "app", request.clientName()))
            .append("</p></noscript>");
      }
    }
    pages.render(ctx, t, t.format("common.signIn"), "<sesame-auth" + attributes + "></sesame-auth>" + main,
        List.of("/assets/sesame-auth.js"));
  }

  /**
   * An authorization request nobody can be sent back from (unknown client, unregistered redirect URI): a page,
   * never a redirect (RFC 6749 §4.1.2.1).
   */
  private void refusedPage(Context ctx, String why) {
    ctx.status(400);
    Languages.Catalog t = pages.catalog(ctx, ctx.queryParam("ui_locales"));
    pages.render(ctx, t, t.format("page.refused.title"), """
        <h1>%s</h1>
        <p class="lead">%s</p>
        <p class="hint" lang="en">%s</p>
        """.formatted(Html.escape(t.format("page.refused.heading")), Html.escape(t.format("page.refused.lead")),
        Html.escape(why)), List.of());
  }
}
