package dev.sesame.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Requests Jetty refuses before they reach Javalin (an unparsable URI, headers over 8 KB) get the same
 * {@code application/problem+json} shape as every other error, never Jetty's HTML page or a stack.
 */
final class JettyErrors extends ErrorHandler {
  @Override
  protected void generateResponse(Request request, Response response, int status, String message, Throwable cause,
                                  Callback callback) {
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, ErrorMapper.PROBLEM_JSON);
    response.write(true, ByteBuffer.wrap(body(status)), callback);
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put(HttpHeader.CONTENT_TYPE, ErrorMapper.PROBLEM_JSON);
    return ByteBuffer.wrap(body(status));
  }

  /** Answers {@code status} with the problem body, from a handler in front of Javalin. */
  static void answer(Response response, Callback callback, int status) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, ErrorMapper.PROBLEM_JSON);
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.write(true, ByteBuffer.wrap(body(status)), callback);
  }

  private static byte[] body(int status) {
    String code = switch (status) {
      case 431 -> "headers_too_large";
      case 413 -> "payload_too_large";
      case 414 -> "uri_too_long";
      case 408 -> "request_timeout";
      case 501 -> "method_not_implemented";
      case 404 -> "not_found";
      default -> status >= 500 ? "internal_error" : "bad_request";
    };
    String title = HttpStatus.getMessage(status);
    return ("{\"type\":\"urn:sesame:problem:" + code + "\",\"title\":\"" + title + "\",\"status\":" + status
        + ",\"code\":\"" + code + "\",\"detail\":\"The request could not be read: " + title + ".\"}")
        .getBytes(StandardCharsets.UTF_8);
  }
}
