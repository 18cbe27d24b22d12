package dev.sesame.db;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;

/** Reading PostgreSQL values the same way everywhere. */
public final class Sql {
  private Sql() {}

  /** A {@code text[]} column as a list, or null. */
  public static List<String> strings(ResultSet rs, String column) throws SQLException {
    return strings(rs.getArray(column));
  }

  /**
   * A {@code text[]} value as Jdbi's {@code mapToMap} or a {@link ResultSet} hands it over ({@link Array} or
   * {@code String[]}), as a list; null stays null.
   */
  public static List<String> strings(Object value) {
    try {
      if (value == null) {
        return null;
      }
      return List.of(value instanceof String[] s ? s : (String[]) ((Array) value).getArray());
    } catch (SQLException e) {
      throw new IllegalStateException("not a text array", e);
    }
  }

  /** A {@code bytea[]} value as {@code mapToMap} hands it over; null (no rows aggregated) is an empty list. */
  public static List<byte[]> byteArrays(Object value) {
    try {
      if (value == null) {
        return List.of();
      }
      Object[] items = value instanceof Object[] a ? a : (Object[]) ((Array) value).getArray();
      List<byte[]> out = new java.util.ArrayList<>(items.length);
      for (Object item : items) {
        out.add((byte[]) item);
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException("not a bytea array", e);
    }
  }

  /** A {@code timestamptz} column as an {@link Instant}, or null. */
  public static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
    return value == null ? null : value.toInstant();
  }
}
