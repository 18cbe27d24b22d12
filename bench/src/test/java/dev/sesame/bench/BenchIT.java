package dev.sesame.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The bench's commands still run end to end against the packaged server, briefly (the figures themselves are for
 * people to read, never asserted): every scenario row has operations, CPU per operation for server and PostgreSQL,
 * and no errors. {@code peer keycloak} is not run here: it downloads Keycloak (150 MB).
 */
class BenchIT {
  private static final String JAR = System.getProperty("sesame.jar", "../app/target/sesame.jar");
  /** | name | server ms/op | PostgreSQL ms/op | of which background | per second | p50 | p99 | errors | … */
  private static final Pattern ROW = Pattern.compile(
      "^\\| ([^|]+?) \\| ([0-9.]+) \\| ([0-9.]+) \\| [0-9.]+ \\| ([0-9,]+) \\| [0-9.]+ \\| [0-9.]+ \\| (\\d+) \\|",
      Pattern.MULTILINE);

  @Test
  void load_reports_cpu_per_operation_for_every_scenario() throws Exception {
    LoadBench.main(new String[] {"--users", "4", "--seconds", "3", "--warmup", "1", "--scenarios",
        "passkey,refresh,email,oidc,authorize,register", "--restart", "false", "--jar", JAR});
    String table = Files.readString(Path.of("target", "load-results.md"));
    assertRows(table, List.of("passkey sign-in", "refresh (rotating)", "email start", "OIDC code flow",
        "OIDC authorize alone", "passkey registration"));
    assertTrue(table.contains("OIDC code exchange alone (code flow − authorize alone): "), table);
  }

  @Test
  void scale_seeds_and_runs_again() throws Exception {
    ScaleBench.main(new String[] {"--users", "4", "--seconds", "2", "--warmup", "1", "--people", "2000",
        "--events", "20000", "--scenarios", "passkey,refresh", "--jar", JAR});
    String report = Files.readString(Path.of("target", "scale-results.md"));
    assertTrue(report.contains("Seeded: 2,000 people"), report);
    assertTrue(report.contains("| users: email prefix search |"), report);
    // The sign-in's writing statement, which starts with its rate limit (the account's successful sign-ins).
    assertTrue(report.contains("| `WITH accountAllowed AS ( INSERT INTO rate_limits"), "the sign-in's statement: " + report);
    assertRows(report.substring(report.indexOf("Seeded database:")), List.of("passkey sign-in", "refresh"));
  }

  private static void assertRows(String table, List<String> scenarios) {
    for (String scenario : scenarios) {
      Matcher m = ROW.matcher(table);
      boolean found = false;
      while (m.find()) {
        if (m.group(1).startsWith(scenario)) {
          found = true;
          assertTrue(Double.parseDouble(m.group(2)) > 0, "server CPU per op: " + m.group());
          assertTrue(Double.parseDouble(m.group(3)) > 0, "PostgreSQL CPU per op: " + m.group());
          assertTrue(Double.parseDouble(m.group(4).replace(",", "")) > 0, "throughput: " + m.group());
          assertEquals("0", m.group(5), "errors: " + m.group());
        }
      }
      assertTrue(found, scenario + " in\n" + table);
    }
  }
}
