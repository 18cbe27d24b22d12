package dev.sesame.bench;

import dev.sesame.support.Seed;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code scale}: does the cost per operation grow with the data? Runs the load scenarios on an empty database, fills
 * it with a million people, a million passkeys, two million sessions and ten million audit events
 * ({@link Seed}), runs them again on the same server, and prints both side by side with the growth, plus the admin
 * API's users list and dashboard at both sizes.
 */
final class ScaleBench {
  private ScaleBench() {}

  record Timing(String label, double medianMs, double maxMs, double serverMs, double databaseMs) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> options = LoadBench.options(args);
    Seed.Size size = new Seed.Size(Integer.parseInt(options.getOrDefault("people", "1000000")),
        Integer.parseInt(options.getOrDefault("sessions-per-person", "2")),
        Long.parseLong(options.getOrDefault("events", "10000000")));
    int users = Integer.parseInt(options.getOrDefault("users", "64"));
    Duration seconds = Duration.ofSeconds(Long.parseLong(options.getOrDefault("seconds", "20")));
    Duration warmUp = Duration.ofSeconds(Long.parseLong(options.getOrDefault("warmup", "20")));
    List<String> scenarios = List.of(options.getOrDefault("scenarios", "passkey,refresh,email,oidc").split(","));
    Path jar = Path.of(options.getOrDefault("jar", "app/target/sesame.jar"));
    LoadBench.conscryptFirst();

    try (SmtpSink smtp = new SmtpSink(); BenchDatabase db = BenchDatabase.start(true)) {
      Map<String, String> settings = db.sesameSettings("sesame");
      try (SesameProcess server = SesameProcess.start(jar, smtp.port(), "ES256", settings);
           Connection c = DriverManager.getConnection(settings.get("SESAME_DATABASE_URL"),
               settings.get("SESAME_DATABASE_USER"), settings.get("SESAME_DATABASE_PASSWORD"))) {
        LoadBench bench = new LoadBench(server);
        List<LoadBench.User> population = bench.createUsers(users, smtp);
        String key = server.cli("service-key", "create", "scale-bench", "--scopes", "stats:read,users:read")
            .strip();
        StatementStats.install(c);
        System.err.println("empty database: running " + scenarios);
        StatementStats.reset(c);
        List<LoadBench.Result> empty = bench.runAll(scenarios, population, warmUp, seconds, "ES256");
        StatementStats emptyStatements = StatementStats.read(c);
        List<Timing> emptyAdmin = admin(server, key);

        long t0 = System.nanoTime();
        Seed.seed(c, size);
        double seedSeconds = (System.nanoTime() - t0) / 1e9;
        long r0 = System.nanoTime();
        // The janitor's pass: the dashboard's roll-up of the 400 seeded days, and the clean-up of what the seed
        // made that a running server would have deleted long ago (expired refresh tokens). Then the database
        // settles as a running one has: vacuumed, analysed, the bulk load's pages written out, autovacuum done.
        String cleanUp = server.cli("clean-up").strip();
        double cleanUpSeconds = (System.nanoTime() - r0) / 1e9;
        long s0 = System.nanoTime();
        settle(c);
        double settleSeconds = (System.nanoTime() - s0) / 1e9;
        System.err.printf("seeded in %.0f s, cleaned up in %.0f s (%s), settled in %.0f s; running %s again%n",
            seedSeconds, cleanUpSeconds, cleanUp, settleSeconds, scenarios);
        StatementStats.reset(c);
        List<LoadBench.Result> seeded = bench.runAll(scenarios, population, warmUp, seconds, "ES256");
        StatementStats seededStatements = StatementStats.read(c);
        List<Timing> seededAdmin = admin(server, key);
        long today;
        try (java.sql.Statement s = c.createStatement(); var rs = s.executeQuery(
            "SELECT count(*) FROM audit_events WHERE occurred_at >= date_trunc('day', now() AT TIME ZONE 'UTC')"
                + " AT TIME ZONE 'UTC'")) {
          rs.next();
          today = rs.getLong(1);
        }

        String report = LoadBench.header(users, seconds, warmUp)
            + String.format(Locale.ROOT, "Seeded: %,d people, about %,d passkeys, %,d sessions with a refresh token"
                + " each, %,d audit events over 400 days, in %.0f s; the janitor's pass (the dashboard's roll-up"
                + " and the clean-up: %s) %.0f s; VACUUM ANALYZE, CHECKPOINT and autovacuum done %.0f s%n%n",
                size.users(), size.users(), (long) size.users() * size.sessionsPerUser(), size.events(),
                seedSeconds, cleanUp, cleanUpSeconds, settleSeconds)
            + comparison(empty, seeded) + "\n" + adminComparison(emptyAdmin, seededAdmin)
            + String.format(Locale.ROOT, "%nThe dashboard counts today live, from today's audit events: %,d of them"
                + " when it was timed on the seeded database (mostly the bench's own sign-ins).%n", today)
            + "\nThe statements that took PostgreSQL's time in the seeded run (pg_stat_statements, warm-up"
            + " included), empty → seeded:\n\n" + StatementStats.comparison(emptyStatements, seededStatements, 15)
            + "\nEmpty database:\n\n" + LoadBench.table(empty) + "\nSeeded database:\n\n"
            + LoadBench.table(seeded);
        System.out.print(report);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "scale-results.md"), report);
      }
    }
  }

  /**
   * VACUUM ANALYZE and CHECKPOINT, then waits (up to 10 minutes) until no autovacuum worker runs and PostgreSQL's
   * background processes have been quiet for 5 s.
   */
  static void settle(Connection c) throws Exception {
    try (java.sql.Statement s = c.createStatement()) {
      s.execute("VACUUM ANALYZE");
      s.execute("CHECKPOINT");
      long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
      int quiet = 0;
      BenchDatabase.Ticks before = BenchDatabase.ticks();
      while (quiet < 5 && System.nanoTime() < deadline) {
        Thread.sleep(1000);
        BenchDatabase.Ticks now = BenchDatabase.ticks();
        boolean vacuuming;
        try (var rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")) {
          rs.next();
          vacuuming = rs.getInt(1) > 0;
        }
        quiet = !vacuuming && now.minus(before).background() < SesameProcess.TICKS_PER_SECOND / 20 ? quiet + 1 : 0;
        before = now;
      }
    }
  }

  static String comparison(List<LoadBench.Result> empty, List<LoadBench.Result> seeded) {
    StringBuilder out = new StringBuilder("| scenario | server CPU ms/op, empty → seeded | PostgreSQL CPU ms/op,"
        + " empty → seeded | of which connections | growth (server + PostgreSQL) | per second, empty → seeded |\n"
        + "|---|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < empty.size(); i++) {
      LoadBench.Result a = empty.get(i);
      LoadBench.Result b = seeded.get(i);
      if (a.operations() == 0 || b.operations() == 0) {
        out.append(String.format(Locale.ROOT, "| %s | failed: %d errors empty, %d seeded (see above) | | | | |%n",
            a.scenario(), a.errors(), b.errors()));
        continue;
      }
      double before = a.serverMs() + a.databaseMs();
      double after = b.serverMs() + b.databaseMs();
      out.append(String.format(Locale.ROOT, "| %s | %.2f → %.2f | %.2f → %.2f | %.2f → %.2f | %+.0f %% |"
          + " %,.0f → %,.0f |%n", a.scenario(), a.serverMs(), b.serverMs(), a.databaseMs(), b.databaseMs(),
          a.databaseMs() - a.databaseBackgroundMs(), b.databaseMs() - b.databaseBackgroundMs(),
          (after / before - 1) * 100,
          a.perSecond(), b.perSecond()));
    }
    return out.toString();
  }

  static String adminComparison(List<Timing> empty, List<Timing> seeded) {
    StringBuilder out = new StringBuilder("| admin request | median, empty → seeded | max (seeded) | server CPU"
        + " (seeded) | PostgreSQL CPU (seeded) |\n|---|---:|---:|---:|---:|\n");
    for (int i = 0; i < empty.size(); i++) {
      Timing a = empty.get(i);
      Timing b = seeded.get(i);
      out.append(String.format(Locale.ROOT, "| %s | %.0f → %.0f ms | %.0f ms | %.0f ms | %.0f ms |%n", a.label(),
          a.medianMs(), b.medianMs(), b.maxMs(), b.serverMs(), b.databaseMs()));
    }
    return out.toString();
  }

  /** The admin API's heavier reads: dashboards and the users list (first page, deep page, search, filter). */
  static List<Timing> admin(SesameProcess server, String key) throws Exception {
    String middle = Base64.getUrlEncoder().withoutPadding().encodeToString(
        (Instant.now().minus(Duration.ofDays(200)) + "|00000000-0000-0000-0000-000000000000")
            .getBytes(StandardCharsets.UTF_8));
    List<Timing> out = new ArrayList<>();
    out.add(time(server, key, "/admin/v1/stats?days=30", "dashboard, 30 days", 10));
    out.add(time(server, key, "/admin/v1/stats?days=400", "dashboard, 400 days", 10));
    out.add(time(server, key, "/admin/v1/users?limit=50", "users: first page of 50", 20));
    out.add(time(server, key, "/admin/v1/users?limit=50&cursor=" + middle, "users: a page half-way in", 20));
    out.add(time(server, key, "/admin/v1/users?limit=50&email=user4242", "users: email prefix search", 20));
    out.add(time(server, key, "/admin/v1/users?limit=50&has_passkey=false&cursor=" + middle,
        "users: email only, half-way in", 20));
    return out;
  }

  private static Timing time(SesameProcess server, String key, String path, String label, int requests)
      throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest request = HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
        .header("Authorization", "Bearer " + key).build();
    List<Double> millis = new ArrayList<>();
    SesameProcess.Usage before = server.usage();
    for (int i = 0; i < requests; i++) {
      long t = System.nanoTime();
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      millis.add((System.nanoTime() - t) / 1e6);
      if (r.statusCode() != 200) {
        throw new IllegalStateException(path + ": " + r.statusCode() + " " + r.body());
      }
    }
    SesameProcess.Usage after = server.usage();
    double perTick = 1000.0 / SesameProcess.TICKS_PER_SECOND / requests;
    Collections.sort(millis);
    return new Timing(label, millis.get(millis.size() / 2), millis.get(millis.size() - 1),
        (after.cpuTicks() - before.cpuTicks()) * perTick, after.database().minus(before.database()).total() * perTick);
  }
}
