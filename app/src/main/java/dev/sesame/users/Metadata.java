package dev.sesame.users;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.common.ApiException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A person's metadata: a JSON object an operator (or an import) sets, public (apps see it as the {@code metadata}
 * claim with the {@code metadata} scope) or private (the admin API only), each at most
 * {@link Users#MAX_METADATA_BYTES}.
 */
public final class Metadata {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Metadata() {}

  /** The JSON text to store for {@code value}: 400 {@code invalid_metadata} unless it is a small JSON object. */
  public static String validate(String field, JsonNode value) {
    if (value == null || !value.isObject()) {
      throw ApiException.badRequest("invalid_metadata", field + " must be a JSON object.");
    }
    String text;
    try {
      text = JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest("invalid_metadata", field + " must be a JSON object.");
    }
    int size = text.getBytes(StandardCharsets.UTF_8).length;
    if (size > Users.MAX_METADATA_BYTES) {
      throw ApiException.badRequest("metadata_too_large", field + " is " + size + " bytes of JSON; at most "
          + Users.MAX_METADATA_BYTES + " are kept.");
    }
    if (text.indexOf("\\u0000") >= 0) {
      throw ApiException.badRequest("invalid_metadata", field + " may not contain NUL characters.");
    }
    return text;
  }

  /** Stored metadata as a map (for a token claim). */
  public static Map<String, Object> parse(String json) {
    try {
      return JSON.readValue(json, new TypeReference<>() {});
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored metadata is not JSON", e);
    }
  }
}
