package dev.sesame.config;

/** A setting has a value Sesame cannot run with. The message names the variable and says what is wrong. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String variable, String problem) {
    super(variable + ": " + problem);
  }
}
