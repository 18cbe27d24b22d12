package dev.sesame.oauth;

import dev.sesame.common.Html;
import dev.sesame.i18n.Languages;
import dev.sesame.common.ApiException;
import dev.sesame.common.ClientInfo;
import dev.sesame.http.ClientIps;
import dev.sesame.http.Feature;
import dev.sesame.http.Pages;
import dev.sesame.http.RequestAuth;
import dev.sesame.http.SessionCookies;
import dev.sesame.http.Web;
import dev.sesame.users.UserDirectory;
import io.javalin.config.RoutesConfig;
import dev.sesame.sessions.SessionService;
import dev.sesame.tokens.IdTokens;
import java.util.Optional;
import java.util.UUID;
import dev.sesame.tokens.AccessTokens;
import dev.sesame.users.User;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** OpenID Connect Discovery 1.0, UserInfo (Core 1.0 §5.3) and RP-Initiated Logout 1.0. */
public final class OpenIdEndpoints implements Feature {
  private final RequestAuth auth;
  private final AccessTokens accessTokens;
  private final String issuer;
  private final IdTokens idTokens;
  private final Clients clients;
  private final SessionService sessions;
  private final SessionCookies cookies;
  private final ClientIps clientIps;
  private final Pages pages;
  private final boolean registration;
  private final UserDirectory users;

  private final Web web;

  public OpenIdEndpoints(AccessTokens accessTokens, String issuer, IdTokens idTokens, Clients clients,
                         SessionService sessions, UserDirectory users, boolean registration, Web web) {
    this.users = users;
    this.auth = web.auth();
    this.accessTokens = accessTokens;
    this.issuer = issuer;
    this.idTokens = idTokens;
    this.clients = clients;
    this.sessions = sessions;
    this.cookies = web.cookies();
    this.clientIps = web.clientIps();
    this.pages = web.pages();
    this.registration = registration;
    this.web = web;
  }

  @Override
  public void routes(RoutesConfig routes) {
    routes.get("/.well-known/oauth-authorization-server", this::configuration);
    routes.get("/.well-known/openid-configuration", this::configuration);
    routes.get("/logout", web.retry().once(this::logout));
    routes.post("/logout", web.retry().once(this::logout));
    routes.get("/v1/userinfo", web.retry().once(this::userinfo));
    routes.post("/v1/userinfo", web.retry().once(this::userinfo));
  }

  /**
   * {@code GET /.well-known/openid-configuration} (Discovery 1.0 §3) and {@code /.well-known/oauth-authorization-server}
   * (RFC 8414): the same document, saying what this server does and only that.
   */
  public void configuration(Context ctx) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("issuer", issuer);
    m.put("authorization_endpoint", issuer + "/authorize");
    m.put("token_endpoint", issuer + "/v1/token");
    m.put("userinfo_endpoint", issuer + "/v1/userinfo");
    m.put("jwks_uri", issuer + "/.well-known/jwks.json");
    m.put("introspection_endpoint", issuer + "/v1/introspect");
    m.put("revocation_endpoint", issuer + "/v1/revoke");
    m.put("end_session_endpoint", issuer + "/logout");
    if (registration) {
      m.put("registration_endpoint", issuer + "/v1/register"); // RFC 7591, SESAME_DYNAMIC_REGISTRATION=on
    }
    m.put("scopes_supported", ClientMetadata.SCOPES);
    m.put("response_types_supported", List.of("code"));
    m.put("response_modes_supported", List.of("query"));
    m.put("grant_types_supported", List.of("authorization_code", "refresh_token"));
    m.put("subject_types_supported", List.of("public"));
    m.put("id_token_signing_alg_values_supported", List.of("RS256", "ES256"));
    // Registered clients authenticate as they registered; public ones (and the first-party client) with PKCE.
    m.put("token_endpoint_auth_methods_supported", List.of("client_secret_basic", "client_secret_post", "none"));
    m.put("revocation_endpoint_auth_methods_supported", List.of("client_secret_basic", "client_secret_post", "none"));
    // Confidential clients; a backend may also use a Sesame service key (Bearer), which has no registered name.
    m.put("introspection_endpoint_auth_methods_supported", List.of("client_secret_basic", "client_secret_post"));
    m.put("code_challenge_methods_supported", List.of("S256"));
    m.put("claims_supported", List.of("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid",
        "at_hash", "email", "email_verified", "name", "given_name", "family_name"));
    m.put("authorization_response_iss_parameter_supported", true);
    // "consent" is accepted too, and changes nothing: the operator registered the client.
    m.put("prompt_values_supported", List.of("none", "login", "select_account", "create"));
    // ui_locales picks the hosted pages' language (and so the email's), before Accept-Language (Core §3.1.2.1).
    m.put("ui_locales_supported", pages.languages().offered());
    m.put("backchannel_logout_supported", true); // Back-Channel Logout 1.0 §2.1
    m.put("backchannel_logout_session_supported", true); // every logout token carries sid
    m.put("claims_parameter_supported", false);
    m.put("request_parameter_supported", false);
    m.put("request_uri_parameter_supported", false); // Discovery 1.0 §3: the default is true
    m.put("access_token_signing_alg_values_supported", accessTokens.algorithms());
    ctx.header("Cache-Control", "public, max-age=300");
    ctx.json(m);
  }

  /**
   * {@code GET|POST /logout}: RP-Initiated Logout 1.0. With a valid {@code id_token_hint} (and {@code client_id},
   * if given, naming the same client), the session the ID token names ends, and so does this browser's session on
   * Sesame's own pages; then the browser goes to {@code post_logout_redirect_uri} with {@code state} when that URI is
   * one the client registered, exactly — anything else gets a page, never a redirect. A hint is required: without
   * one, any page could sign people out.
   */
  public void logout(Context ctx) {
    java.util.function.Function<String, String> param = name -> {
      String v = ctx.method().name().equals("POST") ? ctx.formParam(name) : ctx.queryParam(name);
      return v == null || v.isBlank() ? null : v;
    };
    ctx.header("Cache-Control", "no-store");
    String hint = param.apply("id_token_hint");
    Optional<IdTokens.Hint> read = hint == null ? Optional.empty() : idTokens.readHint(hint);
    if (read.isEmpty()) {
      refuse(ctx, "The app did not say who is signing out (a valid id_token_hint is required).");
      return;
    }
    String clientId = param.apply("client_id");
    if (clientId != null && !clientId.equals(read.get().clientId())) {
      refuse(ctx, "client_id does not match the ID token.");
      return;
    }
    Optional<Client> client;
    try {
      client = clients.registered(read.get().clientId());
    } catch (ApiException unknown) {
      client = Optional.empty();
    }
    String target = param.apply("post_logout_redirect_uri");
    if (target != null && (client.isEmpty() || !client.get().postLogoutRedirectUris().contains(target)
        // Anyone may register a client: its sign-out must not be a redirect to wherever it likes.
        || client.get().source() == Client.Source.DYNAMIC)) {
      refuse(ctx, "post_logout_redirect_uri is not one this app registered.");
      return;
    }
    ClientInfo who = clientIps.of(ctx);
    // The hint names the app's session; the browser's own Sesame session is the cookie's. An ID token is no secret
    // of this browser's (any app, or its attacker, holds its own), so it may end only the session it names and,
    // here, the sign-in that session came from: a hint of another sign-in must not sign this browser out (logout
    // CSRF, RP-Initiated Logout 1.0 §2 and §6: the OP asks the person unless the hint is theirs).
    Optional<SessionService.ActiveSession> hinted = sessions.findActive(read.get().sessionId())
        .filter(s -> s.user().id().equals(read.get().userId()));
    Optional<UUID> browser = auth.cookieSession(ctx).map(SessionService.ActiveSession::sessionId);
    boolean confirmed = ctx.method().name().equals("POST") && "yes".equals(param.apply("confirm"))
        && browser.map(id -> id.toString().equals(param.apply("sid"))).orElse(false)
        && fromOwnPage(ctx);
    boolean hintIsBrowsers = browser.map(id -> sessions.sameSignIn(read.get().sessionId(), id)).orElse(false);
    // A redirect only for a hint of a live session, of this browser's own sign-in (an app that revoked its tokens
    // first, then signs out), or one the person confirmed on our page: someone else's ended session's ID token is
    // no reason to send anyone anywhere.
    boolean mayRedirect = target != null && (hinted.isPresent() || hintIsBrowsers || confirmed);
    // The hint's whole sign-in ends (the session it names, the Sesame session it came from and that one's other
    // apps), whatever this browser holds: an idle browser's access cookie has expired, and its refresh cookie is
    // not sent here, so the server must end what the app asked to end.
    sessions.endSignIn(read.get().sessionId(), read.get().userId(), who);
    if (browser.isPresent() && !hintIsBrowsers && !confirmed) {
      confirmPage(ctx, browser.get(), mayRedirect ? target : null, param);
      return;
    }
    if (browser.isPresent()) {
      // This browser's own session (the hint's sign-in, or one the person chose to end): its cookies go too. A
      // browser whose session was not recognised keeps its cookies: a sign-out link cannot clear another person's.
      sessions.logout(browser.get(), who);
      cookies.clear(ctx);
    }
    Languages.Catalog t = pages.catalog(ctx, param.apply("ui_locales"));
    if (mayRedirect && !confirmed) {
      String state = param.apply("state");
      ctx.redirect(target + (state == null ? "" : (target.contains("?") ? "&" : "?") + "state="
          + java.net.URLEncoder.encode(state, java.nio.charset.StandardCharsets.UTF_8)));
      return;
    }
    String back = "";
    if (mayRedirect) {
      // After a form on our own page, the browser would refuse a redirect elsewhere (CSP form-action 'self'): a link.
      String state = param.apply("state");
      String href = target + (state == null ? "" : (target.contains("?") ? "&" : "?") + "state="
          + java.net.URLEncoder.encode(state, java.nio.charset.StandardCharsets.UTF_8));
      back = "<p><a href=\"" + Html.escape(href) + "\">"
          + Html.escape(t.format("page.signedOut.back", "app", client.map(Client::clientName).orElse(""))) + "</a></p>";
    }
    pages.render(ctx, t, t.format("page.signedOut.title"), "<h1>" + Html.escape(t.format("page.signedOut.heading"))
        + "</h1><p class=\"lead\">" + Html.escape(t.format("page.signedOut.lead")) + "</p>" + back, List.of());
  }

  /**
   * Whether a POST came from a page of Sesame's own origin: Fetch Metadata says so ({@code Sec-Fetch-Site:
   * same-origin}, which no other site can make a browser send), or else the {@code Origin} header does. (Sesame's
   * pages send no referrer, and Chromium then sends {@code Origin: null} on a form's POST: the header alone would
   * refuse the person's own click.)
   */
  private boolean fromOwnPage(Context ctx) {
    String site = ctx.header("Sec-Fetch-Site");
    if (site != null) {
      return site.equals("same-origin");
    }
    return issuerOrigin().equals(ctx.header("Origin"));
  }

  /** The origin of Sesame's own pages, which the confirmation form posts from. */
  private String issuerOrigin() {
    java.net.URI uri = java.net.URI.create(issuer);
    return uri.getScheme() + "://" + uri.getRawAuthority();
  }

  /** Asks the person before ending this browser's session for a hint that is not of it. */
  private void confirmPage(Context ctx, UUID browserSession, String target,
                           java.util.function.Function<String, String> param) {
    Languages.Catalog t = pages.catalog(ctx, param.apply("ui_locales"));
    StringBuilder hidden = new StringBuilder();
    java.util.function.BiConsumer<String, String> field = (name, value) -> {
      if (value != null) {
        hidden.append("<input type=\"hidden\" name=\"").append(name).append("\" value=\"")
            .append(Html.escape(value)).append("\">");
      }
    };
    field.accept("id_token_hint", param.apply("id_token_hint"));
    field.accept("post_logout_redirect_uri", target);
    field.accept("state", target == null ? null : param.apply("state"));
    field.accept("ui_locales", param.apply("ui_locales"));
    field.accept("sid", browserSession.toString());
    field.accept("confirm", "yes");
    String rp = pages.rpName();
    pages.render(ctx, t, t.format("page.signOutConfirm.title", "app", rp), """
        <h1>%s</h1>
        <p class="lead">%s</p>
        <form method="post" action="/logout">%s<button type="submit" class="primary">%s</button></form>
        <p><a href="/account">%s</a></p>
        """.formatted(Html.escape(t.format("page.signOutConfirm.heading", "app", rp)),
        Html.escape(t.format("page.signOutConfirm.lead", "app", rp)), hidden, Html.escape(t.format("page.signOutConfirm.yes")),
        Html.escape(t.format("page.signOutConfirm.no"))), List.of());
  }

  private void refuse(Context ctx, String why) {
    ctx.status(400);
    Languages.Catalog t = pages.catalog(ctx, ctx.queryParam("ui_locales"));
    pages.render(ctx, t, t.format("page.signOutRefused.title"), """
        <h1>%s</h1>
        <p class="lead">%s</p>
        <p class="hint" lang="en">%s</p>
        """.formatted(Html.escape(t.format("page.signOutRefused.heading")),
        Html.escape(t.format("page.signOutRefused.lead")), Html.escape(why)), List.of());
  }

  /**
   * {@code GET|POST /v1/userinfo} with {@code Authorization: Bearer}: {@code sub}, and {@code email} and
   * {@code email_verified} when the token's scope includes {@code email} (a first-party token, which has no scope,
   * always does), and {@code metadata} (the person's public metadata) with the {@code metadata} scope. A bad or ended token is 401 with {@code WWW-Authenticate: Bearer error="invalid_token"}.
   */
  public void userinfo(Context ctx) {
    RequestAuth.Bearer bearer = auth.requireBearer(ctx);
    User user = bearer.session().user();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("sub", user.id().toString());
    List<String> scopes = bearer.scope() == null ? null : List.of(bearer.scope().split(" "));
    if (scopes == null || scopes.contains("email")) {
      out.put("email", user.email());
      out.put("email_verified", user.emailVerified());
    }
    if (scopes != null && scopes.contains("metadata")) {
      out.put("metadata", users.publicMetadata(user.id()));
    }
    if (scopes != null && scopes.contains("profile")) {
      out.putAll(users.names(user.id()).claims()); // Core §5.4: name, given_name, family_name, as the person gave them
    }
    ctx.header("Cache-Control", "no-store");
    ctx.json(out);
  }
}
