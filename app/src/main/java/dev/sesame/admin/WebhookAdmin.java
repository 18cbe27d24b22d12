package dev.sesame.admin;

import dev.sesame.audit.AuditLog;
import dev.sesame.common.ApiException;
import dev.sesame.http.Feature;
import dev.sesame.http.JsonBody;
import dev.sesame.http.Web;
import dev.sesame.oauth.ServiceKeys;
import dev.sesame.users.UserDirectory;
import dev.sesame.webhooks.Webhooks;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * {@code /admin/v1/webhooks}: the webhook endpoints ({@code webhooks:read}, {@code webhooks:write}) — list, create
 * (the secret shown once), delete, rotate the secret (the old one keeps signing for 24 hours), enable or disable,
 * the delivery attempts with their results, and a re-send. Every change is audited with its actor.
 */
public final class WebhookAdmin implements Feature {
  private final Webhooks webhooks;
  private final AdminAuth auth;
  private final AuditLog audit;
  private final Jdbi jdbi;
  private final Web web;

  public WebhookAdmin(Webhooks webhooks, AuditLog audit, ServiceKeys serviceKeys, UserDirectory users, Jdbi jdbi,
                      Web web) {
    this.webhooks = webhooks;
    this.audit = audit;
    this.jdbi = jdbi;
    this.web = web;
    this.auth = new AdminAuth(serviceKeys, web.auth(), users);
  }

  @Override
  public void routes(RoutesConfig routes) {
    routes.get("/admin/v1/webhooks", web.retry().once(this::list));
    routes.post("/admin/v1/webhooks", web.retry().once(this::create));
    routes.delete("/admin/v1/webhooks/{id}", web.retry().once(this::delete));
    routes.post("/admin/v1/webhooks/{id}/secret", web.retry().once(this::rotate));
    routes.post("/admin/v1/webhooks/{id}/enable", web.retry().once(ctx -> setEnabled(ctx, true)));
    routes.post("/admin/v1/webhooks/{id}/disable", web.retry().once(ctx -> setEnabled(ctx, false)));
    routes.get("/admin/v1/webhooks/{id}/deliveries", web.retry().once(this::deliveries));
    routes.post("/admin/v1/webhooks/{id}/deliveries/{delivery}/resend", web.retry().once(this::resend));
  }

  /** {@code GET /admin/v1/webhooks} → {@code {"webhooks": [{"id", "url", "events", "enabled", …}]}}. */
  void list(Context ctx) {
    auth.require(ctx, "webhooks:read");
    ctx.json(Map.of("webhooks", webhooks.list()));
  }

  /**
   * {@code POST /admin/v1/webhooks {"url", "events"?}} → 201 {@code {"webhook", "secret"}}: the {@code whsec_}
   * secret is shown this once. 400 {@code invalid_webhook} for a URL that may not be used (not https, a private
   * address…) or an unknown event.
   */
  void create(Context ctx) {
    String actor = auth.require(ctx, "webhooks:write");
    JsonBody body = JsonBody.of(ctx, web.mapper());
    String url = body.requiredString("url");
    List<String> events = new ArrayList<>();
    if (body.optionalNode("events") != null) {
      if (!body.optionalNode("events").isArray()) {
        throw ApiException.badRequest("invalid_webhook", "events is a list of event names.");
      }
      body.optionalNode("events").forEach(e -> events.add(e.asText()));
    }
    Webhooks.Created created;
    try {
      created = webhooks.create(url, events);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("invalid_webhook", e.getMessage());
    }
    audited(ctx, actor, AuditLog.Type.WEBHOOK_CREATED, created.endpoint().id());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("webhook", created.endpoint());
    out.put("secret", created.secret());
    ctx.status(201).json(out);
  }

  void delete(Context ctx) {
    String actor = auth.require(ctx, "webhooks:write");
    UUID id = id(ctx);
    if (!webhooks.delete(id)) {
      throw notFound();
    }
    audited(ctx, actor, AuditLog.Type.WEBHOOK_DELETED, id);
    ctx.status(204);
  }

  /** {@code POST …/secret} → {@code {"secret", "previousValidUntil"}}: both sign for 24 hours. */
  void rotate(Context ctx) {
    String actor = auth.require(ctx, "webhooks:write");
    UUID id = id(ctx);
    String secret = webhooks.rotate(id).orElseThrow(WebhookAdmin::notFound);
    audited(ctx, actor, AuditLog.Type.WEBHOOK_SECRET_ROTATED, id);
    ctx.json(Map.of("secret", secret, "previousValidUntil", webhooks.find(id).orElseThrow().previousSecretUntil()));
  }

  void setEnabled(Context ctx, boolean enabled) {
    String actor = auth.require(ctx, "webhooks:write");
    UUID id = id(ctx);
    if (!webhooks.setEnabled(id, enabled)) {
      throw notFound();
    }
    audited(ctx, actor, enabled ? AuditLog.Type.WEBHOOK_ENABLED : AuditLog.Type.WEBHOOK_DISABLED, id);
    ctx.json(webhooks.find(id).orElseThrow());
  }

  /** {@code GET …/deliveries?limit=50} → the newest attempts: status, attempts, the receiver's last answer. */
  void deliveries(Context ctx) {
    auth.require(ctx, "webhooks:read");
    UUID id = id(ctx);
    webhooks.find(id).orElseThrow(WebhookAdmin::notFound);
    int limit = 50;
    String given = ctx.queryParam("limit");
    if (given != null) {
      try {
        limit = Integer.parseInt(given);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > 500) {
        throw ApiException.badRequest("invalid_request", "limit must be a number from 1 to 500.");
      }
    }
    ctx.json(Map.of("deliveries", webhooks.deliveries(id, limit)));
  }

  /** {@code POST …/deliveries/{delivery}/resend} → 202: sent again now, with the same webhook-id. */
  void resend(Context ctx) {
    String actor = auth.require(ctx, "webhooks:write");
    UUID id = id(ctx);
    long delivery;
    try {
      delivery = Long.parseLong(ctx.pathParam("delivery"));
    } catch (NumberFormatException e) {
      throw new ApiException(404, "delivery_not_found", "There is no such delivery.");
    }
    long again = webhooks.resend(id, delivery).orElseThrow(() ->
        new ApiException(404, "delivery_not_found", "There is no such delivery of this webhook."));
    audited(ctx, actor, AuditLog.Type.WEBHOOK_RESENT, id);
    ctx.status(202).json(Map.of("delivery", again));
  }

  private void audited(Context ctx, String actor, AuditLog.Type type, UUID endpointId) {
    String ip = web.clientIps().of(ctx).ip();
    AuditLog.actingAs(actor, () -> jdbi.useHandle(h -> audit.record(h, type, null, null, ip,
        Map.of("endpointId", endpointId.toString()))));
  }

  private static UUID id(Context ctx) {
    try {
      return UUID.fromString(ctx.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw notFound();
    }
  }

  private static ApiException notFound() {
    return new ApiException(404, "webhook_not_found", "There is no such webhook endpoint.");
  }
}
