package dev.sesame.email;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.common.ApiException;
import dev.sesame.common.Html;
import dev.sesame.http.ClientIps;
import dev.sesame.http.ErrorMapper;
import dev.sesame.http.Feature;
import dev.sesame.http.JsonBody;
import dev.sesame.http.Pages;
import dev.sesame.http.SessionCookies;
import dev.sesame.http.Web;
import dev.sesame.i18n.Languages;
import java.util.Optional;
import io.javalin.config.RoutesConfig;
import dev.sesame.oauth.AuthorizationRequests;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;

/** {@code /v1/email/*}, the link's confirm page, and the development mailbox. */
public final class EmailEndpoints implements Feature {
  private final EmailSignInService emailSignIn;
  private final EmailChanges emailChanges;
  private final Outbox outbox;
  private final ClientIps clientIps;
  private final ObjectMapper mapper;
  private final Pages pages;
  private final SessionCookies cookies;
  private final AuthorizationRequests requests;

  private final Web web;
  private final dev.sesame.passkeys.PasskeyService passkeys;
  private final Languages languages;
  private final boolean devMailbox;

  /** @param devMailbox serve {@code /dev/mail} (no SMTP, a localhost public URL) */
  public EmailEndpoints(EmailSignInService emailSignIn, EmailChanges emailChanges, Outbox outbox,
                        AuthorizationRequests requests, dev.sesame.passkeys.PasskeyService passkeys, Web web,
                        boolean devMailbox) {
    this.passkeys = passkeys;
    this.emailSignIn = emailSignIn;
    this.emailChanges = emailChanges;
    this.outbox = outbox;
    this.requests = requests;
    this.web = web;
    this.clientIps = web.clientIps();
    this.mapper = web.mapper();
    this.pages = web.pages();
    this.cookies = web.cookies();
    this.languages = web.pages().languages();
    this.devMailbox = devMailbox;
  }

  @Override
  public void routes(RoutesConfig routes) {
    routes.post("/v1/email/start", web.retry().once(this::start));
    routes.post("/v1/email/verify", web.retry().once(this::verify));
    routes.get("/v1/email/flows/{flowId}", web.retry().once(this::flowStatus));
    routes.get("/email/confirm", web.retry().once(this::confirmPage));
    routes.head("/email/confirm", web.retry().once(this::confirmPage));
    routes.get("/email/change", web.retry().once(this::changePage));
    routes.head("/email/change", web.retry().once(this::changePage));
    routes.post("/v1/email/change", web.retry().once(this::confirmChange));
    if (devMailbox) {
      routes.get("/dev/mail", web.retry().once(this::devMail));
    }
  }

  /**
   * {@code POST /v1/email/start {"email", "request"?}} → 202 {@code {"flowId", "expiresIn"}}. {@code request} is the
   * sealed authorization request of the sign-in page; it travels with the flow to whichever page finishes the
   * sign-in (this one with the code, or the link's confirm page on any device). The older fields ({@code redirectTo},
   * {@code clientId}, {@code state}, {@code codeChallenge}, {@code codeChallengeMethod}, {@code scope},
   * {@code nonce}) are checked the same way.
   */
  void start(Context ctx) {
    JsonBody body = JsonBody.of(ctx, mapper);
    String email = body.requiredString("email");
    Optional<dev.sesame.oauth.AuthorizationRequest> authorization = requests.fromBody(body, false);
    String request = authorization.map(requests::seal).orElse(null);
    // The email speaks the asking page's language (the element sends it), else the app's ui_locales, else the
    // browser's.
    String language = languages.choose(body.optionalString("language").orElse(null),
        authorization.map(dev.sesame.oauth.AuthorizationRequest::uiLocales).orElse(null),
        ctx.header("Accept-Language"));
    EmailSignInService.Started started = emailSignIn.start(email, request,
        authorization.map(dev.sesame.oauth.AuthorizationRequest::clientName).orElse(null), clientIps.of(ctx),
        language);
    ctx.status(202).json(Map.of("flowId", started.flowId(), "expiresIn", started.expiresIn()));
  }

  /** {@code POST /v1/email/verify} with {@code {"token"}} or {@code {"flowId", "code"}} → 200 token response. */
  void verify(Context ctx) {
    JsonBody body = JsonBody.of(ctx, mapper);
    EmailSignInService.Verified verified;
    if (body.has("token")) {
      verified = emailSignIn.verifyToken(body.requiredString("token"), clientIps.of(ctx));
    } else if (body.has("flowId") || body.has("code")) {
      verified = emailSignIn.verifyCode(body.requiredString("flowId"), body.requiredString("code"),
          clientIps.of(ctx));
    } else {
      throw ApiException.badRequest("invalid_request", "Send either 'token', or 'flowId' and 'code'.");
    }
    // The authorization request the flow carried (sealed): the page continues with POST /v1/authorize. And the
    // person's passkeys as they are, for the browser's password manager (the Signal API; one more statement).
    Map<String, Object> extra = new java.util.LinkedHashMap<>();
    verified.authorizationRequest().ifPresent(r -> extra.put("continue", Map.of("request", r)));
    var user = verified.tokens().user();
    extra.put("webauthn", passkeys.signals(user.id(), user.email()));
    cookies.respond(ctx, verified.tokens(), extra);
  }

  /**
   * {@code GET /v1/email/flows/{flowId}} → {@code {"status": "pending" | "finished" | "ended"}}: the page waiting for
   * the code asks now and then, so it can say when the sign-in was finished with the link elsewhere (it does not
   * sign this page in: whoever started a flow for someone else's address must not get their session). An id of no
   * flow is "pending" (see below); 404 {@code flow_not_found} only for text that is no flow id at all.
   */
  void flowStatus(Context ctx) {
    java.util.UUID id;
    try {
      id = java.util.UUID.fromString(ctx.pathParam("flowId"));
    } catch (IllegalArgumentException e) {
      throw new ApiException(404, "flow_not_found", "There is no such sign-in.");
    }
    // An id with no flow answers like a pending one: a start for a disabled account writes none, and the answer
    // must not tell it from any other (as the start's own answer does not).
    EmailSignInService.FlowStatus status = emailSignIn.status(id).orElse(EmailSignInService.FlowStatus.PENDING);
    ctx.header("Cache-Control", "no-store");
    ctx.json(Map.of("status", status.name().toLowerCase(java.util.Locale.ROOT)));
  }

  /**
   * {@code GET|HEAD /email/confirm?token=…}: the page the email links to. It only shows who is signing in and a
   * button; opening it any number of times (as mail scanners do) consumes nothing. The button's POST does.
   */
  void confirmPage(Context ctx) {
    ctx.header("Referrer-Policy", "no-referrer").header("Cache-Control", "no-store");
    String token = ctx.queryParam("token");
    Languages.Catalog t = pages.catalog(ctx);
    String main = emailSignIn.peek(token).map(pending -> """
            <h1>%1$s</h1>
            <p class="lead">%2$s</p>
            <form id="confirm" data-token="%3$s">
              <button type="submit" class="primary">%4$s</button>
            </form>
            <p class="hint">%5$s</p>
            <div id="status" role="status" aria-live="polite"></div>
            """.formatted(Html.escape(t.format("link.heading", "app", appOf(pending))),
            Pages.html(t, "link.as", "email", pending.email()), Html.escape(token),
            Html.escape(t.format("common.signIn")),
            Html.escape(expires(t, pending.expiresAt()))))
        .orElse("""
            <h1>%s</h1>
            <p class="lead">%s</p>
            <p><a href="/login?lang=%s">%s</a></p>
            """.formatted(Html.escape(t.format("link.unusable.heading")),
            Html.escape(t.format("link.unusable.lead")), Html.escape(t.tag()), Html.escape(t.format("common.signIn"))));
    pages.render(ctx, t, t.format("common.signIn"), main, List.of("/assets/confirm.js"));
  }

  /**
   * What the link's page calls the app the sign-in continues to: the registered client's name (for one that
   * registered itself, with where it sends the person), else this server's. The button is the person's consent, so
   * it must say where it leads: a sign-in somebody else started for their own app must not look like one to us.
   */
  private String appOf(EmailSignInService.Pending pending) {
    return Optional.ofNullable(pending.authorizationRequest()).flatMap(requests::open)
        .map(dev.sesame.oauth.AuthorizationRequest::clientName).orElse(pages.rpName());
  }

  /**
   * When a link expires, in the largest unit that reads well: minutes up to an hour and a half, then hours
   * ("expires in 24 hours", not "in 1,432 minutes").
   */
  static String expires(Languages.Catalog t, java.time.Instant at) {
    long minutes = minutesLeft(at);
    return minutes <= 90 ? t.format("link.expires", "minutes", minutes)
        : t.format("link.expiresHours", "hours", (minutes + 59) / 60);
  }

  /** Whole minutes until {@code at}, rounded up (a link with 30 seconds left still "expires in 1 minute"). */
  private static long minutesLeft(java.time.Instant at) {
    long seconds = java.time.Duration.between(java.time.Instant.now(), at).getSeconds();
    return Math.max(1, (seconds + 59) / 60);
  }

  /**
   * {@code GET|HEAD /email/change?token=…}: the page the new address's link opens; like the sign-in confirm page it
   * changes nothing until its button is pressed.
   */
  void changePage(Context ctx) {
    ctx.header("Referrer-Policy", "no-referrer").header("Cache-Control", "no-store");
    String token = ctx.queryParam("token");
    Languages.Catalog t = pages.catalog(ctx);
    String main = emailChanges.peek(token).map(pending -> """
            <h1>%1$s</h1>
            <p class="lead">%2$s</p>
            <form id="change" data-token="%3$s">
              <button type="submit" class="primary">%4$s</button>
            </form>
            <p class="hint">%5$s</p>
            <div id="status" role="status" aria-live="polite"></div>
            """.formatted(Html.escape(t.format("change.heading")),
            Pages.html(t, "change.lead", "email", pending.email(), "app", pages.rpName()), Html.escape(token),
            Html.escape(t.format("change.button")),
            Html.escape(expires(t, pending.expiresAt()))))
        .orElse("""
            <h1>%s</h1>
            <p class="lead">%s</p>
            """.formatted(Html.escape(t.format("link.unusable.heading")),
            Html.escape(t.format("change.unusable.lead"))));
    pages.render(ctx, t, t.format("change.title"), main, List.of("/assets/email-change.js"));
  }

  /** {@code POST /v1/email/change {"token"}} → 200 {@code {"email"}}: the address is changed. */
  void confirmChange(Context ctx) {
    JsonBody body = JsonBody.of(ctx, mapper);
    String language = languages.choose(body.optionalString("language").orElse(null), ctx.header("Accept-Language"));
    ctx.json(Map.of("email", emailChanges.confirm(body.requiredString("token"), clientIps.of(ctx), language)));
  }

  /**
   * {@code GET /dev/mail}: the latest messages of the development mailbox. Registered only without SMTP on a localhost
   * public URL, and even then it answers only a client on this machine that came straight to Sesame: the messages
   * hold live sign-in codes and links. Anyone else gets the same 404 as if the route did not exist.
   */
  void devMail(Context ctx) {
    if (!devMailboxAllowed(ctx.req().getRemoteAddr(), ctx.headerMap().keySet())) {
      ErrorMapper.write(ctx, 404, "not_found", "There is nothing at GET " + ctx.path() + ".");
      return;
    }
    List<Outbox.StoredMessage> messages = outbox.latest(20);
    String accept = ctx.header("Accept");
    if (accept != null && accept.contains("application/json")) {
      ctx.json(messages.stream().map(m -> Map.of("id", m.id(), "to", m.recipient(), "subject", m.subject(),
          "text", m.textBody() == null ? "" : m.textBody(), "createdAt", m.createdAt().toString())).toList());
      return;
    }
    StringBuilder main = new StringBuilder("<h1>Development mailbox</h1>"
        + "<p class=\"lead\">Sesame has no SMTP server configured, so sign-in emails land here.</p>");
    if (messages.isEmpty()) {
      main.append("<p>No messages yet.</p>");
    }
    for (Outbox.StoredMessage m : messages) {
      main.append("<article class=\"mail\"><h2>").append(Html.escape(m.subject())).append("</h2><p class=\"hint\">To ")
          .append(Html.escape(m.recipient())).append(" · ").append(m.createdAt()).append("</p><pre>")
          .append(linked(Html.escape(m.textBody() == null ? "" : m.textBody()))).append("</pre></article>");
    }
    ctx.header("Cache-Control", "no-store");
    pages.render(ctx, pages.languages().catalog("en"), "Development mailbox", main.toString(), List.of());
  }

  /** The development mailbox's links, clickable (the text is escaped already; a URL holds no quote or bracket). */
  static String linked(String escaped) {
    return escaped.replaceAll("(https?://[^\\s<>\"]+)", "<a href=\"$1\">$1</a>");
  }

  /**
   * A loopback peer with no proxy headers: a reverse proxy on the same machine connects from loopback too, so a
   * request it forwards (which names its client in one of these headers) is refused like any remote one.
   */
  static boolean devMailboxAllowed(String peer, java.util.Set<String> headerNames) {
    for (String name : headerNames) {
      String n = name.toLowerCase(java.util.Locale.ROOT);
      if (n.equals("forwarded") || n.startsWith("x-forwarded-") || n.equals("x-real-ip") || n.equals("via")) {
        return false;
      }
    }
    String address = ClientIps.normalize(peer); // Jetty gives an IPv6 peer in brackets: [0:0:0:0:0:0:0:1]
    if (address == null || !address.matches("[0-9a-fA-F:.]+")) {
      return false; // only an address literal, so the lookup below never asks DNS
    }
    try {
      return java.net.InetAddress.getByName(address).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }
}
