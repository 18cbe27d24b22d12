package dev.sesame.stats;

import dev.sesame.passkeys.Aaguids;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The admin dashboard's figures, from the audit log. Each finished day (UTC) is rolled up once into
 * {@code stats_daily} by {@link #rollUp} (the janitor runs it, on whichever node gets the lock); the current day is
 * counted live from its own events (the {@code occurred_at} index keeps that to one day's rows). So a dashboard of a
 * year reads a few thousand small rows, however many events the log holds.
 *
 * <p>New people are counted on the day their account was made: signed up, created by an operator, or imported
 * (an import counts on its day, whatever creation time the file carried).
 *
 * <p>A person is <em>active</em> on a day when they signed in that day (passkey or email); the monthly figure
 * counts people whose last sign-in is within 30 days. The passkey offer is counted on email sign-ins of people who had
 * no passkey (the sign-in page offers them one on a capable device); it is accepted when that session adds a passkey
 * the same day.
 */
public final class Stats {
  /** How long after midnight (UTC) a day is rolled up: a transaction still open across midnight commits by then. */
  static final java.time.Duration GRACE = java.time.Duration.ofMinutes(10);
  public static final int MAX_DAYS = 400;

  private final Jdbi jdbi;
  private final Aaguids aaguids;
  private final Clock clock;

  public Stats(Jdbi jdbi, Aaguids aaguids, Clock clock) {
    this.jdbi = jdbi;
    this.aaguids = aaguids;
    this.clock = clock;
  }

  /**
   * The figures of one stretch of time, straight from its events: {@code (metric, dimension, value)} rows. The same
   * statement rolls up a finished day and counts the current one. Every figure is one pass over the day's events,
   * never a join of them with themselves: today's events are newer than the table's statistics, so the planner
   * expects few, and a join it plans for few (a nested loop: each offer against every event of the day) took 40 s
   * for a day of 60,000 sign-ins.
   */
  private static final String FIGURES = """
      WITH ev AS (
        SELECT type, user_id, session_id, details FROM audit_events
        WHERE occurred_at >= :from AND occurred_at < :to
          AND type IN ('passkey.sign_in.succeeded', 'email.sign_in.succeeded', 'passkey.sign_in.failed',
                       'email.sign_in.failed', 'passkey.added', 'user.created', 'user.created_by_admin',
                       'users.imported'))
      SELECT 'sign_ins' AS metric,
             CASE WHEN type = 'passkey.sign_in.succeeded' THEN 'passkey'
                  ELSE 'email_' || coalesce(details->>'method', 'unknown') END AS dimension,
             count(*) AS value
      FROM ev WHERE type IN ('passkey.sign_in.succeeded', 'email.sign_in.succeeded') GROUP BY 2
      UNION ALL
      SELECT 'active_users', '', count(DISTINCT user_id)
      FROM ev WHERE type IN ('passkey.sign_in.succeeded', 'email.sign_in.succeeded')
      UNION ALL
      SELECT 'failures', split_part(type, '.', 1) || ':' || coalesce(details->>'reason', 'unknown'), count(*)
      FROM ev WHERE type IN ('passkey.sign_in.failed', 'email.sign_in.failed') GROUP BY 2
      UNION ALL
      SELECT 'passkey_offer', 'shown', count(*)
      FROM ev WHERE type = 'email.sign_in.succeeded' AND details->>'passkeyOffer' = 'true'
      UNION ALL
      SELECT 'passkey_offer', 'accepted', coalesce(sum(offers), 0)
      FROM (SELECT count(*) FILTER (WHERE type = 'email.sign_in.succeeded') AS offers FROM ev
            WHERE session_id IS NOT NULL
              AND (type = 'passkey.added' OR type = 'email.sign_in.succeeded' AND details->>'passkeyOffer' = 'true')
            GROUP BY session_id HAVING bool_or(type = 'passkey.added')) offered
      UNION ALL
      SELECT 'passkeys_added', coalesce(details->>'provider', 'Unknown'), count(*)
      FROM ev WHERE type = 'passkey.added' GROUP BY 2
      UNION ALL
      SELECT 'new_users', CASE WHEN type = 'user.created' THEN 'signed_up' ELSE 'created_by_admin' END, count(*)
      FROM ev WHERE type IN ('user.created', 'user.created_by_admin') GROUP BY 2
      UNION ALL
      SELECT 'new_users', 'imported', sum((details->>'accountsAdded')::bigint)
      FROM ev WHERE type = 'users.imported' HAVING count(*) > 0
      """;

  private record Figure(String metric, String dimension, long value) {}

  private static List<Figure> figures(Handle h, Instant from, Instant to) {
    return h.createQuery(FIGURES).bind("from", from).bind("to", to)
        .map((rs, ctx) -> new Figure(rs.getString("metric"), rs.getString("dimension"), rs.getLong("value")))
        .list();
  }

  /**
   * Rolls up every finished day not rolled up yet, one day per transaction; returns how many. Safe on every node at
   * once: the node holding the state row's lock works, the others return 0 at once.
   */
  public int rollUp() {
    int days = 0;
    while (days < MAX_DAYS * 2 && jdbi.inTransaction(this::rollUpNextDay)) {
      days++;
    }
    refreshTotals();
    return days;
  }

  /** How old stored totals may be before the dashboard counts them again itself. */
  static final java.time.Duration TOTALS_MAX_AGE = java.time.Duration.ofMinutes(15);

  /** Counts the totals now and stores them for the dashboard. */
  public Totals refreshTotals() {
    return jdbi.withHandle(this::refreshTotals);
  }

  /** {@link #refreshTotals()} on the caller's handle (the dashboard's own connection: never a second one). */
  private Totals refreshTotals(Handle h) {
    Totals totals = totals(h, clock.instant());
    h.createUpdate("""
            INSERT INTO stats_totals (id, computed_at, totals) VALUES (1, :at, CAST(:totals AS jsonb))
            ON CONFLICT (id) DO UPDATE SET computed_at = excluded.computed_at, totals = excluded.totals""")
        .bind("at", totals.asOf()).bind("totals", write(totals)).execute();
    return totals;
  }

  private Totals storedOrFresh(Handle h, boolean fresh) {
    if (!fresh) {
      Optional<String> stored = h.createQuery(
              "SELECT totals::text FROM stats_totals WHERE id = 1 AND computed_at > :since")
          .bind("since", clock.instant().minus(TOTALS_MAX_AGE)).mapTo(String.class).findOne();
      if (stored.isPresent()) {
        try {
          return TOTALS_JSON.readValue(stored.get(), Totals.class);
        } catch (java.io.IOException e) {
          // counted again below
        }
      }
    }
    return refreshTotals(h);
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper TOTALS_JSON =
      new com.fasterxml.jackson.databind.ObjectMapper().registerModule(
          new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
          .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  private static String write(Totals totals) {
    try {
      return TOTALS_JSON.writeValueAsString(totals);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private boolean rollUpNextDay(Handle h) {
    Optional<Optional<LocalDate>> state = h.createQuery(
            "SELECT closed_through FROM stats_state WHERE id = 1 FOR UPDATE SKIP LOCKED")
        .map((rs, ctx) -> Optional.ofNullable(rs.getObject("closed_through", LocalDate.class))).findOne();
    if (state.isEmpty()) {
      return false; // another node is at it
    }
    LocalDate lastFinished = LocalDate.ofInstant(clock.instant().minus(GRACE), ZoneOffset.UTC).minusDays(1);
    LocalDate next;
    if (state.get().isPresent()) {
      next = state.get().get().plusDays(1);
    } else {
      // First run: from the oldest event, at most MAX_DAYS back.
      Instant oldest = h.createQuery("SELECT min(occurred_at) FROM audit_events").mapTo(Instant.class).findOne()
          .orElse(null);
      next = oldest == null ? lastFinished.plusDays(1)
          : LocalDate.ofInstant(oldest, ZoneOffset.UTC).isBefore(lastFinished.minusDays(MAX_DAYS))
              ? lastFinished.minusDays(MAX_DAYS) : LocalDate.ofInstant(oldest, ZoneOffset.UTC);
    }
    if (next.isAfter(lastFinished)) {
      if (state.get().isEmpty()) {
        setClosedThrough(h, lastFinished);
      }
      return false;
    }
    Instant from = next.atStartOfDay(ZoneOffset.UTC).toInstant();
    org.jdbi.v3.core.statement.PreparedBatch batch = h.prepareBatch("""
        INSERT INTO stats_daily (day, metric, dimension, value) VALUES (:day, :metric, :dimension, :value)
        ON CONFLICT (day, metric, dimension) DO UPDATE SET value = excluded.value""");
    for (Figure f : figures(h, from, from.plus(1, ChronoUnit.DAYS))) {
      if (f.value() > 0) {
        batch.bind("day", next).bind("metric", f.metric()).bind("dimension", f.dimension()).bind("value", f.value())
            .add();
      }
    }
    if (batch.size() > 0) {
      batch.execute();
    }
    setClosedThrough(h, next);
    return true;
  }

  private static void setClosedThrough(Handle h, LocalDate day) {
    h.createUpdate("UPDATE stats_state SET closed_through = :day WHERE id = 1").bind("day", day).execute();
  }

  /** One day of the dashboard. */
  public record Day(LocalDate day, long newUsers, long activeUsers, Map<String, Long> signIns,
                    Map<String, Long> failures, long passkeyOfferShown, long passkeyOfferAccepted,
                    Map<String, Long> passkeysAdded) {}

  /** Where people stand, as counted at {@code asOf} (at most {@link #TOTALS_MAX_AGE} ago). */
  /** @param passkeysAutomatic passkeys made by the automatic upgrade after an email sign-in (conditional create) */
  public record Totals(Instant asOf, long users, long withPasskey, long emailOnly, long disabled, long monthlyActive,
                       long passkeys, long passkeysAutomatic, Map<String, Long> passkeysByProvider) {}

  /** The dashboard: totals now, and the last {@code days} days (today included, oldest first). */
  public record Dashboard(Instant asOf, Totals totals, List<Day> days, Map<String, Long> signIns,
                          Map<String, Long> failures, long passkeyOfferShown, long passkeyOfferAccepted) {}

  /**
   * The dashboard for the last {@code days} days: rolled-up days, today live, and the totals as the janitor last
   * counted them (every 10 minutes; counted here when older than 15). Days not rolled up yet (the janitor runs every
   * few minutes) are counted live as well.
   */
  public Dashboard dashboard(int days) {
    return dashboard(days, false);
  }

  /** @param freshTotals count the totals now rather than read the last count */
  public Dashboard dashboard(int days, boolean freshTotals) {
    Instant now = clock.instant();
    LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
    LocalDate first = today.minusDays(days - 1L);
    // Read committed is enough: days up to closed_through (read first) are final once closed (a roll-up writes a
    // day's rows and moves closed_through in one transaction), later days are counted live; and the totals' upsert
    // never fails on a concurrent refresh as it could under repeatable read.
    return jdbi.inTransaction(h -> {
      Map<LocalDate, List<Figure>> byDay = new TreeMap<>();
      LocalDate closedThrough = h.createQuery("SELECT closed_through FROM stats_state WHERE id = 1")
          .map((rs, ctx) -> rs.getObject("closed_through", LocalDate.class)).findOne().orElse(null);
      h.createQuery("""
              SELECT day, metric, dimension, value FROM stats_daily WHERE day >= :first AND day <= :closed
              """)
          .bind("first", first).bind("closed", closedThrough == null ? first.minusDays(1) : closedThrough)
          .map((rs, ctx) -> byDay.computeIfAbsent(rs.getObject("day", LocalDate.class), d -> new ArrayList<>())
              .add(new Figure(rs.getString("metric"), rs.getString("dimension"), rs.getLong("value"))))
          .list();
      LocalDate live = closedThrough == null || closedThrough.isBefore(first) ? first : closedThrough.plusDays(1);
      for (LocalDate d = live; !d.isAfter(today); d = d.plusDays(1)) {
        Instant from = d.atStartOfDay(ZoneOffset.UTC).toInstant();
        byDay.put(d, figures(h, from, from.plus(1, ChronoUnit.DAYS)));
      }
      List<Day> out = new ArrayList<>();
      for (LocalDate d = first; !d.isAfter(today); d = d.plusDays(1)) {
        out.add(day(d, byDay.getOrDefault(d, List.of())));
      }
      Map<String, Long> signIns = new TreeMap<>();
      Map<String, Long> failures = new TreeMap<>();
      long shown = 0;
      long accepted = 0;
      for (Day d : out) {
        d.signIns().forEach((k, v) -> signIns.merge(k, v, Long::sum));
        d.failures().forEach((k, v) -> failures.merge(k, v, Long::sum));
        shown += d.passkeyOfferShown();
        accepted += d.passkeyOfferAccepted();
      }
      return new Dashboard(now, storedOrFresh(h, freshTotals), out, signIns, failures, shown, accepted);
    });
  }

  private static Day day(LocalDate d, List<Figure> figures) {
    long newUsers = 0;
    Map<String, Long> signIns = new TreeMap<>();
    Map<String, Long> failures = new TreeMap<>();
    Map<String, Long> added = new TreeMap<>();
    long active = 0;
    long shown = 0;
    long accepted = 0;
    for (Figure f : figures) {
      switch (f.metric()) {
        case "sign_ins" -> signIns.put(f.dimension(), f.value());
        case "failures" -> failures.put(f.dimension(), f.value());
        case "passkeys_added" -> added.put(f.dimension(), f.value());
        case "active_users" -> active = f.value();
        case "new_users" -> newUsers += f.value();
        case "passkey_offer" -> {
          if (f.dimension().equals("shown")) {
            shown = f.value();
          } else {
            accepted = f.value();
          }
        }
        default -> { }
      }
    }
    return new Day(d, newUsers, active, signIns, failures, shown, accepted, added);
  }

  private Totals totals(Handle h, Instant now) {
    Map<String, Object> t = h.createQuery("""
            SELECT count(*) AS users,
                   count(*) FILTER (WHERE disabled_at IS NOT NULL) AS disabled,
                   count(*) FILTER (WHERE last_sign_in_at >= :monthAgo) AS monthly_active,
                   (SELECT count(DISTINCT user_id) FROM passkeys) AS with_passkey,
                   (SELECT count(*) FROM passkeys WHERE created_automatically) AS automatic
            FROM users
            """)
        .bind("monthAgo", now.minus(30, ChronoUnit.DAYS)).mapToMap().one();
    Map<String, Long> byProvider = new LinkedHashMap<>();
    long passkeys = 0;
    for (Map<String, Object> row : h.createQuery(
        "SELECT aaguid, count(*) AS n FROM passkeys GROUP BY aaguid ORDER BY n DESC").mapToMap().list()) {
      long n = ((Number) row.get("n")).longValue();
      passkeys += n;
      byProvider.merge(aaguids.name((UUID) row.get("aaguid")), n, Long::sum);
    }
    long users = ((Number) t.get("users")).longValue();
    long withPasskey = ((Number) t.get("with_passkey")).longValue();
    return new Totals(now, users, withPasskey, users - withPasskey, ((Number) t.get("disabled")).longValue(),
        ((Number) t.get("monthly_active")).longValue(), passkeys, ((Number) t.get("automatic")).longValue(),
        byProvider);
  }
}
