package dev.sesame.config;

import java.time.Duration;

/** At most {@code max} hits per {@code window}, written {@code 5/15m}. */
public record RateLimit(int max, Duration window) {
  public static RateLimit parse(String text) {
    int slash = text.indexOf('/');
    if (slash <= 0) {
      throw new IllegalArgumentException("expected COUNT/WINDOW like 5/15m, got '" + text + "'");
    }
    int max;
    try {
      max = Integer.parseInt(text.substring(0, slash).strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected COUNT/WINDOW like 5/15m, got '" + text + "'");
    }
    Duration window = Durations.parse(text.substring(slash + 1));
    if (max < 1 || window.getSeconds() < 1) {
      throw new IllegalArgumentException("count and window must be positive, got '" + text + "'");
    }
    return new RateLimit(max, window);
  }

  /** Several limits that all apply, written {@code 10/1h,30/1d}. */
  public static java.util.List<RateLimit> parseList(String text) {
    java.util.List<RateLimit> out = new java.util.ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        out.add(parse(part.strip()));
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("expected COUNT/WINDOW[,COUNT/WINDOW…] like 10/1h,30/1d, got '" + text + "'");
    }
    return java.util.List.copyOf(out);
  }

  @Override
  public String toString() {
    return max + "/" + Durations.format(window);
  }
}
