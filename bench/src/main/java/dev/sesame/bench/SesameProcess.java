package dev.sesame.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged Sesame as its own process, with what /proc says about its CPU and memory. */
final class SesameProcess implements AutoCloseable, LoadBench.Measured {
  static final long TICKS_PER_SECOND = 100; // USER_HZ on Linux
  /** The small-instance profile the README recommends; see "Running it in production". */
  static final String DEFAULT_JVM_OPTIONS = "-Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";

  private final Path jar;
  private final Map<String, String> env;
  private final List<String> jvmOptions;
  private final Path log;
  private final Path classArchive;
  private Process process;
  private long readyMillis;

  record Usage(long cpuTicks, long rssKb, BenchDatabase.Ticks database) {}

  private SesameProcess(Path jar, Map<String, String> env, List<String> jvmOptions, Path log) {
    this.jar = jar;
    this.env = env;
    this.jvmOptions = jvmOptions;
    this.log = log;
    this.classArchive = log.resolveSibling("bench-sesame.jsa");
  }

  /** @param settings further {@code SESAME_*} settings of the server (and of {@link #cli} commands) */
  static SesameProcess start(Path jar, int smtpPort, String tokenAlg, Map<String, String> settings)
      throws Exception {
    int port = LoadBench.freePort();
    Path dataDir = Files.createTempDirectory("sesame-bench-");
    Map<String, String> env = new java.util.HashMap<>(Map.of(
        "SESAME_PORT", Integer.toString(port),
        "SESAME_BIND_HOST", "127.0.0.1",
        "SESAME_PUBLIC_URL", "http://localhost:" + port,
        "SESAME_DATA_DIR", dataDir.toString(),
        "SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(smtpPort),
        "SESAME_SMTP_TLS", "none",
        "SESAME_TOKEN_ALG", tokenAlg,
        // A load test is one client address sending many emails: lift the limits for the run.
        "SESAME_RATE_LIMIT_EMAIL", "1000000/1m",
        "SESAME_RATE_LIMIT_IP", "100000000/1m"));
    // The same sessions refresh and the same accounts sign in over and over: lift those limits too (their
    // statements still take them, so the figures include their cost).
    env.put("SESAME_RATE_LIMIT_REFRESH", "100000000/1m");
    env.put("SESAME_RATE_LIMIT_SIGN_IN", "100000000/1m");
    env.put("SESAME_EMAIL_DOMAIN_CHECK", "off"); // the bench's addresses are made up
    env.putAll(settings);
    String jvm = System.getenv().getOrDefault("SESAME_BENCH_JVM_OPTIONS", DEFAULT_JVM_OPTIONS);
    SesameProcess p = new SesameProcess(jar, env, List.of(jvm.trim().split("\\s+")),
        Path.of("target", "bench-server.log"));
    Files.createDirectories(p.log.getParent());
    Files.deleteIfExists(p.classArchive);
    // The first run records the classes it loaded into an AppCDS archive when it stops, as a deployment would
    // with a training run; restart() then measures start-up both without and with it.
    // (Not with a profiling agent in SESAME_BENCH_JVM_OPTIONS: the JVM refuses to archive with one.)
    boolean agent = p.jvmOptions.stream().anyMatch(o -> o.startsWith("-agent"));
    p.launch(agent ? List.of() : List.of("-XX:ArchiveClassesAtExit=" + p.classArchive.toAbsolutePath()));
    return p;
  }

  /** Runs a command of the jar ({@code service-key create …}) with the server's settings; its standard output. */
  String cli(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-jar", jar.toAbsolutePath().toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", args) + " failed; see " + log);
    }
    return out;
  }

  String baseUrl() {
    return env.get("SESAME_PUBLIC_URL");
  }

  long readyMillis() {
    return readyMillis;
  }

  private void launch(List<String> extraJvmOptions) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(extraJvmOptions);
    command.add("-jar");
    command.add(jar.toAbsolutePath().toString());
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    long start = System.nanoTime();
    process = pb.start();
    HttpClient http = HttpClient.newHttpClient();
    long deadline = start + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("Sesame exited; see " + log);
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/ready")).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          readyMillis = (System.nanoTime() - start) / 1_000_000;
          return;
        }
      } catch (IOException notYet) {
        // still starting
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("Sesame not ready in 120 s; see " + log);
  }

  /** Restart-to-ready times on the same (now warm) data: plain, then with the first run's class archive. */
  record Restart(long plainMillis, long archivedMillis) {}

  Restart restart() throws Exception {
    stop();
    launch(List.of());
    long plain = readyMillis;
    stop();
    if (!Files.isRegularFile(classArchive)) {
      return new Restart(plain, -1);
    }
    launch(List.of("-XX:SharedArchiveFile=" + classArchive.toAbsolutePath()));
    return new Restart(plain, readyMillis);
  }

  /**
   * Waits until the server has been nearly idle (under 0.1 core) for a second, up to {@code max}: the email scenario
   * leaves thousands of messages for the outbox sender, which would otherwise take CPU from the next scenario.
   */
  void awaitIdle(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    int quietSeconds = 0;
    long before = usage().cpuTicks();
    while (quietSeconds < 1 && System.nanoTime() < deadline) {
      Thread.sleep(1000);
      long now = usage().cpuTicks();
      quietSeconds = now - before < TICKS_PER_SECOND / 10 ? quietSeconds + 1 : 0;
      before = now;
    }
  }

  /** The server's CPU and memory, and PostgreSQL's CPU (every postgres process, see {@link BenchDatabase#ticks}). */
  @Override
  public Usage usage() {
    return new Usage(ticks(process.pid()), rssKb(process.pid()), BenchDatabase.ticks());
  }

  static long ticks(long pid) {
    return ticks(pid, false);
  }

  /** utime + stime of a process, with {@code reapedChildren} also cutime + cstime (children it has waited for). */
  static long ticks(long pid, boolean reapedChildren) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long own = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      return reapedChildren ? own + Long.parseLong(fields[13]) + Long.parseLong(fields[14]) : own;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("\\D", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or the process is gone
    }
    return 0;
  }

  private void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
