package dev.sesame.admin;

import dev.sesame.common.ApiException;
import dev.sesame.email.EmailTemplates;
import dev.sesame.http.Feature;
import dev.sesame.http.Web;
import dev.sesame.i18n.Languages;
import dev.sesame.oauth.ServiceKeys;
import dev.sesame.users.UserDirectory;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Previews of every email in every offered language, rendered with sample values exactly as they would go out
 * (branding settings, {@code SESAME_TEMPLATES_DIR}), for the console's Emails view ({@code settings:read}).
 */
public final class EmailPreviews implements Feature {
  private final EmailTemplates templates;
  private final Languages languages;
  private final AdminAuth auth;
  private final String issuer;

  public EmailPreviews(EmailTemplates templates, ServiceKeys serviceKeys, UserDirectory users, String issuer,
                       Web web) {
    this.templates = templates;
    this.languages = web.pages().languages();
    this.auth = new AdminAuth(serviceKeys, web.auth(), users);
    this.issuer = issuer;
  }

  @Override
  public void routes(RoutesConfig routes) {
    routes.get("/admin/v1/email-previews", this::index);
    routes.get("/admin/v1/email-previews/{template}/{language}", this::preview);
    routes.get("/admin/v1/email-previews/{template}/{language}/html", this::html);
  }

  /** {@code GET /admin/v1/email-previews} → the templates and the offered languages. */
  void index(Context ctx) {
    auth.require(ctx, "settings:read");
    ctx.json(Map.of("templates", Arrays.stream(EmailTemplates.Kind.values()).map(k -> k.file).toList(),
        "languages", languages.offered(), "defaultLanguage", languages.defaultLanguage()));
  }

  /**
   * {@code GET /admin/v1/email-previews/{template}/{language}} → {@code {"subject", "text", "html", "htmlUrl"}};
   * {@code htmlUrl} serves the HTML part alone, for a frame.
   */
  void preview(Context ctx) {
    auth.require(ctx, "settings:read");
    EmailTemplates.Kind kind = kind(ctx);
    String language = language(ctx);
    EmailTemplates.Rendered r = templates.render(kind, language, EmailTemplates.sample(kind, issuer));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("template", kind.file);
    out.put("language", language);
    out.put("subject", r.subject());
    out.put("text", r.text());
    out.put("html", r.html());
    out.put("htmlUrl", "/admin/v1/email-previews/" + kind.file + "/" + language + "/html");
    ctx.json(out);
  }

  /**
   * The HTML part as a document of its own, for the console's frame: its inline styles may apply (the email's), and
   * nothing else — no script, no form, no plug-in; only Sesame's own pages may frame it.
   */
  void html(Context ctx) {
    auth.require(ctx, "settings:read");
    EmailTemplates.Kind kind = kind(ctx);
    String language = language(ctx);
    ctx.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
        + "frame-ancestors 'self'; sandbox");
    ctx.header("X-Frame-Options", "SAMEORIGIN");
    ctx.html(templates.render(kind, language, EmailTemplates.sample(kind, issuer)).html());
  }

  private static EmailTemplates.Kind kind(Context ctx) {
    return EmailTemplates.Kind.named(ctx.pathParam("template")).orElseThrow(() -> new ApiException(404,
        "not_found", "No template '" + ctx.pathParam("template") + "' (sign-in, confirm-address, address-changed)."));
  }

  private String language(Context ctx) {
    String language = ctx.pathParam("language");
    if (!languages.offered().contains(language)) {
      throw new ApiException(404, "not_found", "'" + language + "' is not an offered language "
          + languages.offered() + ".");
    }
    return language;
  }
}
