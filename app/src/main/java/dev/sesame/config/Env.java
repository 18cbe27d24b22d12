package dev.sesame.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The environment Sesame is configured from: a {@code .env} file, overridden by the real environment. */
public final class Env {
  private Env() {}

  public static Map<String, String> load(Path dotEnv, Map<String, String> environment) {
    Map<String, String> values = new HashMap<>();
    if (Files.isRegularFile(dotEnv)) {
      try {
        values.putAll(parseDotEnv(Files.readAllLines(dotEnv, StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw new ConfigException(".env", "cannot be read: " + e.getMessage());
      }
    }
    values.putAll(environment);
    return values;
  }

  /** {@code KEY=value} lines; blank lines and {@code #} comments are skipped, matching quotes are removed. */
  static Map<String, String> parseDotEnv(List<String> lines) {
    Map<String, String> values = new HashMap<>();
    int lineNumber = 0;
    for (String raw : lines) {
      lineNumber++;
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("export ")) {
        line = line.substring("export ".length()).strip();
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException(".env", "line " + lineNumber + " is not KEY=value");
      }
      String key = line.substring(0, eq).strip();
      String value = line.substring(eq + 1).strip();
      if (value.length() >= 2
          && (value.startsWith("\"") && value.endsWith("\"") || value.startsWith("'") && value.endsWith("'"))) {
        value = value.substring(1, value.length() - 1);
      }
      values.put(key, value);
    }
    return values;
  }
}
