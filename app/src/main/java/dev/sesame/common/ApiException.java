package dev.sesame.common;

import java.util.Map;

/**
 * The one error type of Sesame. Features throw it; {@code http.ErrorMapper} turns it into an RFC 9457
 * {@code application/problem+json} answer. {@code code} is a stable, machine-readable identifier clients switch on;
 * {@code detail} is for people and must never carry a secret.
 */
public final class ApiException extends RuntimeException {
  private final int status;
  private final String code;
  private final Map<String, String> headers;
  private Map<String, Object> extensions = Map.of();

  public ApiException(int status, String code, String detail) {
    this(status, code, detail, Map.of());
  }

  public ApiException(int status, String code, String detail, Map<String, String> headers) {
    super(detail, null, false, false); // no stack trace: these are expected outcomes, not bugs
    this.status = status;
    this.code = code;
    this.headers = Map.copyOf(headers);
  }

  public static ApiException badRequest(String code, String detail) {
    return new ApiException(400, code, detail);
  }

  public static ApiException unauthorized(String code, String detail) {
    return new ApiException(401, code, detail);
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public String detail() {
    return getMessage();
  }

  public Map<String, String> headers() {
    return headers;
  }

  /** RFC 9457 §3.2 extension members of the problem (e.g. an import's line-numbered {@code errors}). */
  public ApiException with(Map<String, Object> members) {
    this.extensions = Map.copyOf(members);
    return this;
  }

  public Map<String, Object> extensions() {
    return extensions;
  }
}
