package dev.sesame.ratelimit;

import dev.sesame.common.ApiException;
import dev.sesame.config.RateLimit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * Fixed-window counters in PostgreSQL, so a limit holds across every node sharing the database. All buckets of one
 * request are counted in one statement; each hit counts whether or not the request then succeeds.
 */
public final class RateLimiter {
  private final Jdbi jdbi;

  public RateLimiter(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  /** One counter to hit: {@code bucket} names what is limited (never a raw email: hash it). */
  public record Hit(String bucket, RateLimit limit) {}

  /** Counts a hit on every bucket; throws 429 {@code rate_limited} with {@code Retry-After} if any is over. */
  public void hit(Hit... hits) {
    List<long[]> results = jdbi.withHandle(h -> {
      PreparedBatch batch = h.prepareBatch("""
          INSERT INTO rate_limits (bucket, window_start, hits)
          VALUES (:bucket, to_timestamp(floor(extract(epoch FROM now()) / :window) * :window), 1)
          ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1
          RETURNING hits,
                    ceil(extract(epoch FROM window_start) + :window - extract(epoch FROM now()))::bigint AS retry_after
          """);
      for (Hit hit : hits) {
        batch.bind("bucket", hit.bucket()).bind("window", hit.limit().window().getSeconds()).add();
      }
      List<long[]> out = new ArrayList<>();
      batch.executePreparedBatch("hits", "retry_after")
          .map((rs, ctx) -> new long[] {rs.getLong("hits"), rs.getLong("retry_after")})
          .forEach(out::add);
      return out;
    });
    long retryAfter = 0;
    for (int i = 0; i < hits.length; i++) {
      if (results.get(i)[0] > hits[i].limit().max()) {
        retryAfter = Math.max(retryAfter, Math.max(1, results.get(i)[1]));
      }
    }
    if (retryAfter > 0) {
      throw new ApiException(429, "rate_limited", "Too many requests. Try again in " + retryAfter + " seconds.",
          Map.of("Retry-After", Long.toString(retryAfter)));
    }
  }
}
