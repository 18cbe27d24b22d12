package dev.sesame.users;

import dev.sesame.common.ApiException;
import dev.sesame.common.DisplayText;
import dev.sesame.http.Feature;
import dev.sesame.http.JsonBody;
import dev.sesame.http.Web;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * {@code /v1/me/profile}: the name a person gives on the account page, which apps granted the OpenID Connect
 * {@code profile} scope receive as {@code given_name}, {@code family_name} and {@code name}. Sesame's own account
 * API: a first-party session only.
 */
public final class ProfileEndpoints implements Feature {
  static final int MAX_NAME = 100;
  private final Jdbi jdbi;
  private final Web web;

  public ProfileEndpoints(Jdbi jdbi, Web web) {
    this.jdbi = jdbi;
    this.web = web;
  }

  @Override
  public void routes(RoutesConfig routes) {
    routes.get("/v1/me/profile", web.retry().once(this::show));
    routes.patch("/v1/me/profile", web.retry().once(this::update));
  }

  /** {@code GET /v1/me/profile} → {@code {"givenName", "familyName"}} (null when not given). */
  void show(Context ctx) {
    UUID id = web.auth().require(ctx).user().id();
    ctx.json(view(jdbi.withHandle(h -> Users.names(h, id))));
  }

  /**
   * {@code PATCH /v1/me/profile {"givenName"?, "familyName"?}} → 200 the names: each given one replaces the stored
   * one (an empty string clears it); at most 100 characters, no control, bidirectional or invisible ones (400
   * {@code invalid_name}).
   */
  void update(Context ctx) {
    UUID id = web.auth().require(ctx).user().id();
    JsonBody body = JsonBody.of(ctx, web.mapper());
    Users.Names stored = jdbi.withHandle(h -> Users.names(h, id));
    Users.Names names = new Users.Names(
        body.has("givenName") ? name(body.optionalString("givenName")) : stored.givenName(),
        body.has("familyName") ? name(body.optionalString("familyName")) : stored.familyName());
    jdbi.useHandle(h -> Users.setNames(h, id, names));
    ctx.json(view(names));
  }

  private static String name(Optional<String> given) {
    String v = given.map(String::strip).orElse("");
    if (v.isEmpty()) {
      return null;
    }
    if (v.length() > MAX_NAME || !DisplayText.readable(v)) {
      throw ApiException.badRequest("invalid_name", "A name is at most " + MAX_NAME + " printable characters.");
    }
    return v;
  }

  private static Map<String, Object> view(Users.Names names) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("givenName", names.givenName());
    out.put("familyName", names.familyName());
    return out;
  }
}
