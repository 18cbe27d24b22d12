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
 * The one place errors become HTTP answers: RFC 9457 {@code application/problem+json} with
 * {@code type, title, status, code, detail}. Unexpected exceptions become a 500 that carries only a reference; the
 * stack trace goes to the log under the same reference.
 */
final class ErrorMapper {
  private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);
  static final String PROBLEM_JSON = "application/problem+json";
  /** Seconds a client is asked to wait when the database is unavailable: about two health probes. */
  static final int DATABASE_RETRY_AFTER = 2;

  private final Database database;

  ErrorMapper(Database database) {
    this.database = database;
  }

  void api(ApiException e, Context ctx) {
    e.headers().forEach(ctx::header);
    write(ctx, e.status(), e.code(), e.detail());
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
      database.connectionsLost();
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

  static void write(Context ctx, int status, String code, String detail) {
    Map<String, Object> problem = new LinkedHashMap<>();
    problem.put("type", "urn:sesame:problem:" + code);
    problem.put("title", HttpStatus.forStatus(status).getMessage());
    problem.put("status", status);
    problem.put("code", code);
    problem.put("detail", detail);
    ctx.status(status).json(problem).contentType(PROBLEM_JSON);
  }
}
