package dev.sesame.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * {@code stats [--users 1000000] [--events 10000000]}: the admin dashboard ({@code GET /admin/v1/stats}) on a
 * database of that size. It starts its own PostgreSQL, lets Sesame create the schema, fills it with people, passkeys
 * and a year of audit events (about 400 days, the default retention), then times the dashboard after the daily
 * roll-up, with the server's and PostgreSQL's CPU per request.
 */
final class StatsBench {
  private StatsBench() {}

  public static void main(String[] args) throws Exception {
    int users = 1_000_000;
    long events = 10_000_000;
    Path jar = Path.of("app/target/sesame.jar");
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--users" -> users = Integer.parseInt(args[i + 1]);
        case "--events" -> events = Long.parseLong(args[i + 1]);
        case "--jar" -> jar = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Path data = Files.createTempDirectory("sesame-stats-bench-");
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(true)
        .setServerConfig("shared_buffers", "512MB").setServerConfig("max_wal_size", "4GB").start()) {
      String url = pg.getJdbcUrl("postgres", "postgres");
      Map<String, String> settings = Map.of("SESAME_DATABASE_URL", url, "SESAME_DATABASE_USER", "postgres",
          "SESAME_DATABASE_PASSWORD", "");
      try (SesameProcess server = SesameProcess.start(jar, LoadBench.freePort(), "ES256", settings)) {
        long t0 = System.nanoTime();
        seed(url, users, events);
        System.out.printf("seeded %,d people and %,d events in %.0f s%n", users, events,
            (System.nanoTime() - t0) / 1e9);
        String key = server.cli("service-key", "create", "stats-bench", "--scopes", "stats:read").strip();
        List<String> rows = new ArrayList<>();
        rows.add("| request | requests | median | max | server CPU / request | PostgreSQL CPU / request |");
        rows.add("|---|---|---|---|---|---|");
        long r0 = System.nanoTime();
        server.cli("stats", "1");
        // The server's janitor rolled up part of it already (its first pass is 30 s after start).
        String rollUp = String.format("roll-up of the days left (CLI 'stats'): %.1f s",
            (System.nanoTime() - r0) / 1e9);
        rows.add(measure(server, key, 30, 20, "30 days, rolled up", pg));
        rows.add(measure(server, key, 400, 10, "400 days, rolled up", pg));
        // The users list at the same size: the first page, a page deep in (keyset cursor), a prefix search, and the
        // email-only filter.
        String usersKey = server.cli("service-key", "create", "users-bench", "--scopes", "users:read").strip();
        String middle = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
            (java.time.Instant.now().minus(java.time.Duration.ofDays(200)) + "|00000000-0000-0000-0000-000000000000")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        rows.add(time(server, usersKey, "/admin/v1/users?limit=50", "users: first page of 50"));
        rows.add(time(server, usersKey, "/admin/v1/users?limit=50&cursor=" + middle, "users: a page 500,000 in"));
        rows.add(time(server, usersKey, "/admin/v1/users?limit=50&email=user4242", "users: email prefix search"));
        rows.add(time(server, usersKey, "/admin/v1/users?limit=50&has_passkey=false&cursor=" + middle,
            "users: email only, deep in"));
        String table = String.join("\n", rows);
        System.out.println(table);
        System.out.println(rollUp);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "stats-results.md"), String.format(
            "%,d people, %,d audit events%n%n%s%n%n%s%n", users, events, table, rollUp));
      }
    }
  }

  /** People over 400 days, 60% with a passkey, and events of the kinds the dashboard counts (and others). */
  static void seed(String url, int users, long events) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement()) {
      s.execute("SET synchronous_commit = off");
      s.execute("""
          INSERT INTO users (id, email, email_verified, created_at, last_sign_in_at)
          SELECT md5('u' || i)::uuid, 'user' || i || '@example.com', true,
                 now() - random() * interval '400 days', now() - random() * interval '90 days'
          FROM generate_series(1, %d) i""".formatted(users));
      s.execute("""
          INSERT INTO passkeys (id, user_id, credential_id, public_key, algorithm, sign_count, aaguid,
                                backup_eligible, backup_state, uv_initialized, attestation_format, name)
          SELECT gen_random_uuid(), id, uuid_send(gen_random_uuid()), '\\x00'::bytea, -7, 0,
                 (ARRAY['fbfc3007-154e-4ecc-8c0b-6e020557d7bd', 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4',
                        '08987058-cadc-4b81-b6e1-30de50dcbe96', '00000000-0000-0000-0000-000000000000'])
                   [1 + abs(hashtext(id::text)) %% 4]::uuid,
                 true, true, true, 'none', 'Passkey'
          FROM users WHERE abs(hashtext(id::text)) %% 10 < 6""".formatted());
      long chunk = 1_000_000;
      for (long from = 1; from <= events; from += chunk) {
        long to = Math.min(events, from + chunk - 1);
        s.execute("""
            INSERT INTO audit_events (occurred_at, type, user_id, session_id, ip, details)
            SELECT now() - random() * interval '400 days',
                   CASE WHEN k < 9 THEN 'passkey.sign_in.succeeded' WHEN k < 14 THEN 'email.sign_in.succeeded'
                        WHEN k = 14 THEN 'passkey.sign_in.failed' WHEN k = 15 THEN 'email.sign_in.failed'
                        WHEN k = 16 THEN 'passkey.added' ELSE 'session.revoked' END,
                   md5('u' || (1 + (i * 7919) %% %d))::uuid, md5('s' || i)::uuid, '192.0.2.' || (i %% 250),
                   CASE WHEN k < 9 THEN jsonb_build_object('passkeyId', md5('p' || i))
                        WHEN k < 14 THEN jsonb_build_object('method',
                          (ARRAY['code', 'link', 'link_other_device'])[1 + i %% 3], 'passkeyOffer', i %% 2 = 0)
                        WHEN k < 16 THEN jsonb_build_object('reason',
                          (ARRAY['wrong_code', 'flow_expired', 'unknown_credential'])[1 + i %% 3])
                        WHEN k = 16 THEN jsonb_build_object('provider',
                          (ARRAY['iCloud Keychain', 'Google Password Manager', 'Windows Hello'])[1 + i %% 3])
                        ELSE jsonb_build_object('reason', 'logout') END
            FROM (SELECT i, i %% 20 AS k FROM generate_series(%d::bigint, %d::bigint) i) g""".formatted(users, from, to));
      }
      s.execute("VACUUM ANALYZE");
    }
  }

  private static String measure(SesameProcess server, String key, int days, int requests, String label,
                                EmbeddedPostgres pg) throws Exception {
    return time(server, key, "/admin/v1/stats?days=" + days, label, requests);
  }

  private static String time(SesameProcess server, String key, String path, String label) throws Exception {
    return time(server, key, path, label, 20);
  }

  private static String time(SesameProcess server, String key, String path, String label, int requests)
      throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest request = HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
        .header("Authorization", "Bearer " + key).build();
    List<Double> millis = new ArrayList<>();
    long serverBefore = server.usage().cpuTicks();
    long dbBefore = postgresTicks();
    for (int i = 0; i < requests; i++) {
      long t = System.nanoTime();
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      millis.add((System.nanoTime() - t) / 1e6);
      if (r.statusCode() != 200) {
        throw new IllegalStateException(path + ": " + r.statusCode() + " " + r.body());
      }
    }
    double serverMs = (server.usage().cpuTicks() - serverBefore) * 1000.0 / SesameProcess.TICKS_PER_SECOND
        / requests;
    double dbMs = (postgresTicks() - dbBefore) * 1000.0 / SesameProcess.TICKS_PER_SECOND / requests;
    Collections.sort(millis);
    return String.format("| %s | %d | %.0f ms | %.0f ms | %.0f ms | %.0f ms |", label, requests,
        millis.get(millis.size() / 2), millis.get(millis.size() - 1), serverMs, dbMs);
  }

  /** CPU of every PostgreSQL process on the machine (this bench's server is the only one it starts). */
  private static long postgresTicks() {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().command().map(cmd -> cmd.endsWith("/postgres")).orElse(false))
        .mapToLong(p -> SesameProcess.ticks(p.pid())).sum();
  }
}
