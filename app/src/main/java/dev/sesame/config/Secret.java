package dev.sesame.config;

/** A configuration secret. Its {@code toString()} is redacted so it can never reach a log by accident. */
public final class Secret {
  private final String value;

  public Secret(String value) {
    this.value = value;
  }

  /** The secret itself; call this only where the secret is used, never to print it. */
  public String reveal() {
    return value;
  }

  @Override
  public String toString() {
    return "***";
  }
}
