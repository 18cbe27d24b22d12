package dev.sesame.admin;

import dev.sesame.audit.AuditLog;
import dev.sesame.common.ApiException;
import dev.sesame.common.ClientInfo;
import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.email.EmailChanges;
import dev.sesame.email.EmailSignInService;
import dev.sesame.http.Feature;
import dev.sesame.http.JsonBody;
import dev.sesame.http.Web;
import dev.sesame.oauth.Client;
import dev.sesame.oauth.ClientMetadata;
import dev.sesame.oauth.Clients;
import dev.sesame.oauth.ServiceKeys;
import dev.sesame.passkeys.PasskeyService;
import dev.sesame.sessions.SessionService;
import dev.sesame.stats.Stats;
import dev.sesame.users.EmailAddresses;
import dev.sesame.users.Metadata;
import dev.sesame.webhooks.WebhookMailer;
import dev.sesame.users.UserDirectory;
import dev.sesame.users.Users;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * The admin API, {@code /admin/v1/…}: people and what they hold (passkeys, sessions, recent events), and the actions
 * an operator takes for them. It calls the features' services, never their tables; every change runs
 * {@link AuditLog#actingAs} so the events it causes name the operator.
 */
public final class AdminEndpoints implements Feature {
  static final int MAX_PAGE = 200;

  private final UserDirectory users;
  private final Clients clients;
  private final SessionService sessions;
  private final PasskeyService passkeys;
  private final EmailSignInService emailSignIn;
  private final EmailChanges emailChanges;
  private final AuditLog audit;
  private final Jdbi jdbi;
  private final AdminAuth auth;
  private final Stats stats;
  private final UserTransfer transfer;
  private final Map<String, Object> settings;
  private final Web web;

  public AdminEndpoints(UserDirectory users, Clients clients, SessionService sessions, PasskeyService passkeys,
                        EmailSignInService emailSignIn, EmailChanges emailChanges, AuditLog audit,
                        ServiceKeys serviceKeys, Stats stats, Map<String, Object> settings, Jdbi jdbi, Web web) {
    this.settings = Map.copyOf(settings);
    this.emailChanges = emailChanges;
    this.stats = stats;
    this.transfer = new UserTransfer(jdbi);
    this.clients = clients;
    this.emailSignIn = emailSignIn;
    this.audit = audit;
    this.users = users;
    this.sessions = sessions;
    this.passkeys = passkeys;
    this.jdbi = jdbi;
    this.auth = new AdminAuth(serviceKeys, web.auth(), users);
    this.web = web;
  }

  /** The query parameters each admin API path understands; every other path takes none. */
  private static final Map<String, java.util.Set<String>> QUERY = Map.of(
      "/admin/v1/users", java.util.Set.of("email", "id", "has_passkey", "disabled", "created_from", "created_to",
          "signed_in_from", "signed_in_to", "cursor", "limit"),
      "/admin/v1/audit", java.util.Set.of("user_id", "type", "ip", "from", "to", "cursor", "limit"),
      "/admin/v1/stats", java.util.Set.of("days", "fresh"),
      "/admin/v1/webhooks/*/deliveries", java.util.Set.of("limit"));

  /**
   * A parameter the endpoint does not know is 400 naming it: ignored, a misspelt filter ({@code ?emial=ana})
   * would answer with everyone.
   */
  static void knownParametersOnly(Context ctx) {
    String path = ctx.path().replaceAll("^/admin/v1/webhooks/[^/]+/deliveries$", "/admin/v1/webhooks/*/deliveries");
    java.util.Set<String> known = QUERY.getOrDefault(path, java.util.Set.of());
    for (String name : ctx.queryParamMap().keySet()) {
      if (!known.contains(name)) {
        throw ApiException.badRequest("unknown_parameter", "'" + name + "' is not a parameter of "
            + ctx.method().name() + " " + ctx.path() + (known.isEmpty() ? ", which takes none."
            : "; it takes " + String.join(", ", new java.util.TreeSet<>(known)) + "."));
      }
    }
  }

  @Override
  public void routes(RoutesConfig routes) {
    routes.before("/admin/v1/*", AdminEndpoints::knownParametersOnly);
    routes.get("/admin/v1/users", web.retry().once(this::listUsers));
    routes.get("/admin/v1/users/export", this::exportUsers);
    routes.post("/admin/v1/users/import", this::importUsers);
    routes.get("/admin/v1/users/{id}", web.retry().once(this::getUser));
    routes.get("/admin/v1/audit", web.retry().once(this::audit));
    routes.get("/admin/v1/stats", web.retry().once(this::stats));
    routes.get("/admin/v1/settings", this::settings);
    routes.get("/admin", this::console);
    routes.get("/admin/", this::console);
    routes.get("/admin/v1/clients", web.retry().once(this::listClients));
    routes.post("/admin/v1/clients", web.retry().once(this::createClient));
    routes.get("/admin/v1/clients/{clientId}", web.retry().once(this::getClient));
    routes.patch("/admin/v1/clients/{clientId}", web.retry().once(this::updateClient));
    routes.delete("/admin/v1/clients/{clientId}", web.retry().once(this::deleteClient));
    routes.post("/admin/v1/clients/{clientId}/secret", web.retry().once(this::rotateClientSecret));
    routes.post("/admin/v1/users", web.retry().once(this::createUser));
    routes.delete("/admin/v1/users/{id}", web.retry().once(this::eraseUser));
    routes.patch("/admin/v1/users/{id}", web.retry().once(this::updateUser));
    routes.post("/admin/v1/users/{id}/email", web.retry().once(this::changeEmail));
    routes.post("/admin/v1/users/{id}/disable", web.retry().once(ctx -> setDisabled(ctx, true)));
    routes.post("/admin/v1/users/{id}/enable", web.retry().once(ctx -> setDisabled(ctx, false)));
    routes.post("/admin/v1/users/{id}/sign-in-email", web.retry().once(this::sendSignInEmail));
    routes.post("/admin/v1/users/{id}/sessions/revoke", web.retry().once(this::revokeSessions));
    routes.delete("/admin/v1/users/{id}/passkeys/{passkeyId}", web.retry().once(this::removePasskey));
  }

  /**
   * {@code GET /admin/v1/users?email=&id=&has_passkey=&created_from=&created_to=&signed_in_from=&signed_in_to=
   * &cursor=&limit=} ({@code users:read}) → {@code {"users": […], "next": cursor or null}}, in creation order.
   */
  void listUsers(Context ctx) {
    auth.require(ctx, "users:read");
    int limit = ctx.queryParam("limit") == null ? 50 : intParam(ctx, "limit", 1, MAX_PAGE);
    Users.Filter filter = new Users.Filter(ctx.queryParam("email"), optionalUuid(ctx, "id"),
        optionalBoolean(ctx, "has_passkey"), optionalBoolean(ctx, "disabled"), instant(ctx, "created_from"), instant(ctx, "created_to"),
        instant(ctx, "signed_in_from"), instant(ctx, "signed_in_to"));
    List<Users.Listed> page = users.page(filter, cursor(ctx.queryParam("cursor")), limit + 1);
    boolean more = page.size() > limit;
    List<Users.Listed> shown = more ? page.subList(0, limit) : page;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("users", shown.stream().map(AdminEndpoints::view).toList());
    Users.Listed last = shown.isEmpty() ? null : shown.get(shown.size() - 1);
    out.put("next", more ? encode(new Users.Cursor(last.user().createdAt(), last.user().id())) : null);
    ctx.json(out);
  }

  /** The largest import the API reads (a Passage CSV of a million people is about 200 MB). */
  static final long MAX_IMPORT_BYTES = 512L * 1024 * 1024;

  /**
   * {@code POST /admin/v1/users/import} ({@code users:write}) with the file as the body: {@code text/csv} for
   * Passage's export, {@code application/json} for Sesame's format (with passkeys). Streamed (not held to the API's
   * 64 KiB body limit), up to 512 MiB. Every row is checked first; one wrong row and nothing is imported: 400
   * {@code invalid_import} with the line-numbered {@code errors}. 200 {@code {"users", "usersAdded",
   * "passkeysAdded"}}; running it again adds nothing.
   */
  void importUsers(Context ctx) throws java.io.IOException {
    String actor = auth.require(ctx, "users:write");
    boolean mayChangeAdministrators = auth.mayChangeAdministrators(ctx);
    String type = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(java.util.Locale.ROOT);
    UserTransfer.Format format;
    if (type.startsWith("text/csv")) {
      format = UserTransfer.Format.PASSAGE_CSV;
    } else if (type.startsWith("application/json")) {
      format = UserTransfer.Format.SESAME_JSON;
    } else {
      throw new ApiException(415, "unsupported_media_type", "Send Passage's CSV export as text/csv, or Sesame's "
          + "user format as application/json.");
    }
    LimitedInput body = new LimitedInput(ctx.req().getInputStream(), MAX_IMPORT_BYTES);
    try (body) {
      UserTransfer.Result result = AuditLog.actingAs(actor, () -> {
        try {
          return transfer.importFrom(body, format, mayChangeAdministrators);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      ctx.json(result);
    } catch (RuntimeException e) {
      if (body.exceeded()) {
        throw body.tooLarge();
      }
      if (!(e instanceof UserTransfer.Invalid invalid)) {
        throw e;
      }
      List<String> errors = invalid.errors();
      throw ApiException.badRequest("invalid_import", errors.size() + " row" + (errors.size() == 1 ? " is" : "s are")
          + " wrong; nothing was imported.").with(Map.of("errors", errors.subList(0, Math.min(1000,
          errors.size()))));
    }
  }

  /**
   * {@code GET /admin/v1/users/export} ({@code users:read}): every account with its passkeys and metadata in
   * Sesame's user format, streamed (a million people in constant memory). Audited: it holds everyone's address.
   */
  void exportUsers(Context ctx) throws java.io.IOException {
    String actor = auth.require(ctx, "users:read");
    String ip = web.clientIps().of(ctx).ip();
    AuditLog.actingAs(actor, () -> jdbi.useHandle(h -> audit.record(h, AuditLog.Type.USERS_EXPORTED, null, null,
        ip, Map.of())));
    ctx.header("Cache-Control", "no-store")
        .header("Content-Disposition", "attachment; filename=\"sesame-users.json\"")
        .contentType("application/json");
    transfer.export(ctx.res().getOutputStream());
  }

  /** {@code GET /admin/v1/users/{id}} ({@code users:read}): the person, passkeys, sessions and recent events. */
  void getUser(Context ctx) {
    auth.require(ctx, "users:read");
    Users.Listed user = existing(ctx);
    UUID id = user.user().id();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("user", view(user));
    out.put("passkeys", passkeys.list(id));
    out.put("sessions", sessions.list(id, null));
    out.put("events", jdbi.withHandle(h -> AuditLog.recent(h, id, 50)));
    ctx.json(out);
  }

  /** {@code POST /admin/v1/users/{id}/sessions/revoke} ({@code users:write}) → 204: signed out everywhere. */
  void revokeSessions(Context ctx) {
    String actor = auth.require(ctx, "users:write");
    UUID id = existing(ctx).user().id();
    ClientInfo client = web.clientIps().of(ctx);
    AuditLog.actingAs(actor, () -> sessions.logoutAll(id, client));
    ctx.status(204);
  }

  /**
   * {@code DELETE /admin/v1/users/{id}/passkeys/{passkeyId}} ({@code users:write}) → 204: for someone who lost the
   * device. Their sessions are left alone; revoke them too if the device may be in other hands.
   */
  void removePasskey(Context ctx) {
    UUID id = existing(ctx).user().id();
    String actor = auth.requireForPerson(ctx, "users:write", id);
    ClientInfo client = web.clientIps().of(ctx);
    AuditLog.actingAs(actor, () -> passkeys.remove(id, ctx.pathParam("passkeyId"), client));
    ctx.status(204);
  }

  /**
   * {@code POST /admin/v1/users {"email", "invite"?}} ({@code users:write}) → 201 the new person; with
   * {@code invite: true} they get a sign-in email (link and code) now. 409 {@code user_exists} for a taken address.
   */
  void createUser(Context ctx) {
    String actor = auth.require(ctx, "users:write");
    JsonBody body = JsonBody.of(ctx, web.mapper());
    String email = EmailAddresses.normalize(body.requiredString("email"));
    boolean invite = body.optionalBoolean("invite").orElse(false);
    String language = language(body);
    ClientInfo client = web.clientIps().of(ctx);
    UUID id = AuditLog.actingAs(actor, () -> jdbi.inTransaction(h -> {
      dev.sesame.users.User created = Users.create(h, UUID.randomUUID(), email).orElseThrow(() ->
          new ApiException(409, "user_exists", "There is already an account with this email."));
      audit.record(h, AuditLog.Type.USER_CREATED_BY_ADMIN, created.id(), null, client.ip(),
          Map.of("invited", invite));
      return created.id();
    }));
    if (invite) {
      AuditLog.actingAs(actor, () -> emailSignIn.start(email, null, onBehalf(client), language));
    }
    ctx.status(201).json(view(users.find(id).orElseThrow()));
  }

  /**
   * {@code PATCH /admin/v1/users/{id} {"publicMetadata"?, "privateMetadata"?}} ({@code users:write}) → 200 the
   * person. Each given object replaces the one stored (at most 4 KiB of JSON each; {@code {}} clears it). Public
   * metadata reaches apps as the {@code metadata} claim of ID tokens and UserInfo when they ask for the
   * {@code metadata} scope; private metadata stays in the admin API.
   */
  void updateUser(Context ctx) {
    String actor = auth.require(ctx, "users:write");
    UUID id = existing(ctx).user().id();
    JsonBody body = JsonBody.of(ctx, web.mapper());
    JsonNode pub = body.optionalNode("publicMetadata");
    JsonNode priv = body.optionalNode("privateMetadata");
    if (pub == null && priv == null) {
      throw ApiException.badRequest("invalid_request", "Send publicMetadata, privateMetadata or both. (To change "
          + "the address: POST /admin/v1/users/{id}/email.)");
    }
    String pubJson = pub == null ? null : Metadata.validate("publicMetadata", pub);
    String privJson = priv == null ? null : Metadata.validate("privateMetadata", priv);
    ClientInfo client = web.clientIps().of(ctx);
    List<String> fields = new java.util.ArrayList<>();
    if (pub != null) {
      fields.add("publicMetadata");
    }
    if (priv != null) {
      fields.add("privateMetadata");
    }
    AuditLog.actingAs(actor, () -> jdbi.useTransaction(h -> {
      Users.setMetadata(h, id, pubJson, privJson);
      audit.record(h, AuditLog.Type.USER_UPDATED, id, null, client.ip(), Map.of("fields", fields));
    }));
    ctx.json(view(users.find(id).orElseThrow()));
  }

  /**
   * {@code POST /admin/v1/users/{id}/email {"email"}} ({@code users:write}) → 202 {@code {"pendingEmail",
   * "expiresAt"}}: a link goes to the new address, and the change is made when it is confirmed there (24 hours);
   * then the old address is told. 409 {@code email_taken} when another account has it.
   */
  void changeEmail(Context ctx) {
    UUID id = existing(ctx).user().id();
    String actor = auth.requireForPerson(ctx, "users:write", id);
    JsonBody body = JsonBody.of(ctx, web.mapper());
    String email = body.requiredString("email");
    String language = language(body);
    ClientInfo client = web.clientIps().of(ctx);
    EmailChanges.Requested requested = AuditLog.actingAs(actor,
        () -> emailChanges.request(id, email, client, language));
    ctx.status(202).json(Map.of("pendingEmail", requested.email(), "expiresAt", requested.expiresAt()));
  }

  /**
   * {@code POST /admin/v1/users/{id}/disable} and {@code …/enable} ({@code users:write}) → 200 the person. Disabling
   * ends every session (apps are told) and refuses every sign-in from then on with the answer any failed sign-in
   * gets; enabling lets them sign in again (their passkeys are kept).
   */
  void setDisabled(Context ctx, boolean disabled) {
    UUID id = existing(ctx).user().id();
    String actor = auth.requireForPerson(ctx, "users:write", id);
    if (disabled) {
      refuseLockout(actor, id);
    }
    ClientInfo client = web.clientIps().of(ctx);
    AuditLog.actingAs(actor, () -> jdbi.useTransaction(h -> {
      Users.setDisabled(h, id, disabled);
      if (disabled) {
        sessions.endAll(h, id, "user_disabled", client);
      }
      audit.record(h, disabled ? AuditLog.Type.USER_DISABLED : AuditLog.Type.USER_ENABLED, id, null, client.ip(),
          Map.of());
    }));
    ctx.json(view(users.find(id).orElseThrow()));
  }

  /**
   * {@code DELETE /admin/v1/users/{id}} ({@code users:write}) → 204: erases the person in one transaction — sessions
   * ended (apps told), passkeys, sign-in flows, address changes and every email to them (to their address, a new
   * address they were moving to, the notice to an old one) deleted, the account row (and its metadata) deleted;
   * audit events keep only the random user id (address and details cleared) and gain a {@code user.erased} event.
   */
  void eraseUser(Context ctx) {
    Users.Listed user = existing(ctx);
    UUID id = user.user().id();
    String actor = auth.requireForPerson(ctx, "users:write", id);
    refuseLockout(actor, id);
    ClientInfo client = web.clientIps().of(ctx);
    AuditLog.actingAs(actor, () -> jdbi.useTransaction(h -> {
      sessions.endAll(h, id, "user_erased", client);
      emailSignIn.forget(h, user.user().email());
      WebhookMailer.forget(h, user.user().email());
      emailChanges.forget(h, id);
      AuditLog.pseudonymize(h, id);
      Users.delete(h, id);
      audit.record(h, AuditLog.Type.USER_ERASED, id, null, null, Map.of());
    }));
    ctx.status(204);
  }

  /**
   * Nobody locks the console out by accident: an administrator does not disable or erase their own account from it
   * (another administrator, or the CLI, can), and the last administrator who can still sign in is not disabled or
   * erased (409 {@code last_administrator}: grant the role to someone first, {@code admin grant EMAIL}).
   */
  private void refuseLockout(String actor, UUID target) {
    if (actor.equals("admin:" + target)) {
      throw new ApiException(409, "own_account", "You can't disable or erase your own account from the console: "
          + "another administrator can, or the CLI.");
    }
    List<dev.sesame.users.User> admins = users.admins();
    boolean targetIsAdmin = admins.stream().anyMatch(a -> a.id().equals(target));
    long others = admins.stream().filter(a -> !a.id().equals(target))
        .filter(a -> users.find(a.id()).map(l -> l.disabledAt() == null).orElse(false)).count();
    if (targetIsAdmin && others == 0) {
      throw new ApiException(409, "last_administrator", "This is the last administrator who can sign in; grant the "
          + "admin role to someone else first (java -jar sesame.jar admin grant EMAIL).");
    }
  }

  /**
   * The language of an email an operator sends: the body's {@code language} (an offered one; 400 otherwise), else
   * {@code SESAME_DEFAULT_LANGUAGE}.
   */
  private String language(JsonBody body) {
    dev.sesame.i18n.Languages languages = web.pages().languages();
    return body.optionalString("language").map(tag -> languages.offered().stream()
            .filter(t -> t.equalsIgnoreCase(tag)).findFirst().orElseThrow(() -> ApiException.badRequest(
                "invalid_language", "'language' must be one of " + languages.offered() + ".")))
        .orElse(languages.defaultLanguage());
  }

  /** {@code POST /admin/v1/users/{id}/sign-in-email} ({@code users:write}) → 202: a link and code, sent for them. */
  void sendSignInEmail(Context ctx) {
    String actor = auth.require(ctx, "users:write");
    Users.Listed user = existing(ctx);
    if (user.disabledAt() != null) {
      throw new ApiException(409, "user_disabled", "This account is disabled; enable it first.");
    }
    String language = language(JsonBody.ofOptional(ctx, web.mapper()));
    ClientInfo client = web.clientIps().of(ctx);
    AuditLog.actingAs(actor, () -> {
      emailSignIn.start(user.user().email(), null, onBehalf(client), language);
      jdbi.useHandle(h -> audit.record(h, AuditLog.Type.USER_SIGN_IN_EMAIL_SENT, user.user().id(), null,
          client.ip(), Map.of()));
    });
    ctx.status(202);
  }

  /**
   * {@code GET /admin/v1/audit?user_id=&type=&ip=&from=&to=&cursor=&limit=} ({@code audit:read}) →
   * {@code {"events": […], "next"}}, newest first; events older than {@code SESAME_AUDIT_RETENTION} are gone.
   */
  void audit(Context ctx) {
    auth.require(ctx, "audit:read");
    int limit = ctx.queryParam("limit") == null ? 100 : intParam(ctx, "limit", 1, 500);
    Long before = null;
    String cursor = ctx.queryParam("cursor");
    if (cursor != null && !cursor.isEmpty()) {
      try {
        before = Long.parseLong(cursor);
      } catch (NumberFormatException e) {
        throw ApiException.badRequest("invalid_cursor", "cursor is not one this API returned.");
      }
    }
    AuditLog.Query query = new AuditLog.Query(optionalUuid(ctx, "user_id"), emptyToNull(ctx.queryParam("type")),
        emptyToNull(ctx.queryParam("ip")), instant(ctx, "from"), instant(ctx, "to"), before);
    List<AuditLog.Recorded> events = jdbi.withHandle(h -> AuditLog.query(h, query, limit + 1));
    boolean more = events.size() > limit;
    List<AuditLog.Recorded> shown = more ? events.subList(0, limit) : events;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("events", shown);
    out.put("next", more ? Long.toString(shown.get(shown.size() - 1).id()) : null);
    ctx.json(out);
  }

  /**
   * {@code GET /admin/v1/stats?days=30&fresh=false} ({@code stats:read}, days 1–400): totals (people, with a
   * passkey or email only, monthly active, passkeys by provider; counted every 10 minutes, {@code fresh=true} counts
   * them now) and per day (UTC, oldest first, today included): new people,
   * active people, sign-ins by method, failures by reason, the passkey offer shown and accepted.
   */
  void stats(Context ctx) {
    auth.require(ctx, "stats:read");
    int days = ctx.queryParam("days") == null ? 30 : intParam(ctx, "days", 1, Stats.MAX_DAYS);
    ctx.json(stats.dashboard(days, Boolean.TRUE.equals(optionalBoolean(ctx, "fresh"))));
  }

  /**
   * {@code GET /admin/v1/settings} ({@code settings:read}): the effective settings (lifetimes, limits, passkey
   * policy…) as the server started with them; secrets are never shown (the master key is "set" or "not set", the
   * database URL loses its query string).
   */
  void settings(Context ctx) {
    auth.require(ctx, "settings:read");
    ctx.json(settings);
  }

  /**
   * {@code GET /admin}: the admin console, a page of Sesame's own (no build step, the same strict CSP as every
   * page): its script signs an administrator in with a passkey and calls this API with the session cookie.
   */
  void console(Context ctx) {
    ctx.header("Cache-Control", "no-store");
    ctx.html("""
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>%1$s · Admin</title>
          <link rel="stylesheet" href="/assets/admin.css">
          <script type="module" src="/assets/admin.js"></script>
        </head>
        <body>
          <a class="skip" href="#main">Skip to content</a>
          <header class="top">
            <p class="brand">%1$s <span>Admin</span></p>
            <nav id="nav" aria-label="Sections" hidden>
              <a href="#/dashboard">Dashboard</a>
              <a href="#/users">Users</a>
              <a href="#/audit">Audit log</a>
              <a href="#/clients">Clients</a>
              <a href="#/webhooks">Webhooks</a>
              <a href="#/emails">Emails</a>
              <a href="#/settings">Settings</a>
            </nav>
            <p id="who" class="who"></p>
          </header>
          <main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
          <div id="toast" role="status" aria-live="polite"></div>
        </body>
        </html>
        """.formatted(dev.sesame.common.Html.escape(web.pages().rpName())));
  }

  // ---- clients: the OpenID Connect clients, as the CLI manages them ----------------------------------------------

  /** {@code GET /admin/v1/clients} ({@code clients:read}) → {@code {"clients": [RFC 7591 metadata…]}}. */
  void listClients(Context ctx) {
    auth.require(ctx, "clients:read");
    ctx.json(Map.of("clients", clients.list().stream().map(AdminEndpoints::clientView).toList()));
  }

  /** {@code GET /admin/v1/clients/{clientId}} ({@code clients:read}). */
  void getClient(Context ctx) {
    auth.require(ctx, "clients:read");
    ctx.json(clientView(clients.find(ctx.pathParam("clientId")).orElseThrow(AdminEndpoints::clientNotFound)));
  }

  /**
   * {@code POST /admin/v1/clients} ({@code clients:write}) with RFC 7591 metadata → 201 the metadata and, for a
   * confidential client, its {@code client_secret}: shown this once, stored only as a hash.
   */
  void createClient(Context ctx) {
    String actor = auth.require(ctx, "clients:write");
    Map<String, Object> metadata = metadata(ctx);
    Clients.Issued issued = clientMetadata(() -> clients.create(metadata, Client.Source.MANAGED));
    auditClient(ctx, actor, AuditLog.Type.CLIENT_CREATED, issued.client().clientId());
    ctx.status(201).json(withSecret(issued));
  }

  /** {@code PATCH /admin/v1/clients/{clientId}} ({@code clients:write}): the given metadata changes, the rest stays. */
  void updateClient(Context ctx) {
    String actor = auth.require(ctx, "clients:write");
    Map<String, Object> changes = metadata(ctx);
    String clientId = ctx.pathParam("clientId");
    Clients.Issued issued = clientMetadata(() -> clients.update(clientId, changes));
    auditClient(ctx, actor, AuditLog.Type.CLIENT_UPDATED, clientId);
    ctx.json(withSecret(issued));
  }

  /** {@code DELETE /admin/v1/clients/{clientId}} ({@code clients:write}) → 204. */
  void deleteClient(Context ctx) {
    String actor = auth.require(ctx, "clients:write");
    String clientId = ctx.pathParam("clientId");
    clients.delete(clientId);
    auditClient(ctx, actor, AuditLog.Type.CLIENT_DELETED, clientId);
    ctx.status(204);
  }

  /** {@code POST /admin/v1/clients/{clientId}/secret} ({@code clients:write}) → the new secret, once. */
  void rotateClientSecret(Context ctx) {
    String actor = auth.require(ctx, "clients:write");
    String clientId = ctx.pathParam("clientId");
    String secret = clients.rotateSecret(clientId);
    auditClient(ctx, actor, AuditLog.Type.CLIENT_SECRET_ROTATED, clientId);
    ctx.json(Map.of("client_id", clientId, "client_secret", secret));
  }

  private Map<String, Object> metadata(Context ctx) {
    try {
      Map<String, Object> m = web.mapper().readValue(ctx.bodyAsBytes(),
          new com.fasterxml.jackson.core.type.TypeReference<>() {});
      if (m != null) {
        return m;
      }
    } catch (java.io.IOException e) {
      // below
    }
    throw ApiException.badRequest("invalid_client_metadata", "Send the client's metadata as a JSON object.");
  }

  private static Clients.Issued clientMetadata(java.util.function.Supplier<Clients.Issued> change) {
    try {
      return change.get();
    } catch (ClientMetadata.Invalid e) {
      throw ApiException.badRequest(e.error(), e.getMessage());
    }
  }

  /** Client changes are not a person's: the event has no user, only the actor and the client's id. */
  private void auditClient(Context ctx, String actor, AuditLog.Type type, String clientId) {
    String ip = web.clientIps().of(ctx).ip();
    AuditLog.actingAs(actor, () -> jdbi.useHandle(h -> audit.record(h, type, null, null, ip,
        Map.of("clientId", clientId))));
  }

  private static Map<String, Object> clientView(Client c) {
    Map<String, Object> m = new LinkedHashMap<>(c.metadata());
    m.put("source", c.source().name().toLowerCase(java.util.Locale.ROOT));
    return m;
  }

  private static Map<String, Object> withSecret(Clients.Issued issued) {
    Map<String, Object> m = clientView(issued.client());
    issued.secret().ifPresent(s -> m.put("client_secret", s));
    return m;
  }

  /**
   * An email an operator sends for someone: the operator's address counts against the limits, but their browser is
   * not the one the person will open the link in (no user agent: the dashboard counts it as a plain link).
   */
  private static ClientInfo onBehalf(ClientInfo operator) {
    return new ClientInfo(operator.ip(), null);
  }

  private static ApiException clientNotFound() {
    return new ApiException(404, "client_not_found", "There is no such client.");
  }

  private static String emptyToNull(String v) {
    return v == null || v.isEmpty() ? null : v;
  }

  private Users.Listed existing(Context ctx) {
    UUID id;
    try {
      id = UUID.fromString(ctx.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw userNotFound();
    }
    return users.find(id).orElseThrow(AdminEndpoints::userNotFound);
  }

  private static ApiException userNotFound() {
    return new ApiException(404, "user_not_found", "There is no such user.");
  }

  private static Map<String, Object> view(Users.Listed l) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", l.user().id());
    m.put("email", l.user().email());
    m.put("emailVerified", l.user().emailVerified());
    m.put("createdAt", l.user().createdAt());
    m.put("lastSignInAt", l.user().lastSignInAt());
    m.put("roles", l.roles());
    m.put("disabledAt", l.disabledAt());
    m.put("passkeys", l.passkeys());
    m.put("publicMetadata", Metadata.parse(l.publicMetadata()));
    m.put("privateMetadata", Metadata.parse(l.privateMetadata()));
    return m;
  }

  // ---- parameters -------------------------------------------------------------------------------------------

  static String encode(Users.Cursor c) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString((c.createdAt() + "|" + c.id())
        .getBytes(StandardCharsets.UTF_8));
  }

  static Users.Cursor cursor(String value) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      String[] parts = new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8).split("\\|");
      return new Users.Cursor(Instant.parse(parts[0]), UUID.fromString(parts[1]));
    } catch (IllegalArgumentException | DateTimeParseException | ArrayIndexOutOfBoundsException e) {
      throw ApiException.badRequest("invalid_cursor", "cursor is not one this API returned.");
    }
  }

  private static int intParam(Context ctx, String name, int min, int max) {
    try {
      int v = Integer.parseInt(ctx.queryParam(name));
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // below
    }
    throw ApiException.badRequest("invalid_request", name + " must be a number from " + min + " to " + max + ".");
  }

  private static UUID optionalUuid(Context ctx, String name) {
    String v = ctx.queryParam(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    try {
      return UUID.fromString(v);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("invalid_request", name + " must be a user id (UUID).");
    }
  }

  private static Boolean optionalBoolean(Context ctx, String name) {
    String v = ctx.queryParam(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    if (!v.equals("true") && !v.equals("false")) {
      throw ApiException.badRequest("invalid_request", name + " must be true or false.");
    }
    return Boolean.valueOf(v);
  }

  private static Instant instant(Context ctx, String name) {
    String v = ctx.queryParam(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    try {
      return Instant.parse(v);
    } catch (DateTimeParseException e) {
      throw ApiException.badRequest("invalid_request", name + " must be an ISO 8601 instant, e.g. "
          + "2026-01-31T00:00:00Z.");
    }
  }
}
