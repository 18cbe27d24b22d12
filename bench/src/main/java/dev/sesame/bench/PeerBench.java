package dev.sesame.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code peer keycloak}: the same load loop against Keycloak and Sesame, one after the other, on the same PostgreSQL
 * (each in its own database), printed side by side with CPU per operation. Keycloak's distribution comes from Maven
 * Central ({@code org.keycloak:keycloak-quarkus-dist}, cached under {@code ~/.cache/sesame-bench}) and runs as it
 * ships ({@code kc.sh start}, production mode over plain HTTP on loopback, its default heap) on a JDK 21 or newer
 * ({@code KEYCLOAK_JAVA_HOME}, this JVM if new enough, or one found under /usr/lib/jvm). Its realm: a public client
 * with the password grant, refresh-token revocation on (each refresh token works once, as Sesame's rotation), users
 * with passwords (Keycloak's default hashing). Sign-in compares Keycloak's password grant with Sesame's passkey
 * sign-in (options + verify): each product's way in without a browser redirect.
 */
final class PeerBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String DEFAULT_VERSION = "26.4.7";

  private PeerBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || !args[0].equals("keycloak")) {
      throw new IllegalArgumentException("usage: peer keycloak [--version V] [--users N] [--seconds S] [--warmup S]");
    }
    Map<String, String> options = LoadBench.options(java.util.Arrays.copyOfRange(args, 1, args.length));
    String version = options.getOrDefault("version", DEFAULT_VERSION);
    int users = Integer.parseInt(options.getOrDefault("users", "64"));
    Duration seconds = Duration.ofSeconds(Long.parseLong(options.getOrDefault("seconds", "20")));
    Duration warmUp = Duration.ofSeconds(Long.parseLong(options.getOrDefault("warmup", "45")));
    Path jar = Path.of(options.getOrDefault("jar", "app/target/sesame.jar"));
    LoadBench.conscryptFirst();
    Path home = distribution(version);
    Path java = keycloakJava();

    List<LoadBench.Result> keycloak;
    List<LoadBench.Result> sesame;
    long keycloakReady;
    try (BenchDatabase db = BenchDatabase.start()) {
      try (Keycloak kc = Keycloak.start(home, java, db)) {
        keycloakReady = kc.readyMillis;
        System.err.printf("Keycloak %s ready in %,d ms; setting up the realm and %d users%n", version,
            kc.readyMillis, users);
        List<LoadBench.User> population = kc.realm(users);
        LoadBench bench = LoadBench.peer(kc.baseUrl, kc);
        keycloak = List.of(
            bench.run("Keycloak: password grant", population, warmUp, seconds, u -> kc.passwordGrant(bench, u)),
            bench.run("Keycloak: refresh (revocation on)", population, warmUp, seconds, u -> kc.refresh(bench, u)));
      }
      try (SmtpSink smtp = new SmtpSink();
           SesameProcess server = SesameProcess.start(jar, smtp.port(), "ES256", db.sesameSettings("sesame"))) {
        LoadBench bench = new LoadBench(server);
        List<LoadBench.User> population = bench.createUsers(users, smtp);
        sesame = bench.runAll(List.of("passkey", "refresh"), population, warmUp, seconds, "ES256");
      }
    }
    String report = LoadBench.header(users, seconds, warmUp)
        + "Keycloak " + version + " (kc.sh start, " + java + ", ready in " + keycloakReady
        + " ms) and Sesame, one after the other on the same PostgreSQL.\n\n" + sideBySide(keycloak, sesame)
        + "\n" + LoadBench.table(new ArrayList<>(List.of(keycloak.get(0), sesame.get(0), keycloak.get(1),
            sesame.get(1))));
    System.out.print(report);
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target", "peer-results.md"), report);
  }

  static String sideBySide(List<LoadBench.Result> keycloak, List<LoadBench.Result> sesame) {
    String[] names = {"sign-in (Keycloak: password grant; Sesame: passkey options + verify)",
        "refresh with rotation"};
    StringBuilder out = new StringBuilder("| operation | Keycloak | Sesame | CPU per op, Keycloak (server + PostgreSQL)"
        + " | CPU per op, Sesame (server + PostgreSQL) | server RSS MB, Keycloak / Sesame |\n"
        + "|---|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < 2; i++) {
      LoadBench.Result k = keycloak.get(i);
      LoadBench.Result s = sesame.get(i);
      out.append(String.format(Locale.ROOT,
          "| %s | %,.0f/s, p99 %.0f ms | %,.0f/s, p99 %.0f ms | %.2f + %.2f ms | %.2f + %.2f ms | %d / %d |%n",
          names[i], k.perSecond(), k.p99(), s.perSecond(), s.p99(), k.serverMs(), k.databaseMs(), s.serverMs(),
          s.databaseMs(), k.serverRssMb(), s.serverRssMb()));
    }
    return out.toString();
  }

  /** The unpacked distribution, downloaded from Maven Central once. */
  static Path distribution(String version) throws Exception {
    Path cache = Path.of(System.getProperty("user.home"), ".cache", "sesame-bench");
    Path home = cache.resolve("keycloak-" + version);
    if (Files.isRegularFile(home.resolve("bin/kc.sh"))) {
      return home;
    }
    Files.createDirectories(cache);
    Path archive = cache.resolve("keycloak-quarkus-dist-" + version + ".tar.gz");
    if (!Files.isRegularFile(archive)) {
      String url = "https://repo.maven.apache.org/maven2/org/keycloak/keycloak-quarkus-dist/" + version
          + "/keycloak-quarkus-dist-" + version + ".tar.gz";
      System.err.println("downloading " + url);
      HttpResponse<InputStream> r = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()
          .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofInputStream());
      if (r.statusCode() != 200) {
        throw new IOException(url + " → " + r.statusCode());
      }
      Path part = cache.resolve(archive.getFileName() + ".part");
      try (InputStream in = r.body()) {
        Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
      }
      Files.move(part, archive, StandardCopyOption.REPLACE_EXISTING);
    }
    Process tar = new ProcessBuilder("tar", "xzf", archive.toString(), "-C", cache.toString()).inheritIO().start();
    if (tar.waitFor() != 0 || !Files.isRegularFile(home.resolve("bin/kc.sh"))) {
      throw new IOException("could not unpack " + archive);
    }
    return home;
  }

  /** A JDK of version 21 or newer for Keycloak 26. */
  static Path keycloakJava() throws IOException {
    String configured = System.getenv("KEYCLOAK_JAVA_HOME");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    if (Runtime.version().feature() >= 21) {
      return Path.of(System.getProperty("java.home"));
    }
    try (var dirs = Files.list(Path.of("/usr/lib/jvm"))) {
      for (Path dir : dirs.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Path release = dir.resolve("release");
        if (Files.isRegularFile(dir.resolve("bin/java")) && Files.isRegularFile(release)) {
          java.util.regex.Matcher m = java.util.regex.Pattern.compile("JAVA_VERSION=\"(\\d+)")
              .matcher(Files.readString(release));
          if (m.find() && Integer.parseInt(m.group(1)) >= 21) {
            return dir;
          }
        }
      }
    } catch (java.nio.file.NoSuchFileException none) {
      // no system JVM directory
    }
    throw new IllegalStateException("Keycloak needs Java 21 or newer: set KEYCLOAK_JAVA_HOME");
  }

  /** Keycloak started from its distribution, its process measured like Sesame's. */
  static final class Keycloak implements AutoCloseable, LoadBench.Measured {
    private static final String ADMIN_PASSWORD = "bench-admin-password";
    private final Process process;
    final String baseUrl;
    long readyMillis;
    private final HttpClient http = HttpClient.newHttpClient();

    private Keycloak(Process process, String baseUrl) {
      this.process = process;
      this.baseUrl = baseUrl;
    }

    static Keycloak start(Path home, Path java, BenchDatabase db) throws Exception {
      int port = LoadBench.freePort();
      db.url("keycloak");
      Path log = Path.of("target", "bench-keycloak.log").toAbsolutePath();
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/kc.sh").toString(), "start",
          "--db=postgres", "--db-url=jdbc:postgresql://127.0.0.1:" + db.port() + "/keycloak",
          "--db-username=postgres", "--db-password=postgres", "--http-enabled=true", "--http-host=127.0.0.1",
          "--http-port=" + port, "--hostname-strict=false", "--cache=local")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
      pb.environment().put("JAVA_HOME", java.toString());
      pb.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
      pb.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD);
      long t0 = System.nanoTime();
      Keycloak kc = new Keycloak(pb.start(), "http://127.0.0.1:" + port);
      long deadline = t0 + TimeUnit.MINUTES.toNanos(5);
      while (System.nanoTime() < deadline) {
        if (!kc.process.isAlive()) {
          throw new IllegalStateException("Keycloak exited; see " + log);
        }
        try {
          if (kc.get("/realms/master").statusCode() == 200) {
            kc.readyMillis = (System.nanoTime() - t0) / 1_000_000;
            return kc;
          }
        } catch (IOException notYet) {
          // starting
        }
        Thread.sleep(250);
      }
      kc.close();
      throw new IllegalStateException("Keycloak not ready in 5 minutes; see " + log);
    }

    /** Realm "bench": a public client with the password grant, single-use refresh tokens, and the users. */
    List<LoadBench.User> realm(int count) throws Exception {
      String admin = JSON.readTree(post("/realms/master/protocol/openid-connect/token", null,
          "application/x-www-form-urlencoded", "grant_type=password&client_id=admin-cli&username=admin&password="
              + ADMIN_PASSWORD).body()).get("access_token").asText();
      expect(post("/admin/realms", admin, "application/json", JSON.writeValueAsString(Map.of(
          "realm", "bench", "enabled", true, "sslRequired", "none", "revokeRefreshToken", true,
          "refreshTokenMaxReuse", 0, "accessTokenLifespan", 300))), 201);
      expect(post("/admin/realms/bench/clients", admin, "application/json", JSON.writeValueAsString(Map.of(
          "clientId", "bench", "publicClient", true, "directAccessGrantsEnabled", true,
          "standardFlowEnabled", false))), 201);
      List<LoadBench.User> users = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        LoadBench.User user = new LoadBench.User("user" + i + "@example.com", null);
        user.password = "pw-" + java.util.UUID.randomUUID();
        expect(post("/admin/realms/bench/users", admin, "application/json", JSON.writeValueAsString(Map.of(
            "username", "user" + i, "email", user.email, "emailVerified", true, "enabled", true,
            "firstName", "Load", "lastName", "User" + i, "credentials", List.of(Map.of("type", "password",
                "value", user.password, "temporary", false))))), 201);
        users.add(user);
      }
      // The realm is what the comparison claims: a spent refresh token is refused.
      LoadBench.User first = users.get(0);
      String grant = "grant_type=password&client_id=bench&scope=openid&username=user0&password=" + enc(first.password);
      String spent = JSON.readTree(post(TOKEN, null, FORM, grant).body()).get("refresh_token").asText();
      expect(post(TOKEN, null, FORM, "grant_type=refresh_token&client_id=bench&refresh_token=" + enc(spent)), 200);
      expect(post(TOKEN, null, FORM, "grant_type=refresh_token&client_id=bench&refresh_token=" + enc(spent)), 400);
      return users;
    }

    private static final String TOKEN = "/realms/bench/protocol/openid-connect/token";
    private static final String FORM = "application/x-www-form-urlencoded";

    void passwordGrant(LoadBench bench, LoadBench.User user) throws Exception {
      JsonNode tokens = bench.form(TOKEN, "grant_type=password&client_id=bench&scope=openid&username="
          + enc(user.email.replace("@example.com", "")) + "&password=" + enc(user.password));
      user.accessToken = tokens.get("access_token").asText();
      user.refreshToken = tokens.get("refresh_token").asText();
    }

    void refresh(LoadBench bench, LoadBench.User user) throws Exception {
      JsonNode tokens = bench.form(TOKEN, "grant_type=refresh_token&client_id=bench&refresh_token="
          + enc(user.refreshToken));
      user.refreshToken = tokens.get("refresh_token").asText();
      user.accessToken = tokens.get("access_token").asText();
    }

    private static String enc(String s) {
      return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private HttpResponse<String> get(String path) throws Exception {
      return http.send(HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String bearer, String type, String body) throws Exception {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).header("Content-Type", type)
          .POST(HttpRequest.BodyPublishers.ofString(body));
      if (bearer != null) {
        b.header("Authorization", "Bearer " + bearer);
      }
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void expect(HttpResponse<String> r, int status) {
      if (r.statusCode() != status) {
        throw new IllegalStateException(r.request().uri() + " → " + r.statusCode() + " " + r.body());
      }
    }

    @Override
    public SesameProcess.Usage usage() {
      long ticks = SesameProcess.ticks(process.pid())
          + process.descendants().mapToLong(h -> SesameProcess.ticks(h.pid())).sum();
      return new SesameProcess.Usage(ticks, SesameProcess.rssKb(process.pid()), BenchDatabase.ticks());
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
