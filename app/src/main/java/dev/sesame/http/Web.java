package dev.sesame.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.sesame.config.Config;
import dev.sesame.db.Database;
import dev.sesame.sessions.SessionService;
import dev.sesame.tokens.AccessTokens;

/**
 * What every feature's endpoints share, built once by {@code Main}: the JSON mapper, who the client is, the page
 * shell, the hosted pages' cookies, request authentication and the once-retry for statements that never ran.
 */
public record Web(ObjectMapper mapper, ClientIps clientIps, Pages pages, SessionCookies cookies, RequestAuth auth,
                  Retry retry) {

  /** Sesame's JSON: ISO 8601 instants and dates. */
  public static ObjectMapper json() {
    return new ObjectMapper().registerModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
  }

  public static Web of(Config config, Database database, AccessTokens accessTokens, SessionService sessions,
                       Pages pages) {
    ObjectMapper mapper = json();
    SessionCookies cookies = new SessionCookies(config);
    return new Web(mapper, new ClientIps(config.trustedProxies()), pages, cookies,
        new RequestAuth(accessTokens, sessions, cookies, config.allowedOrigins()), new Retry(database));
  }
}
