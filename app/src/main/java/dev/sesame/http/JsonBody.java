package dev.sesame.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sesame.common.ApiException;
import io.javalin.http.Context;
import java.util.Locale;
import java.util.Optional;

/** A request's JSON object body, read with clear 4xx answers for every way it can be wrong. */
public final class JsonBody {
  private final ObjectNode node;

  private JsonBody(ObjectNode node) {
    this.node = node;
  }

  /** Like {@link #of}, but an empty body counts as {@code {}} (for requests whose fields are all optional). */
  public static JsonBody ofOptional(Context ctx, ObjectMapper mapper) {
    if (ctx.bodyAsBytes().length == 0) {
      return new JsonBody(mapper.createObjectNode());
    }
    return of(ctx, mapper);
  }

  public static JsonBody of(Context ctx, ObjectMapper mapper) {
    String contentType = ctx.contentType();
    if (contentType != null && !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      throw new ApiException(415, "unsupported_media_type", "Send the body as application/json.");
    }
    byte[] body = ctx.bodyAsBytes(); // Javalin answers 413 beyond http.maxRequestSize
    if (body.length == 0) {
      throw ApiException.badRequest("invalid_json", "The request needs a JSON object body.");
    }
    JsonNode parsed;
    try {
      parsed = mapper.readTree(body);
    } catch (java.io.IOException e) {
      throw ApiException.badRequest("invalid_json", "The request body is not valid JSON.");
    }
    if (!(parsed instanceof ObjectNode object)) {
      throw ApiException.badRequest("invalid_json", "The request body must be a JSON object.");
    }
    return new JsonBody(object);
  }

  public String requiredString(String field) {
    return optionalString(field).orElseThrow(() ->
        ApiException.badRequest("invalid_request", "The field '" + field + "' is required."));
  }

  public Optional<String> optionalString(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isTextual()) {
      throw ApiException.badRequest("invalid_request", "The field '" + field + "' must be a string.");
    }
    String text = value.textValue();
    if (text.length() > 2048) {
      throw ApiException.badRequest("invalid_request", "The field '" + field + "' is too long.");
    }
    return Optional.of(text);
  }

  /** A nested JSON object, returned as JSON text (e.g. a WebAuthn credential for the WebAuthn parser). */
  public String requiredObjectJson(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw ApiException.badRequest("invalid_request", "The field '" + field + "' is required.");
    }
    if (!value.isObject()) {
      throw ApiException.badRequest("invalid_request", "The field '" + field + "' must be a JSON object.");
    }
    return value.toString();
  }

  public Optional<Boolean> optionalBoolean(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isBoolean()) {
      throw ApiException.badRequest("invalid_request", "The field '" + field + "' must be true or false.");
    }
    return Optional.of(value.booleanValue());
  }

  /** A field's JSON value as it is, or null when absent or null. */
  public JsonNode optionalNode(String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value;
  }

  public boolean has(String field) {
    JsonNode value = node.get(field);
    return value != null && !value.isNull();
  }
}
