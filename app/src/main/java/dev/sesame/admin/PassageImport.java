package dev.sesame.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The CSV of users that Passage (by 1Password) gave its customers when it was retired, read into Sesame's import:
 * one header row, then one person per row. The columns follow Passage's user object: {@code id}, {@code email},
 * {@code email_verified}, {@code phone}, {@code phone_verified}, {@code status} ({@code active}, {@code inactive},
 * {@code pending}), {@code created_at}, {@code updated_at}, {@code last_login_at}, {@code login_count},
 * {@code user_metadata} (a JSON object), {@code webauthn}, {@code webauthn_types}, {@code external_id}…; only
 * {@code email} is required, and the order does not matter.
 *
 * <p>Every row becomes a verified account that signs in by email (Passage never exported passkeys' public keys, so
 * they cannot move) and is then offered a passkey. {@code status=inactive} becomes a disabled account;
 * {@code created_at} is kept. Public metadata: the {@code user_metadata} fields and {@code passage_id} (so an app
 * can find the rows it keyed by Passage's id). Every other column is kept, as text, in the private metadata's
 * {@code passage} object — nothing in the file is lost.
 */
final class PassageImport {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> MAPPED = Set.of("id", "email", "status", "created_at", "user_metadata",
      "email_verified");

  private PassageImport() {}

  /**
   * The CSV as a stream of entries, each with the line it came from ("line 12"), a row at a time; rows that are wrong
   * are reported as unreadable with their line.
   */
  static UserTransfer.EntrySource source(java.nio.file.Path file) {
    return visitor -> {
      CsvMapper csv = CsvMapper.builder().enable(CsvParser.Feature.TRIM_SPACES)
          .enable(CsvParser.Feature.FAIL_ON_MISSING_HEADER_COLUMNS).build();
      try (InputStream in = java.nio.file.Files.newInputStream(file);
           MappingIterator<Map<String, String>> rows = csv.readerForMapOf(String.class)
               .with(CsvSchema.emptySchema().withHeader().withStrictHeaders(false)).readValues(in)) {
        CsvSchema header = (CsvSchema) rows.getParserSchema();
        List<String> names = new ArrayList<>();
        header.forEach(c -> names.add(c.getName().toLowerCase(Locale.ROOT)));
        if (!names.contains("email")) {
          visitor.unreadable("line 1: the header has no 'email' column (found: " + String.join(", ", names) + ")");
          return;
        }
        if (names.size() != Set.copyOf(names).size()) {
          visitor.unreadable("line 1: a column name appears twice in the header");
          return;
        }
        while (true) {
          Map<String, String> row;
          long line;
          try {
            if (!rows.hasNextValue()) {
              break;
            }
            line = rows.getCurrentLocation().getLineNr(); // at the row's first value: the line the row starts on
            row = rows.nextValue();
          } catch (RuntimeException | IOException e) {
            long at = rows.getCurrentLocation() == null ? -1 : rows.getCurrentLocation().getLineNr();
            visitor.unreadable("line " + at + ": not a CSV row of the header's columns ("
                + e.getMessage().lines().findFirst().orElse("") + ")");
            break; // the rest of the file cannot be read reliably
          }
          Map<String, String> byName = new LinkedHashMap<>();
          row.forEach((k, v) -> byName.put(k.toLowerCase(Locale.ROOT), v));
          UserTransfer.Entry entry;
          try {
            entry = entry(byName);
          } catch (IllegalArgumentException e) {
            visitor.unreadable("line " + line + ": " + e.getMessage());
            continue;
          }
          visitor.entry(entry, "line " + line);
        }
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        visitor.unreadable("the file is not CSV: " + e.getOriginalMessage());
      }
    };
  }

  private static UserTransfer.Entry entry(Map<String, String> row) {
    String email = blankToNull(row.get("email"));
    if (email == null) {
      throw new IllegalArgumentException("email is empty");
    }
    String status = blankToNull(row.get("status"));
    boolean disabled = false;
    if (status != null) {
      switch (status.toLowerCase(Locale.ROOT)) {
        case "active", "pending" -> { }
        case "inactive" -> disabled = true;
        default -> throw new IllegalArgumentException("status must be active, inactive or pending, not '" + status
            + "'");
      }
    }
    Instant createdAt = null;
    String created = blankToNull(row.get("created_at"));
    if (created != null) {
      try {
        createdAt = OffsetDateTime.parse(created).toInstant();
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("created_at must be an RFC 3339 time such as 2024-05-01T09:30:00Z, not '"
            + created + "'");
      }
    }
    ObjectNode publicMetadata = JSON.createObjectNode();
    String userMetadata = blankToNull(row.get("user_metadata"));
    if (userMetadata != null) {
      JsonNode parsed;
      try {
        parsed = JSON.readTree(userMetadata);
      } catch (IOException e) {
        throw new IllegalArgumentException("user_metadata is not JSON");
      }
      if (!parsed.isObject()) {
        throw new IllegalArgumentException("user_metadata must be a JSON object");
      }
      publicMetadata.setAll((ObjectNode) parsed);
    }
    String id = blankToNull(row.get("id"));
    if (id != null) {
      publicMetadata.put("passage_id", id);
    }
    ObjectNode passage = JSON.createObjectNode();
    row.forEach((name, value) -> {
      if (!MAPPED.contains(name) && blankToNull(value) != null) {
        passage.put(name, value);
      }
    });
    ObjectNode privateMetadata = JSON.createObjectNode();
    if (!passage.isEmpty()) {
      privateMetadata.set("passage", passage);
    }
    return new UserTransfer.Entry(null, email, true, createdAt, disabled, null, publicMetadata, privateMetadata,
        List.of());
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
