package dev.sesame.http;

import dev.sesame.common.ApiException;
import dev.sesame.db.Database;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place errors become HTTP answers, in each protocol's own format: on Sesame's API, RFC 9457
 * {@code application/problem+json} with {@code type, title, status, code, detail}; on the OAuth endpoints (token,
 * revocation, introspection), RFC 6749 §5.2 {@code {"error", "error_description"}}, which OAuth client libraries
 * read. Unexpected exceptions become a 500 that carries only a reference; the stack trace goes to the log under the
 * same reference.
 */
public final class ErrorMapper {
  private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);
  static final String PROBLEM_JSON = "application/problem+json";
  /** Seconds a client is asked to wait when the database is unavailable: about two health probes. */
  static final int DATABASE_RETRY_AFTER = 2;

  private final Database database;
  /** The OAuth endpoints, answering in RFC 6749 §5.2's format. */
  static final java.util.Set<String> OAUTH_PATHS =
      java.util.Set.of("/v1/token", "/v1/revoke", "/v1/introspect", "/v1/userinfo", "/v1/register");

  ErrorMapper(Database database) {
    this.database = database;
  }

  void api(ApiException e, Context ctx) {
    e.headers().forEach(ctx::header);
    write(ctx, e.status(), e.code(), e.detail(), e.extensions());
  }

  /** Javalin's own answers: no route (404), wrong method (405), body too large (413) and the like. */
  void http(HttpResponseException e, Context ctx) {
    int status = e.getStatus();
    String code = switch (status) {
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 413 -> "payload_too_large";
      case 415 -> "unsupported_media_type";
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
      default -> status >= 500 ? "internal_error" : "bad_request";
    };
    String detail = switch (status) {
      case 404 -> "There is nothing at " + ctx.method() + " " + ctx.path() + ".";
      case 405 -> ctx.method() + " is not allowed on " + ctx.path() + ".";
      case 413 -> "The request body is larger than 64 KB.";
      default -> HttpStatus.forStatus(status).getMessage();
    };
    write(ctx, status, code, detail);
  }

  void unexpected(Exception e, Context ctx) {
    if (Database.unavailable(e)) {
      // Not a bug: the database is away, restarting or read-only. Say so, and when to try again.
      database.sawUnavailable(e);
      log.warn("{} {}: database unavailable: {}", ctx.method(), ctx.path(), rootMessage(e));
      ctx.header("Retry-After", Integer.toString(DATABASE_RETRY_AFTER));
      write(ctx, 503, "database_unavailable",
          "The service cannot reach its database right now. Try again in a few seconds.");
      return;
    }
    String reference = UUID.randomUUID().toString();
    log.error("Unhandled error on {} {} (reference {})", ctx.method(), ctx.path(), reference, e);
    write(ctx, 500, "internal_error", "Something went wrong on our side. Reference: " + reference + ".");
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  /** For statuses Javalin sets without an exception (e.g. an unmatched route): fill an empty body. */
  void status(Context ctx) {
    if (ctx.result() == null || ctx.result().isEmpty()) {
      http(new HttpResponseException(ctx.statusCode()), ctx);
    }
  }

  /** Writes an error in the format of the endpoint it happened on. */
  public static void write(Context ctx, int status, String code, String detail) {
    write(ctx, status, code, detail, Map.of());
  }

  static void write(Context ctx, int status, String code, String detail, Map<String, Object> extensions) {
    if (OAUTH_PATHS.contains(ctx.path())) {
      writeOAuth(ctx, status, code, detail);
      return;
    }
    Map<String, Object> problem = new LinkedHashMap<>();
    problem.put("type", "urn:sesame:problem:" + code);
    problem.put("title", HttpStatus.forStatus(status).getMessage());
    problem.put("status", status);
    problem.put("code", code);
    problem.put("detail", detail);
    extensions.forEach(problem::putIfAbsent);
    ctx.status(status).json(problem).contentType(PROBLEM_JSON);
  }

  /**
   * RFC 6749 §5.2: {@code invalid_client} is 401, the other request errors 400 with their registered codes; a
   * refresh token that is unknown, reused, expired or of an ended session is {@code invalid_grant}; a database
   * outage is {@code temporarily_unavailable} (503), a bug {@code server_error}. Too many requests stay 429.
   */
  private static void writeOAuth(Context ctx, int status, String code, String detail) {
    String error;
    int answer;
    switch (code) {
      case "invalid_client" -> {
        error = code;
        answer = 401;
      }
      case "invalid_token" -> { // a protected resource (UserInfo): RFC 6750 §3.1, the challenge says why too
        error = code;
        answer = 401;
        ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\", error_description=\""
            + detail.replace("\"", "'") + "\"");
      }
      case "invalid_request", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope",
           "unsupported_token_type", "invalid_client_metadata", "invalid_redirect_uri" -> { // last two: RFC 7591
        error = code;
        answer = 400;
      }
      case "invalid_refresh_token", "refresh_token_reused", "session_revoked", "session_expired" -> {
        error = "invalid_grant";
        answer = 400;
      }
      case "not_found", "method_not_allowed", "origin_not_allowed" -> { // not there (registration off), or CORS
        error = code;
        answer = status;
      }
      case "rate_limited" -> {
        error = code;
        answer = 429;
      }
      case "database_unavailable" -> {
        error = "temporarily_unavailable";
        answer = 503;
      }
      default -> {
        error = status >= 500 ? "server_error" : "invalid_request"; // malformed body, wrong media type, …
        answer = status >= 500 ? 500 : 400;
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", error);
    body.put("error_description", detail);
    ctx.header("Cache-Control", "no-store").header("Pragma", "no-cache");
    ctx.status(answer).json(body).contentType("application/json");
  }
}
