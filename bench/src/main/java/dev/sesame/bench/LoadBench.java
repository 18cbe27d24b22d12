package dev.sesame.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import dev.sesame.support.SoftwareAuthenticator;
import example.SesameTokenVerifier;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Provider;
import java.security.Security;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load scenarios against a real Sesame: the packaged jar, started here as its own process on embedded PostgreSQL
 * (or {@code SESAME_DATABASE_URL}), mail going to a local SMTP sink. N virtual users, each with its own software
 * authenticator, run each scenario in a closed loop for a fixed time after an uncounted warm-up. Server CPU and RSS
 * come from /proc. Results are printed as a table and written to {@code target/load-results.md}.
 */
final class LoadBench {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String baseUrl;
  /** One kept-alive connection per virtual user's thread. */
  private final ThreadLocal<BlockingHttp> http;

  private LoadBench(String baseUrl) {
    this.baseUrl = baseUrl;
    this.http = ThreadLocal.withInitial(() -> new BlockingHttp(baseUrl));
  }

  /** One virtual user: an account, a device holding its passkey, and its current tokens. */
  static final class User {
    final String email;
    final SoftwareAuthenticator device;
    String accessToken;
    String refreshToken;

    User(String email, SoftwareAuthenticator device) {
      this.email = email;
      this.device = device;
    }
  }

  record Result(String scenario, long operations, double perSecond, double p50, double p95, double p99, long errors,
                double serverCores, long serverRssMb) {}

  interface Operation {
    void run(User user) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options = options(args);
    // The software authenticators generate keys and sign with Conscrypt (about 30x faster ES256 than the JDK's), so
    // the generator leaves more of the shared cores to the server. This process speaks plain HTTP only, so Conscrypt
    // can come first for everything (see FastCrypto for why Sesame itself takes only its signatures).
    if (org.conscrypt.Conscrypt.isAvailable()) {
      Security.insertProviderAt(org.conscrypt.Conscrypt.newProvider(), 1);
    }
    int users = Integer.parseInt(options.getOrDefault("users", "64"));
    Duration seconds = Duration.ofSeconds(Long.parseLong(options.getOrDefault("seconds", "20")));
    Duration warmUp = Duration.ofSeconds(Long.parseLong(options.getOrDefault("warmup", "5")));
    List<String> scenarios = List.of(options.getOrDefault("scenarios", "passkey,refresh,email,verify,register")
        .split(","));
    Path jar = Path.of(options.getOrDefault("jar", "app/target/sesame.jar"));
    String tokenAlg = options.getOrDefault("token-alg", "ES256");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " not found: run `mvn -B -ntp -DskipTests package` first");
    }

    List<Result> results = new ArrayList<>();
    String restart;
    try (SmtpSink smtp = new SmtpSink(); SesameProcess server = SesameProcess.start(jar, smtp.port(), tokenAlg)) {
      LoadBench bench = new LoadBench(server.baseUrl());
      System.err.printf("Sesame ready in %d ms (first start, empty data directory); creating %d users%n",
          server.readyMillis(), users);
      List<User> population = bench.createUsers(users, smtp, server.baseUrl());
      for (String scenario : scenarios) {
        server.awaitIdle(Duration.ofMinutes(3));
        System.err.println("running " + scenario + " …");
        results.add(switch (scenario) {
          case "passkey" -> bench.run("passkey sign-in", population, warmUp, seconds, server, bench::passkeySignIn);
          case "refresh" -> bench.run("refresh (rotating)", population, warmUp, seconds, server, bench::refresh);
          case "email" -> bench.run("email start", population, warmUp, seconds, server, bench::emailStart);
          case "register" -> bench.run("passkey registration", population, warmUp, seconds, server,
              bench::register);
          case "verify" -> {
            // The JDK's own provider for the token's algorithm (Conscrypt is first in this JVM, see above).
            results.add(bench.verifyInProcess(population.get(0).accessToken, warmUp, seconds,
                Security.getProvider(tokenAlg.startsWith("RS") ? "SunRsaSign" : "SunEC")));
            Provider conscrypt = org.conscrypt.Conscrypt.isAvailable() ? org.conscrypt.Conscrypt.newProvider() : null;
            yield conscrypt == null ? null : bench.verifyInProcess(population.get(0).accessToken, warmUp, seconds,
                conscrypt);
          }
          default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        });
      }
      // Skippable (--restart false) so a profiling recording of the loaded server isn't replaced by the restart's.
      if (Boolean.parseBoolean(options.getOrDefault("restart", "true"))) {
        server.awaitIdle(Duration.ofMinutes(3));
        SesameProcess.Restart r = server.restart();
        restart = r.archivedMillis() < 0 ? r.plainMillis() + " ms (no class archive was written)"
            : String.format(Locale.ROOT, "%,d ms with the AppCDS class archive from the first run (%,d ms without)",
                r.archivedMillis(), r.plainMillis());
      } else {
        restart = "not measured";
      }
    }
    results.removeIf(r -> r == null);
    String table = table(results, users, seconds, warmUp, restart);
    System.out.print(table);
    Path out = Path.of("target", "load-results.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, table);
  }

  // ---- scenarios ----

  void passkeySignIn(User user) throws Exception {
    JsonNode options = post("/v1/passkeys/login/options", "{}", null);
    JsonNode assertion = user.device.get(options.get("publicKey"));
    JsonNode tokens = post("/v1/passkeys/login/verify", JSON.writeValueAsString(Map.of(
        "ceremonyId", options.get("ceremonyId").asText(), "credential", assertion)), null);
    user.accessToken = tokens.get("access_token").asText();
  }

  void refresh(User user) throws Exception {
    JsonNode tokens = post("/v1/sessions/refresh", JSON.writeValueAsString(Map.of("refresh_token",
        user.refreshToken)), null);
    user.refreshToken = tokens.get("refresh_token").asText();
    user.accessToken = tokens.get("access_token").asText();
  }

  void emailStart(User user) throws Exception {
    post("/v1/email/start", JSON.writeValueAsString(Map.of("email", user.email)), null);
  }

  void register(User user) throws Exception {
    JsonNode options = post("/v1/passkeys/register/options", "{}", user.accessToken);
    SoftwareAuthenticator device = new SoftwareAuthenticator(baseUrl);
    JsonNode credential = device.create(options.get("publicKey"));
    JsonNode created = post("/v1/passkeys/register/verify", JSON.writeValueAsString(Map.of(
        "ceremonyId", options.get("ceremonyId").asText(), "credential", credential)), user.accessToken);
    // Not counted as the scenario's work, but keeps every user under the 20-passkey cap.
    send("DELETE", "/v1/me/passkeys/" + created.get("passkey").get("id").asText(), null, user.accessToken);
  }

  /** Verifying Sesame access tokens in a Java backend: the Javalin example's verifier, one thread = one core. */
  Result verifyInProcess(String token, Duration warmUp, Duration seconds, Provider provider) throws Exception {
    SesameTokenVerifier processor = new SesameTokenVerifier(URI.create(baseUrl + "/.well-known/jwks.json").toURL(),
        baseUrl, baseUrl, provider);
    long end = System.nanoTime() + warmUp.toNanos();
    while (System.nanoTime() < end) {
      processor.verify(token);
    }
    long[] latencies = new long[10_000_000];
    int n = 0;
    long start = System.nanoTime();
    end = start + seconds.toNanos();
    long now = start;
    while (now < end && n < latencies.length) {
      long t0 = System.nanoTime();
      processor.verify(token);
      now = System.nanoTime();
      latencies[n++] = now - t0;
    }
    long[] measured = Arrays.copyOf(latencies, n);
    Arrays.sort(measured);
    String alg = SignedJWT.parse(token).getHeader().getAlgorithm().getName();
    return new Result("token verify (" + alg + ") in a Java backend, 1 core ("
        + (provider.getName().startsWith("Sun") ? "JDK" : "Conscrypt") + ")",
        n, n / ((now - start) / 1e9), pct(measured, 50), pct(measured, 95), pct(measured, 99), 0, Double.NaN, -1);
  }

  // ---- the harness ----

  Result run(String name, List<User> users, Duration warmUp, Duration seconds, SesameProcess server,
             Operation operation) throws Exception {
    AtomicLong errors = new AtomicLong();
    List<long[]> perUser = new ArrayList<>();
    int[] counts = new int[users.size()];
    long warmEnd = System.nanoTime() + warmUp.toNanos();
    long end = warmEnd + seconds.toNanos();
    CountDownLatch done = new CountDownLatch(users.size());
    List<Thread> threads = new ArrayList<>();
    String[] firstError = new String[1];
    for (int i = 0; i < users.size(); i++) {
      long[] latencies = new long[2_000_000];
      perUser.add(latencies);
      User user = users.get(i);
      int index = i;
      Thread t = new Thread(() -> {
        try {
          while (true) {
            long t0 = System.nanoTime();
            if (t0 >= end) {
              return;
            }
            try {
              operation.run(user);
              long t1 = System.nanoTime();
              if (t0 >= warmEnd && counts[index] < latencies.length) {
                latencies[counts[index]++] = t1 - t0;
              }
            } catch (Exception e) {
              if (t0 >= warmEnd) {
                errors.incrementAndGet();
              }
              synchronized (firstError) {
                if (firstError[0] == null) {
                  firstError[0] = e.toString();
                }
              }
            }
          }
        } finally {
          http.get().close();
          http.remove();
          done.countDown();
        }
      }, "vu-" + i);
      threads.add(t);
    }
    threads.forEach(Thread::start);
    while (System.nanoTime() < warmEnd) {
      Thread.sleep(20);
    }
    SesameProcess.Usage before = server.usage();
    long rssMax = 0;
    while (!done.await(200, TimeUnit.MILLISECONDS)) {
      rssMax = Math.max(rssMax, server.usage().rssKb());
    }
    SesameProcess.Usage after = server.usage();
    if (firstError[0] != null) {
      System.err.println("  first error in " + name + ": " + firstError[0]);
    }
    int total = 0;
    for (int c : counts) {
      total += c;
    }
    long[] all = new long[total];
    int at = 0;
    for (int i = 0; i < users.size(); i++) {
      System.arraycopy(perUser.get(i), 0, all, at, counts[i]);
      at += counts[i];
    }
    Arrays.sort(all);
    double elapsed = seconds.toNanos() / 1e9;
    double cores = (after.cpuTicks() - before.cpuTicks()) / (double) SesameProcess.TICKS_PER_SECOND / elapsed;
    return new Result(name + ", " + users.size() + " users", total, total / elapsed, pct(all, 50), pct(all, 95),
        pct(all, 99), errors.get(), cores, Math.max(rssMax, after.rssKb()) / 1024);
  }

  /** Signs every user up by email (code from the SMTP sink) and registers a passkey on their own device. */
  List<User> createUsers(int count, SmtpSink smtp, String origin) throws Exception {
    List<User> users = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      User user = new User("load-" + i + "-" + UUID.randomUUID().toString().substring(0, 6) + "@example.com",
          new SoftwareAuthenticator(origin));
      user.device.counterStep = 0; // a synced passkey: concurrent use needs no counter ordering
      JsonNode started = post("/v1/email/start", JSON.writeValueAsString(Map.of("email", user.email)), null);
      String code = null;
      for (int tries = 0; tries < 200 && code == null; tries++) {
        code = smtp.code(user.email);
        if (code == null) {
          Thread.sleep(25);
        }
      }
      if (code == null) {
        throw new IllegalStateException("no email for " + user.email);
      }
      JsonNode tokens = post("/v1/email/verify", JSON.writeValueAsString(Map.of("flowId",
          started.get("flowId").asText(), "code", code)), null);
      user.accessToken = tokens.get("access_token").asText();
      user.refreshToken = tokens.get("refresh_token").asText();
      JsonNode options = post("/v1/passkeys/register/options", "{}", user.accessToken);
      post("/v1/passkeys/register/verify", JSON.writeValueAsString(Map.of("ceremonyId",
          options.get("ceremonyId").asText(), "credential", user.device.create(options.get("publicKey")))),
          user.accessToken);
      users.add(user);
    }
    return users;
  }

  JsonNode post(String path, String body, String accessToken) throws IOException, InterruptedException {
    return send("POST", path, body, accessToken);
  }

  JsonNode send(String method, String path, String body, String accessToken)
      throws IOException, InterruptedException {
    BlockingHttp.Response r = http.get().send(method, path, body, accessToken);
    if (r.status() >= 300) {
      throw new IOException(method + " " + path + " → " + r.status() + " " + r.body());
    }
    return r.body().isEmpty() ? null : JSON.readTree(r.body());
  }

  static double pct(long[] sorted, int percentile) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(index, sorted.length - 1))] / 1e6;
  }

  static String table(List<Result> results, int users, Duration seconds, Duration warmUp, String restart) {
    StringBuilder out = new StringBuilder()
        .append("Sesame load, ").append(Runtime.getRuntime().availableProcessors())
        .append(" cores shared by server, PostgreSQL and load generator; Java ").append(System.getProperty("java.version"))
        .append("; ").append(seconds.toSeconds()).append(" s per scenario after ").append(warmUp.toSeconds())
        .append(" s warm-up\n\n")
        .append("| scenario | ops | per second | p50 ms | p95 ms | p99 ms | errors | server CPU (cores) | server RSS MB |\n")
        .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Result r : results) {
      out.append(String.format(Locale.ROOT, "| %s | %,d | %,.0f | %.2f | %.2f | %.2f | %d | %s | %s |%n",
          r.scenario(), r.operations(), r.perSecond(), r.p50(), r.p95(), r.p99(), r.errors(),
          Double.isNaN(r.serverCores()) ? "–" : String.format(Locale.ROOT, "%.2f", r.serverCores()),
          r.serverRssMb() < 0 ? "–" : Long.toString(r.serverRssMb())));
    }
    out.append("\nRestart to ready on the warm embedded PostgreSQL: ").append(restart).append('\n');
    return out.toString();
  }

  static Map<String, String> options(String[] args) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --name value, got " + args[i]);
      }
      out.put(args[i].substring(2), args[i + 1]);
    }
    return out;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
