package dev.sesame.ratelimit;

import dev.sesame.common.ApiException;
import dev.sesame.config.RateLimit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * Rate limits in PostgreSQL, shared by every node: the generic cell rate algorithm (GCRA). A limit of {@code max} per
 * {@code window} lets a burst of {@code max} through, then one hit every {@code window / max}: it never lets more
 * than {@code max} through in a burst, and never more than {@code max} per window on average, wherever windows
 * start (fixed windows let {@code 2 × max} through across a boundary). Each bucket is one row holding its theoretical
 * arrival time; all buckets of one request are checked in one round trip. A refused hit does not count against the
 * bucket that refused it, so someone flooding a victim's address does not push the victim's wait further out.
 */
public final class RateLimiter {
  private final Jdbi jdbi;
  private final java.util.function.Consumer<String> refused;

  public RateLimiter(Jdbi jdbi) {
    this(jdbi, limit -> { });
  }

  /** @param refused told which limit refused a hit (e.g. {@code email-start:ip}), for the metrics */
  public RateLimiter(Jdbi jdbi, java.util.function.Consumer<String> refused) {
    this.refused = refused;
    this.jdbi = jdbi;
  }

  /** One bucket to hit: {@code bucket} names what is limited (never a raw email: hash it). */
  public record Hit(String bucket, RateLimit limit) {}

  /** Counts a hit on every bucket; throws 429 {@code rate_limited} with {@code Retry-After} if any refuses it. */
  public void hit(Hit... hits) {
    long retryAfter = check(hits);
    if (retryAfter > 0) {
      throw limited(retryAfter);
    }
  }

  /** The 429 answer for a wait of {@code retryAfter} seconds. */
  public static ApiException limited(long retryAfter) {
    return new ApiException(429, "rate_limited", "Too many requests. Try again in " + retryAfter + " seconds.",
        Map.of("Retry-After", Long.toString(retryAfter)));
  }

  /**
   * Counts a hit on every bucket that allows it; returns 0 when all allowed it, else the seconds until the most
   * restrictive refusing bucket would allow one.
   */
  public long check(Hit... hits) {
    return jdbi.withHandle(h -> check(h, hits));
  }

  /** {@link #check(Hit...)} on the caller's handle: inside its transaction, no second connection while it holds one. */
  public long check(org.jdbi.v3.core.Handle handle, Hit... hits) {
    // A bucket allows the hit when its arrival time, moved on by one emission interval, is within a window from
    // now; only then is the row updated (INSERT … ON CONFLICT is atomic under concurrency).
    PreparedBatch batch = handle.prepareBatch("""
        INSERT INTO rate_limits AS r (bucket, tat)
        VALUES (:bucket, now() + make_interval(secs => :emission))
        ON CONFLICT (bucket) DO UPDATE SET tat = greatest(r.tat, now()) + make_interval(secs => :emission)
        WHERE greatest(r.tat, now()) + make_interval(secs => :emission) <= now() + make_interval(secs => :window)
        RETURNING bucket
        """);
    for (Hit hit : hits) {
      batch.bind("bucket", hit.bucket()).bind("emission", emission(hit.limit()))
          .bind("window", (double) hit.limit().window().toMillis() / 1000).add();
    }
    Set<String> allowed = new HashSet<>();
    batch.executePreparedBatch("bucket").mapTo(String.class).forEach(allowed::add);
    if (allowed.size() == hits.length) {
      return 0;
    }
    // Refused (rare): a second read says how long until the refusing buckets allow a hit again.
    long retryAfter = 1;
    for (Hit hit : hits) {
      if (!allowed.contains(hit.bucket())) {
        refused.accept(limitName(hit.bucket()));
        retryAfter = Math.max(retryAfter, secondsUntilAllowed(handle, hit.bucket(), hit.limit()));
      }
    }
    return retryAfter;
  }

  /**
   * The GCRA step of {@link #check} as a data-modifying CTE named {@code name}, for a hot statement that takes its
   * rate limit in the same round trip: it hits the bucket {@code bucketSql} (an SQL expression over {@code source},
   * or a bound parameter) for each row of {@code source}, and returns the bucket when the hit was allowed. The rest of
   * the statement goes ahead only {@code WHERE EXISTS (SELECT 1 FROM name)}. This is the only SQL of the
   * {@code rate_limits} table outside this class: a fragment it owns, placed into another feature's statement.
   * Bind its parameters with {@link #bindCte}.
   */
  public static String cte(String name, String bucketSql, String source) {
    return """
        %1$s AS (
          INSERT INTO rate_limits AS r (bucket, tat)
          SELECT %2$s, now() + make_interval(secs => :%1$sEmission) FROM %3$s
          ON CONFLICT (bucket) DO UPDATE SET tat = greatest(r.tat, now()) + make_interval(secs => :%1$sEmission)
          WHERE greatest(r.tat, now()) + make_interval(secs => :%1$sEmission)
                <= now() + make_interval(secs => :%1$sWindow)
          RETURNING bucket)""".formatted(name, bucketSql, source);
  }

  /** Binds the parameters of {@link #cte} named {@code name} for {@code limit}. */
  public static <S extends org.jdbi.v3.core.statement.SqlStatement<S>> S bindCte(S statement, String name,
                                                                                RateLimit limit) {
    return statement.bind(name + "Emission", emission(limit))
        .bind(name + "Window", (double) limit.window().toMillis() / 1000);
  }

  /**
   * The 429 for a hit a {@link #cte} refused (the rare path: one more read for how long to wait), counted in the
   * metrics like every refusal.
   */
  public ApiException refusedInStatement(String bucket, RateLimit limit) {
    refused.accept(limitName(bucket));
    long seconds = jdbi.withHandle(h -> secondsUntilAllowed(h, bucket, limit));
    return limited(Math.max(1, seconds));
  }

  /** Whole seconds until {@code bucket} allows a hit again under {@code limit} (read, not counted). */
  private static long secondsUntilAllowed(org.jdbi.v3.core.Handle handle, String bucket, RateLimit limit) {
    double seconds = handle.createQuery("""
            SELECT extract(epoch FROM tat + make_interval(secs => :emission) - now()) - :window
            FROM rate_limits WHERE bucket = :bucket
            """)
        .bind("bucket", bucket).bind("emission", emission(limit))
        .bind("window", (double) limit.window().toMillis() / 1000)
        .mapTo(Double.class).findOne().orElse(1.0);
    return (long) Math.ceil(seconds);
  }

  /** A bucket's limit without whose it is: "email-start:ip:203.0.113.9" → "email-start:ip". */
  static String limitName(String bucket) {
    for (String kind : new String[] {":ip:", ":email:", ":session:", ":user:"}) {
      int at = bucket.indexOf(kind);
      if (at >= 0) {
        return bucket.substring(0, at + kind.length() - 1);
      }
    }
    int colon = bucket.indexOf(':');
    return colon < 0 ? bucket : bucket.substring(0, colon);
  }

  /** The emission interval: the steady spacing of hits, {@code window / max}, in seconds. */
  private static double emission(RateLimit limit) {
    return (double) limit.window().toMillis() / 1000 / limit.max();
  }
}
