package dev.sesame.common;

/**
 * The result of a transaction that may end in a refusal whose side effects must still commit (a wrong code counts
 * against its flow, a reused refresh token revokes its session, a failed WebAuthn response uses up its ceremony).
 * The transaction returns an {@code Outcome}; the caller calls {@link #get()} after the commit, which throws.
 */
public record Outcome<T>(T value, ApiException error) {
  public static <T> Outcome<T> ok(T value) {
    return new Outcome<>(value, null);
  }

  public static <T> Outcome<T> refused(ApiException error) {
    return new Outcome<>(null, error);
  }

  public T get() {
    if (error != null) {
      throw error;
    }
    return value;
  }
}
