package dev.sesame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the packaged jar exactly as the README's run command does: {@code java -jar sesame.jar}, embedded database. */
class StartupIT {
  private static final Path JAR = Path.of(System.getProperty("sesame.jar", "target/sesame.jar"));

  @Test
  void the_jar_starts_on_embedded_postgres_keeps_its_data_and_stops_cleanly(@TempDir Path workDir) throws Exception {
    int port = TestServer.freePort();
    Files.writeString(workDir.resolve(".env"), "SESAME_RP_NAME=Dotenv Notes\nSESAME_PORT=1\n");
    // The real environment wins over .env. Test addresses are @example.com and this machine has no DNS.
    Map<String, String> env = Map.of("SESAME_PORT", Integer.toString(port), "SESAME_EMAIL_DOMAIN_CHECK", "off");
    Http http = new Http("http://localhost:" + port);

    String userId;
    Process first = start(workDir, env, "first.log");
    try {
      awaitReady(http, first, workDir.resolve("first.log"));
      JsonNode tokens = DevMailbox.signIn(http, "jar@example.com");
      userId = tokens.get("user").get("id").asText();
      assertTrue(http.get("/dev/mail").body().contains("Dotenv Notes"), "RP name from .env");
      embeddedDatabaseIsLockedDown(workDir.resolve("data"));
      // A command beside the running server says what to do, not only "could not lock …".
      Command busy = command(workDir, env, "admin", "grant", "jar@example.com");
      assertEquals(1, busy.status(), busy.output());
      assertTrue(busy.output().contains("in use by a running Sesame server") && busy.output().contains("/admin"),
          busy.output());
    } finally {
      stop(first);
    }
    String log = Files.readString(workDir.resolve("first.log"));
    assertEquals(1, log.lines().filter(l -> l.contains("SESAME_MASTER_KEY is not set")).count(), log);
    Command granted = command(workDir, env, "admin", "grant", "jar@example.com");
    assertEquals(0, granted.status(), granted.output());
    // From another directory a command finds no database and says so, instead of starting an empty one.
    Path elsewhere = Files.createDirectory(workDir.resolve("elsewhere"));
    Command lost = command(elsewhere, env, "admin", "list");
    assertEquals(1, lost.status(), lost.output());
    assertTrue(lost.output().contains("there is no Sesame database in") && lost.output().contains("SESAME_DATA_DIR"),
        lost.output());
    assertFalse(Files.exists(elsewhere.resolve("data")), "nothing was created");
    Command created = command(elsewhere, env, "admin", "list", "--new-data-dir");
    assertEquals(0, created.status(), created.output());
    assertTrue(Files.isDirectory(elsewhere.resolve("data/postgres")));
    Command help = command(elsewhere, env, "help");
    for (String line : help.output().lines().toList()) {
      assertTrue(line.length() <= 120, "help fits a terminal: " + line);
    }
    assertTrue(List.of(0, 143).contains(first.exitValue()), "exit " + first.exitValue() + ": " + log); // 143 = SIGTERM
    assertTrue(log.contains("Stopped"), log);
    assertFalse(log.contains("masterKey=" + "set"), log);
    assertFalse(Files.exists(workDir.resolve("data/postgres/postmaster.pid")), "embedded PostgreSQL was stopped");

    Process second = start(workDir, env, "second.log");
    try {
      awaitReady(http, second, workDir.resolve("second.log"));
      assertEquals(userId, DevMailbox.signIn(http, "jar@example.com").get("user").get("id").asText(),
          "the account survived the restart");
    } finally {
      stop(second);
    }
  }

  @Test
  void a_bad_setting_stops_start_up_with_one_line_naming_it(@TempDir Path workDir) throws Exception {
    Process p = start(workDir, Map.of("SESAME_PORT", "eighty"), "bad.log");
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue());
    List<String> lines = Files.readAllLines(workDir.resolve("bad.log"), StandardCharsets.UTF_8);
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).contains("SESAME_PORT: expected a port number"), lines.get(0));
  }

  @Test
  void a_broken_email_template_stops_start_up_with_one_line_naming_its_file(@TempDir Path workDir) throws Exception {
    Path templates = Files.createDirectories(workDir.resolve("templates/de"));
    Files.writeString(templates.resolve("sign-in.html"), "<p>Hallo! <a href=\"{{link}}\">Anmelden</a></p>");
    Process p = start(workDir, Map.of("SESAME_TEMPLATES_DIR", workDir.resolve("templates").toString()), "tpl.log");
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue());
    List<String> lines = Files.readAllLines(workDir.resolve("tpl.log"), StandardCharsets.UTF_8);
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).contains("SESAME_TEMPLATES_DIR: " + templates.resolve("sign-in.html")
        + ": the message must show the code"), lines.get(0));
  }

  /**
   * Another process on this machine connecting to the embedded PostgreSQL, over TCP or its Unix socket, without the
   * password gets nothing; the generated secrets are the owner's only; the signing keys are stored encrypted.
   */
  private static void embeddedDatabaseIsLockedDown(Path data) throws Exception {
    List<String> pid = Files.readAllLines(data.resolve("postgres/postmaster.pid"));
    int pgPort = Integer.parseInt(pid.get(3).strip());
    String socketDir = pid.get(4).strip();
    for (String url : List.of("jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres?user=postgres",
        "jdbc:postgresql://localhost:" + pgPort + "/postgres?user=postgres&password=wrong")) {
      java.sql.SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
          () -> java.sql.DriverManager.getConnection(url).close(), url);
      assertTrue(refused.getMessage().contains("password"), refused.getMessage());
    }
    // psql over the Unix socket, as a local process would (PostgreSQL 15's client from Debian, when present).
    Path psql = Path.of("/usr/lib/postgresql/15/bin/psql");
    if (Files.isExecutable(psql) && !socketDir.isEmpty()) {
      Process p = new ProcessBuilder(psql.toString(), "-h", socketDir, "-p", Integer.toString(pgPort), "-U",
          "postgres", "-w", "-c", "SELECT private_key FROM signing_keys", "postgres").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      assertEquals(2, p.exitValue(), "psql over the socket must be refused: " + out);
      assertTrue(out.contains("password"), out);
    }
    String password = Files.readString(data.resolve("postgres.password")).strip();
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres?user=postgres&password=" + password);
         java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT DISTINCT encryption FROM signing_keys")) {
      assertTrue(rs.next());
      assertEquals("aes-gcm", rs.getString(1), "without SESAME_MASTER_KEY the keys are encrypted all the same");
      assertFalse(rs.next());
    }
    for (String secret : List.of("postgres.password", "master.key")) {
      assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
          Files.getPosixFilePermissions(data.resolve(secret))), secret);
    }
  }

  @Test
  void an_import_larger_than_the_heap_streams_through(@TempDir Path workDir) throws Exception {
    // Audit low #10: a 104 MB import ran a 256 MiB heap out of memory (500). 150,000 people, 52 MB, through a
    // 64 MiB heap: read in two streamed passes, never whole.
    Path file = workDir.resolve("people.json");
    try (java.io.Writer out = Files.newBufferedWriter(file)) {
      out.write("{\"format\":\"sesame-users/1\",\"users\":[");
      for (int i = 0; i < 150_000; i++) {
        out.write((i == 0 ? "" : ",") + "{\"email\":\"person" + i + "@example.com\",\"emailVerified\":true,"
            + "\"publicMetadata\":{\"plan\":\"pro\",\"note\":\"" + "x".repeat(200) + "\"},"
            + "\"privateMetadata\":{\"crm\":\"c" + i + "\",\"pad\":\"" + "y".repeat(60) + "\"}}");
      }
      out.write("]}");
    }
    assertTrue(Files.size(file) > 50_000_000L);
    Command imported = command(workDir, Map.of("JAVA_TOOL_OPTIONS", "-Xmx64m"), "users", "import", "people.json",
        "--new-data-dir");
    assertEquals(0, imported.status(), imported.output());
    assertTrue(imported.output().contains("150000 people in the file, 150000 accounts added"), imported.output());
  }

  record Command(int status, String output) {}

  /** {@code java -jar sesame.jar ARGS} in {@code workDir}: its exit status and everything it printed. */
  private static Command command(Path workDir, Map<String, String> env, String... args) throws Exception {
    List<String> line = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString()));
    if (env.containsKey("JAVA_TOOL_OPTIONS")) {
      line.add(env.get("JAVA_TOOL_OPTIONS"));
    }
    line.addAll(List.of("-jar", JAR.toAbsolutePath().toString()));
    line.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(line).directory(workDir.toFile()).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("SESAME_"));
    pb.environment().putAll(env);
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the command did not end: " + output);
    }
    return new Command(p.exitValue(), output);
  }

  private static Process start(Path workDir, Map<String, String> env, String logName) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", JAR.toAbsolutePath().toString())
        .directory(workDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(workDir.resolve(logName).toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("SESAME_"));
    pb.environment().putAll(env);
    return pb.start();
  }

  /** Waits for {@code /ready}; fails with the log when the process exits or 90 s pass. */
  static void awaitReady(Http http, Process process, Path log) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("Sesame exited: " + Files.readString(log));
      }
      try {
        if (http.get("/ready").status() == 200) {
          return;
        }
      } catch (RuntimeException notYet) {
        // connection refused while starting
      }
      Thread.sleep(200);
    }
    throw new AssertionError("not ready in time: " + Files.readString(log));
  }

  /** SIGTERM, as a container runtime or systemd sends it. */
  private static void stop(Process process) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("Sesame did not stop within 60 s of SIGTERM");
    }
  }
}
