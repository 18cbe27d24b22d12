package dev.sesame.http;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.EagerContentHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * What Jetty answers before Javalin sees a request, so that no client can tie up the server by the way it sends one:
 *
 * <ul>
 *   <li>A method Sesame does not serve is 501 at once (RFC 9110 §9.1). Every method name that reached Javalin became
 *       an entry in its method table and a new metrics series: the audit filled a 64 MB heap with 20,000 invented
 *       methods.</li>
 *   <li>A request body is read without a request thread ({@link EagerContentHandler}): the handler runs once the
 *       whole body is here, so a client trickling one byte every few seconds holds a connection, not one of the few
 *       threads that serve sign-ins and {@code /health} (slowloris; the audit stalled {@code /health} for 70 s with
 *       40 such connections).</li>
 *   <li>A body that has not arrived in full within {@code bodyTimeout} is answered 408 and the connection closed.</li>
 * </ul>
 * The bulk import ({@code /admin/v1/users/import}, up to its own larger limit) streams its body to the handler as before;
 * it is authenticated before a byte of it is read.
 */
final class RequestGuard extends Handler.Wrapper {
  static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
  private static final String STATE = RequestGuard.class.getName() + ".state";

  private final Duration bodyTimeout;

  /**
   * @param next the application (Javalin)
   * @param maxBodyBytes the largest body read ahead; larger ones are 413 unless on an import path
   */
  RequestGuard(Handler next, long maxBodyBytes, Duration bodyTimeout) {
    this.bodyTimeout = bodyTimeout;
    // The request reaches the application only through the guard below, which lets a timed-out one go no further.
    Handler stopIfTimedOut = new Handler.Wrapper(next) {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (request.getAttribute(STATE) instanceof AtomicInteger state && !state.compareAndSet(0, 1)
            && state.get() == 2) {
          // Already answered 408: complete this callback only to release the body read so far (the request's own
          // callback ignores a second completion, see Once).
          callback.failed(new TimeoutException("request body timed out"));
          return true;
        }
        // From here the handler owns the answer: the body arrived (or the loader passed it on), and the timer will
        // not answer 408 any more.
        return super.handle(request, response, callback);
      }
    };
    // Every body up to the limit (plus framing) is read asynchronously and retained as it came, then replayed to
    // Javalin; forms too (Jetty's own form loader would parse them where Javalin's servlet layer cannot see them).
    EagerContentHandler eager = new EagerContentHandler(stopIfTimedOut,
        new EagerContentHandler.RetainedContentLoaderFactory(maxBodyBytes + 16 * 1024, -1, true));
    eager.excludePath("/admin/v1/users/import");
    setHandler(eager);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    if (!METHODS.contains(request.getMethod())) {
      response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
      JettyErrors.answer(response, callback, HttpStatus.NOT_IMPLEMENTED_501);
      return true;
    }
    if (!hasBody(request) || Request.getPathInContext(request).equals("/admin/v1/users/import")) {
      return super.handle(request, response, callback);
    }
    // 0: the body is on its way; 1: it arrived in full (or failed); 2: the deadline passed and 408 was answered.
    AtomicInteger state = new AtomicInteger();
    request.setAttribute(STATE, state);
    Deadline deadline = new Deadline(request, state);
    Once done = new Once(callback);
    Scheduler.Task timer = request.getComponents().getScheduler().schedule(() -> {
      if (state.compareAndSet(0, 2)) {
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        JettyErrors.answer(response, done, HttpStatus.REQUEST_TIMEOUT_408);
      }
    }, bodyTimeout.toMillis(), TimeUnit.MILLISECONDS);
    done.timer = timer;
    return super.handle(deadline, response, done);
  }

  /**
   * The request's callback, completed once: the 408, the body loader (a 413, or the end of the request) and the
   * handler may each try; the first one counts, and ends the timer.
   */
  private static final class Once extends Callback.Nested {
    private final java.util.concurrent.atomic.AtomicBoolean completed = new java.util.concurrent.atomic.AtomicBoolean();
    volatile Scheduler.Task timer;

    Once(Callback callback) {
      super(callback);
    }

    @Override
    public void succeeded() {
      if (completed.compareAndSet(false, true)) {
        cancelTimer();
        super.succeeded();
      }
    }

    @Override
    public void failed(Throwable x) {
      if (completed.compareAndSet(false, true)) {
        cancelTimer();
        super.failed(x);
      }
    }

    private void cancelTimer() {
      Scheduler.Task t = timer;
      if (t != null) {
        t.cancel();
      }
    }
  }

  /** Content-Length as a number (so "00" is no body), else chunked. */
  private static boolean hasBody(Request request) {
    long length = request.getLength();
    return length > 0 || length < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
  }

  /** Marks the body arrived when its last chunk is read; after the deadline, reads end in failure. */
  private static final class Deadline extends Request.Wrapper {
    private final AtomicInteger state;

    Deadline(Request wrapped, AtomicInteger state) {
      super(wrapped);
      this.state = state;
    }

    @Override
    public Content.Chunk read() {
      if (state.get() == 2) {
        return Content.Chunk.from(new TimeoutException("request body timed out"), true);
      }
      Content.Chunk chunk = super.read();
      if (chunk != null && (chunk.isLast() || Content.Chunk.isFailure(chunk))) {
        state.compareAndSet(0, 1);
      }
      return chunk;
    }
  }
}
