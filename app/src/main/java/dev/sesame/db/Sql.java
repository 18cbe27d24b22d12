package dev.sesame.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;

/** Reading PostgreSQL values the same way everywhere. */
public final class Sql {
  private Sql() {}

  /** A {@code timestamptz} column as an {@link Instant}, or null. */
  public static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
    return value == null ? null : value.toInstant();
  }
}
