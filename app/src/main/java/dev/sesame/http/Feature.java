package dev.sesame.http;

import io.javalin.config.RoutesConfig;

/**
 * A feature package's HTTP endpoints (email sign-in, the OAuth/OpenID Connect protocol…): the feature adds its own
 * routes to the table, so {@link HttpServer} needs to know none of them.
 */
public interface Feature {
  void routes(RoutesConfig routes);
}
