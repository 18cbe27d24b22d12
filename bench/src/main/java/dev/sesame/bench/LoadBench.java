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

  /** The Sesame under load; null when the load goes to a peer (see PeerBench). */
  private final SesameProcess server;
  private final Measured target;
  private final String baseUrl;
  /** One kept-alive connection per virtual user's thread. */
  private final ThreadLocal<BlockingHttp> http;
  /** The OIDC scenario's confidential client: id, secret (client_secret_basic), redirect URI. */
  private String clientId;
  /** The OIDC client's ID token algorithm ({@code --id-token-alg}); unset: OpenID Connect's default, RS256. */
  String idTokenAlg;
  private String clientAuthorization;
  private static final String REDIRECT_URI = "http://127.0.0.1:9/callback";

  LoadBench(SesameProcess server) {
    this(server, server, server.baseUrl());
  }

  private LoadBench(SesameProcess server, Measured target, String baseUrl) {
    this.server = server;
    this.target = target;
    this.baseUrl = baseUrl;
    this.http = ThreadLocal.withInitial(() -> new BlockingHttp(baseUrl));
  }

  /** Load for another server (a peer) at {@code baseUrl}, measured by {@code target}. */
  static LoadBench peer(String baseUrl, Measured target) {
    return new LoadBench(null, target, baseUrl);
  }

  /** A server process whose CPU and memory the harness reads, with PostgreSQL's CPU. */
  interface Measured {
    SesameProcess.Usage usage();
  }

  /** One virtual user: an account, a device holding its passkey, and its current tokens. */
  static final class User {
    final String email;
    final SoftwareAuthenticator device;
    /** For a peer that signs in with passwords. */
    String password;
    String accessToken;
    String refreshToken;

    User(String email, SoftwareAuthenticator device) {
      this.email = email;
      this.device = device;
    }
  }

  /**
   * One scenario's figures. The cores are CPU seconds per second of the measured interval: the server process (all
   * its threads, JIT and GC included), PostgreSQL's processes, and this load generator.
   */
  record Result(String scenario, long operations, double perSecond, double p50, double p95, double p99, long errors,
                double serverCores, double databaseCores, double databaseBackgroundCores, double generatorCores,
                long serverRssMb) {
    /** CPU milliseconds per operation. */
    double serverMs() {
      return serverCores / perSecond * 1000;
    }

    /** PostgreSQL's CPU per operation, every process (connections and background). */
    double databaseMs() {
      return databaseCores / perSecond * 1000;
    }

    /** The part of {@link #databaseMs} spent by background processes (see {@link BenchDatabase.Ticks}). */
    double databaseBackgroundMs() {
      return databaseBackgroundCores / perSecond * 1000;
    }
  }

  interface Operation {
    void run(User user) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options = options(args);
    // The software authenticators generate keys and sign with Conscrypt (about 30x faster ES256 than the JDK's), so
    // the generator leaves more of the shared cores to the server. This process speaks plain HTTP only, so Conscrypt
    // can come first for everything (see FastCrypto for why Sesame itself takes only its signatures).
    conscryptFirst();
    int users = Integer.parseInt(options.getOrDefault("users", "64"));
    Duration seconds = Duration.ofSeconds(Long.parseLong(options.getOrDefault("seconds", "20")));
    Duration warmUp = Duration.ofSeconds(Long.parseLong(options.getOrDefault("warmup", "5")));
    List<String> scenarios = List.of(options.getOrDefault("scenarios", "passkey,refresh,email,oidc,authorize,verify,register")
        .split(","));
    Path jar = Path.of(options.getOrDefault("jar", "app/target/sesame.jar"));
    String tokenAlg = options.getOrDefault("token-alg", "ES256");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " not found: run `mvn -B -ntp -DskipTests package` first");
    }

    List<Result> results;
    String restart;
    try (SmtpSink smtp = new SmtpSink(); BenchDatabase db = BenchDatabase.start();
         SesameProcess server = SesameProcess.start(jar, smtp.port(), tokenAlg, db.sesameSettings("sesame"))) {
      LoadBench bench = new LoadBench(server);
      bench.idTokenAlg = options.get("id-token-alg");
      System.err.printf("Sesame ready in %d ms (first start, empty database); creating %d users%n",
          server.readyMillis(), users);
      List<User> population = bench.createUsers(users, smtp);
      results = bench.runAll(scenarios, population, warmUp, seconds, tokenAlg);
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
    String table = header(users, seconds, warmUp) + table(results) + exchangeAlone(results)
        + "\nRestart to ready (PostgreSQL running): " + restart + '\n';
    System.out.print(table);
    Path out = Path.of("target", "load-results.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, table);
  }

  /** Runs the named scenarios one after another, the server idle before each. */
  List<Result> runAll(List<String> scenarios, List<User> population, Duration warmUp, Duration seconds,
                      String tokenAlg) throws Exception {
    List<Result> results = new ArrayList<>();
    for (String scenario : scenarios) {
      server.awaitIdle(Duration.ofMinutes(3));
      System.err.println("running " + scenario + " …");
      switch (scenario) {
        case "passkey" -> results.add(run("passkey sign-in", population, warmUp, seconds, this::passkeySignIn));
        case "refresh" -> results.add(run("refresh (rotating)", population, warmUp, seconds, this::refresh));
        case "email" -> results.add(run("email start", population, warmUp, seconds, this::emailStart));
        case "register" -> results.add(run("passkey registration", population, warmUp, seconds, this::register));
        case "oidc" -> {
          oidcClient();
          results.add(run(OIDC + ", ID token " + (idTokenAlg == null ? "RS256" : idTokenAlg), population, warmUp,
              seconds, this::oidcCodeFlow));
        }
        case "authorize" -> {
          oidcClient();
          results.add(run(AUTHORIZE, population, warmUp, seconds, this::authorize));
        }
        case "verify" -> {
          // The JDK's own provider for the token's algorithm (Conscrypt is first in this JVM, see above).
          results.add(verifyInProcess(population.get(0).accessToken, warmUp, seconds,
              Security.getProvider(tokenAlg.startsWith("RS") ? "SunRsaSign" : "SunEC")));
          if (org.conscrypt.Conscrypt.isAvailable()) {
            results.add(verifyInProcess(population.get(0).accessToken, warmUp, seconds,
                org.conscrypt.Conscrypt.newProvider()));
          }
        }
        default -> throw new IllegalArgumentException("unknown scenario " + scenario);
      }
    }
    return results;
  }

  /** The generator's own signatures with Conscrypt (see main). */
  static void conscryptFirst() {
    if (org.conscrypt.Conscrypt.isAvailable() && Security.getProvider("Conscrypt") == null) {
      Security.insertProviderAt(org.conscrypt.Conscrypt.newProvider(), 1);
    }
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

  /** A confidential client for the OIDC scenario, registered with the jar's CLI (as an operator would). */
  void oidcClient() throws Exception {
    if (clientId != null) {
      return;
    }
    List<String> command = new ArrayList<>(List.of("client", "create", "--name", "Bench app", "--redirect-uri",
        REDIRECT_URI, "--auth-method", "client_secret_basic", "--scope", "openid email profile"));
    if (idTokenAlg != null) {
      command.addAll(List.of("--id-token-alg", idTokenAlg));
    }
    JsonNode created = JSON.readTree(server.cli(command.toArray(String[]::new)));
    clientId = created.get("client_id").asText();
    clientAuthorization = "Basic " + java.util.Base64.getEncoder().encodeToString((enc(clientId) + ":"
        + enc(created.get("client_secret").asText())).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /**
   * An app signing a person in through OpenID Connect who already has a Sesame session: the authorization step (a
   * code for the person's session, PKCE S256, nonce) and the app's back-channel exchange of the code for access,
   * refresh and ID token (client_secret_basic).
   */
  void oidcCodeFlow(User user) throws Exception {
    Code code = authorize(user);
    BlockingHttp.Response r = http.get().send("POST", "/v1/token", "application/x-www-form-urlencoded",
        "grant_type=authorization_code&code=" + code.code() + "&redirect_uri=" + enc(REDIRECT_URI)
            + "&code_verifier=" + code.verifier(), clientAuthorization);
    if (r.status() != 200 || !r.body().contains("\"id_token\"")) {
      throw new IOException("POST /v1/token → " + r.status() + " " + r.body());
    }
  }

  record Code(String code, String verifier) {}

  static final String OIDC = "OIDC code flow (authorize + code exchange)";
  static final String AUTHORIZE = "OIDC authorize alone";

  /**
   * The authorization step alone (the code is never exchanged; the janitor deletes it a day after it expires): with
   * the {@code oidc} scenario it gives the exchange's own cost, since CPU per operation adds up.
   */
  Code authorize(User user) throws Exception {
    byte[] random = new byte[32];
    java.util.concurrent.ThreadLocalRandom.current().nextBytes(random);
    String verifier = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    String challenge = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        java.security.MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(
            java.nio.charset.StandardCharsets.US_ASCII)));
    JsonNode authorized = post("/v1/authorize", JSON.writeValueAsString(Map.of("clientId", clientId,
        "redirectTo", REDIRECT_URI, "state", "s", "codeChallenge", challenge, "codeChallengeMethod", "S256",
        "scope", "openid email", "nonce", "n")), user.accessToken);
    String redirect = authorized.get("redirect").asText();
    int at = redirect.indexOf("code=");
    if (at < 0) {
      throw new IOException("no code in " + redirect);
    }
    int endAt = redirect.indexOf('&', at);
    return new Code(redirect.substring(at + 5, endAt < 0 ? redirect.length() : endAt), verifier);
  }

  private static String enc(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
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
        n, n / ((now - start) / 1e9), pct(measured, 50), pct(measured, 95), pct(measured, 99), 0, Double.NaN,
        Double.NaN, Double.NaN, Double.NaN, -1);
  }

  // ---- the harness ----

  Result run(String name, List<User> users, Duration warmUp, Duration seconds, Operation operation)
      throws Exception {
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
    SesameProcess.Usage before = target.usage();
    long generatorBefore = SesameProcess.ticks(ProcessHandle.current().pid());
    long rssMax = 0;
    while (!done.await(200, TimeUnit.MILLISECONDS)) {
      rssMax = Math.max(rssMax, target.usage().rssKb());
    }
    SesameProcess.Usage after = target.usage();
    long generatorAfter = SesameProcess.ticks(ProcessHandle.current().pid());
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
    double perTick = 1.0 / SesameProcess.TICKS_PER_SECOND / elapsed;
    return new Result(name + ", " + users.size() + " users", total, total / elapsed, pct(all, 50), pct(all, 95),
        pct(all, 99), errors.get(), (after.cpuTicks() - before.cpuTicks()) * perTick,
        after.database().minus(before.database()).total() * perTick,
        after.database().minus(before.database()).background() * perTick, (generatorAfter - generatorBefore) * perTick,
        Math.max(rssMax, after.rssKb()) / 1024);
  }

  /** Signs every user up by email (code from the SMTP sink) and registers a passkey on their own device. */
  List<User> createUsers(int count, SmtpSink smtp) throws Exception {
    String origin = baseUrl;
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

  /** A form POST (OAuth's token endpoint) on this thread's connection; the parsed answer, or an exception. */
  JsonNode form(String path, String body) throws IOException {
    BlockingHttp.Response r = http.get().send("POST", path, "application/x-www-form-urlencoded", body, null);
    if (r.status() != 200) {
      throw new IOException("POST " + path + " → " + r.status() + " " + r.body());
    }
    return JSON.readTree(r.body());
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

  static String header(int users, Duration seconds, Duration warmUp) {
    return "Sesame load, " + Runtime.getRuntime().availableProcessors()
        + " cores shared by server, PostgreSQL and load generator; Java " + System.getProperty("java.version")
        + "; server JVM " + System.getenv().getOrDefault("SESAME_BENCH_JVM_OPTIONS",
            SesameProcess.DEFAULT_JVM_OPTIONS) + "; " + users + " users; " + seconds.toSeconds()
        + " s per scenario after " + warmUp.toSeconds() + " s warm-up\n\n";
  }

  /** With both OIDC scenarios run: the code exchange's own CPU per operation, the difference of the two. */
  static String exchangeAlone(List<Result> results) {
    Result flow = results.stream().filter(r -> r.scenario().startsWith(OIDC)).findFirst().orElse(null);
    Result authorize = results.stream().filter(r -> r.scenario().startsWith(AUTHORIZE)).findFirst().orElse(null);
    if (flow == null || authorize == null || flow.operations() == 0 || authorize.operations() == 0) {
      return "";
    }
    return String.format(Locale.ROOT, "%nOIDC code exchange alone (code flow − authorize alone): %.2f ms server +"
        + " %.2f ms PostgreSQL CPU per exchange%n", flow.serverMs() - authorize.serverMs(),
        flow.databaseMs() - authorize.databaseMs());
  }

  /** CPU ms per operation first: the figure to compare (throughput depends on what else shares the cores). */
  static String table(List<Result> results) {
    StringBuilder out = new StringBuilder()
        .append("| scenario | server CPU ms/op | PostgreSQL CPU ms/op | of which background | per second | p50 ms"
            + " | p99 ms | errors | cores: server / PostgreSQL / generator | server RSS MB |\n")
        .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Result r : results) {
      boolean server = !Double.isNaN(r.serverCores());
      out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %,.0f | %.2f | %.2f | %d | %s | %s |%n",
          r.scenario(), server ? String.format(Locale.ROOT, "%.2f", r.serverMs()) : "–",
          server ? String.format(Locale.ROOT, "%.2f", r.databaseMs()) : "–",
          server ? String.format(Locale.ROOT, "%.2f", r.databaseBackgroundMs()) : "–", r.perSecond(), r.p50(), r.p99(),
          r.errors(), server ? String.format(Locale.ROOT, "%.2f / %.2f / %.2f", r.serverCores(),
              r.databaseCores(), r.generatorCores()) : "–",
          r.serverRssMb() < 0 ? "–" : Long.toString(r.serverRssMb())));
    }
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
