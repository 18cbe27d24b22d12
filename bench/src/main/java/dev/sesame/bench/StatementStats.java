package dev.sesame.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What PostgreSQL's pg_stat_statements counted for one database since {@link #reset}: per statement its calls, time,
 * buffer blocks (hit in shared buffers, read from the OS, dirtied) and WAL (full-page images, bytes), and the WAL of
 * the whole server. {@code scale} prints the statements of the empty and the seeded run side by side: where the cost
 * per operation grows, this says which statement and why.
 */
record StatementStats(Map<String, Row> rows, long walBytes, long walFullPages) {
  record Row(String query, long calls, double totalMs, long hit, long read, long dirtied, long walFullPages,
             long walBytes) {
    Row plus(Row o) {
      return new Row(query, calls + o.calls, totalMs + o.totalMs, hit + o.hit, read + o.read, dirtied + o.dirtied,
          walFullPages + o.walFullPages, walBytes + o.walBytes);
    }

    double per(long value) {
      return calls == 0 ? 0 : (double) value / calls;
    }

    double meanMs() {
      return calls == 0 ? 0 : totalMs / calls;
    }
  }

  /** Installs the extension in the connection's database (the server must preload it). */
  static void install(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    }
  }

  static void reset(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("SELECT pg_stat_statements_reset()");
      s.execute("SELECT pg_stat_reset_shared('wal')");
    }
  }

  static StatementStats read(Connection c) throws SQLException {
    Map<String, Row> rows = new LinkedHashMap<>();
    try (Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("""
             SELECT queryid, query, calls, total_exec_time, shared_blks_hit, shared_blks_read, shared_blks_dirtied,
                    wal_fpi, wal_bytes
             FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND query NOT LIKE '%pg_stat_%'""")) {
      while (rs.next()) {
        // By text: one statement may have several entries (queryid differs with its parameters' types)
        Row row = new Row(rs.getString(2).replaceAll("\\s+", " ").strip(), rs.getLong(3), rs.getDouble(4),
            rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getLong(9));
        rows.merge(row.query(), row, Row::plus);
      }
    }
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT wal_bytes, wal_fpi FROM pg_stat_wal")) {
      rs.next();
      return new StatementStats(rows, rs.getLong(1), rs.getLong(2));
    }
  }

  /**
   * The {@code top} statements by the seeded run's total time, empty → seeded: mean time, blocks read from the OS,
   * blocks dirtied and WAL full-page images per call.
   */
  static String comparison(StatementStats empty, StatementStats seeded, int top) {
    List<Map.Entry<String, Row>> byTime = new ArrayList<>(seeded.rows().entrySet());
    byTime.sort(Comparator.comparingDouble((Map.Entry<String, Row> e) -> e.getValue().totalMs()).reversed());
    StringBuilder out = new StringBuilder("| statement | calls, empty / seeded | mean ms | blocks read / call"
        + " | blocks dirtied / call | WAL full pages / call |\n|---|---:|---:|---:|---:|---:|\n");
    for (Map.Entry<String, Row> e : byTime.subList(0, Math.min(top, byTime.size()))) {
      Row b = e.getValue();
      Row a = empty.rows().getOrDefault(e.getKey(), new Row(b.query(), 0, 0, 0, 0, 0, 0, 0));
      String query = b.query().length() > 90 ? b.query().substring(0, 87) + "…" : b.query();
      out.append(String.format(Locale.ROOT, "| `%s` | %,d / %,d | %.3f → %.3f | %.2f → %.2f | %.2f → %.2f"
              + " | %.2f → %.2f |%n", query.replace("|", "\\|"), a.calls(), b.calls(), a.meanMs(), b.meanMs(),
          a.per(a.read()), b.per(b.read()), a.per(a.dirtied()), b.per(b.dirtied()), a.per(a.walFullPages()),
          b.per(b.walFullPages())));
    }
    out.append(String.format(Locale.ROOT, "%nWAL of the whole server: %,.0f MB with %,d full-page images (empty) →"
            + " %,.0f MB with %,d full-page images (seeded)%n", empty.walBytes() / 1e6, empty.walFullPages(),
        seeded.walBytes() / 1e6, seeded.walFullPages()));
    return out.toString();
  }
}
