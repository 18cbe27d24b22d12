package dev.sesame.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The apps on the other side of Sesame in integration tests (the examples, the OIDC relying parties), each run as its
 * own process on a loopback port: started, waited for (until {@code GET /} answers 200), logged to
 * {@code target/<name>.log}, and stopped together.
 */
public final class AppProcesses implements AutoCloseable {
  /** The repository's root (tests run in app/). */
  public static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  private final List<Process> processes = new ArrayList<>();

  /** Debian's python3 (where python3-flask, python3-authlib… are), else whatever python3 is first on the PATH. */
  public static String python() {
    return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  /** Fails with what to install when {@code python3 -c "import …"} fails. */
  public static void requirePythonModules(String modules, String debianPackages) throws Exception {
    Process check = new ProcessBuilder(python(), "-c", "import " + modules).redirectErrorStream(true).start();
    if (!check.waitFor(30, TimeUnit.SECONDS) || check.exitValue() != 0) {
      throw new IllegalStateException("Needs Python modules " + modules + " (Debian: apt-get install "
          + debianPackages + "): " + new String(check.getInputStream().readAllBytes()));
    }
  }

  /** {@code npm ci} in {@code dir} unless its node_modules exist already. */
  public static void npmInstall(Path dir) throws Exception {
    if (Files.isDirectory(dir.resolve("node_modules"))) {
      return;
    }
    Process p = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(dir.toFile())
        .redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("npm ci in " + dir + " failed: " + output);
    }
  }

  /** Starts {@code command} in {@code dir} with {@code env} and waits until {@code http://127.0.0.1:port/} is 200. */
  public Process start(String name, Path dir, List<String> command, Map<String, String> env, int port)
      throws Exception {
    Path log = Path.of("target", name + ".log");
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process process = pb.start();
    processes.add(process);
    Http http = new Http("http://127.0.0.1:" + port);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited: " + Files.readString(log));
      }
      try {
        if (http.get("/").status() == 200) {
          return process;
        }
      } catch (RuntimeException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(name + " did not start: " + Files.readString(log));
  }

  /** What {@code name} logged so far. */
  public static String log(String name) {
    try {
      return Files.readString(Path.of("target", name + ".log"));
    } catch (java.io.IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    for (Process p : processes) {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }
}
