package dev.sesame.http;

import dev.sesame.db.Database;
import io.javalin.http.Context;
import io.javalin.http.Handler;

/**
 * Runs a handler again, once, when its database work failed in a way that proves the statement never ran (a
 * connection the server had already ended, or none to be had): after the database dropped every connection, the
 * next requests succeed on fresh ones instead of failing one per dead connection. Anything else, and a second
 * failure, goes to the error mapper (503 when the database is unavailable).
 */
public final class Retry {
  private final Database database;

  public Retry(Database database) {
    this.database = database;
  }

  public Handler once(Handler handler) {
    return ctx -> {
      try {
        handler.handle(ctx);
      } catch (Exception e) {
        if (!Database.neverRan(e)) {
          throw e;
        }
        database.connectionsLost(); // the pool's other idle connections are probably dead too
        if (!database.answersNow()) {
          throw e; // the database itself is gone (killed, restarting): 503 now, not after waiting for the pool
        }
        reset(ctx);
        handler.handle(ctx);
      }
    };
  }

  /** Whatever the first attempt put on the response goes (nothing was committed: nothing ran). */
  private static void reset(Context ctx) {
    ctx.status(200);
    ctx.res().resetBuffer();
  }
}
