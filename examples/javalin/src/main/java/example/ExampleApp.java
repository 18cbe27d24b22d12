package example;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.JWTClaimsSet;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import io.javalin.http.UnauthorizedResponse;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Javalin backend that accepts Sesame access tokens, verified offline with nimbus-jose-jwt and a cached JWKS.
 *
 * <pre>SESAME_URL=http://localhost:8080 APP_URL=http://localhost:7000 java -jar sesame-example-javalin.jar</pre>
 */
public final class ExampleApp {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SesameTokenVerifier verifier;
  private final String sesameUrl;
  private final String appUrl;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Map<String, Map<String, String>> sessions = new ConcurrentHashMap<>();

  ExampleApp(String sesameUrl, String issuer, String audience, String appUrl) throws Exception {
    this.sesameUrl = sesameUrl;
    this.appUrl = appUrl;
    // Conscrypt verifies ES256 about 20x faster than the JDK. Give it to the verifier only: installed first
    // JVM-wide, it would also take over TLS and key parameters.
    verifier = new SesameTokenVerifier(URI.create(sesameUrl + "/.well-known/jwks.json").toURL(), issuer, audience,
        conscrypt());
  }

  static Provider conscrypt() {
    try {
      if (org.conscrypt.Conscrypt.isAvailable()) {
        return org.conscrypt.Conscrypt.newProvider();
      }
    } catch (LinkageError e) {
      // no native library for this platform: the JDK's provider is used
    }
    return null;
  }

  Javalin app() {
    return Javalin.create(config -> {
      config.startup.showJavalinBanner = false;
      config.routes.before("/api/*", this::requireSignIn);
      config.routes.get("/api/user", ctx -> {
        JWTClaimsSet claims = ctx.attribute("claims");
        ctx.json(Map.of("id", claims.getSubject(), "email", claims.getStringClaim("email")));
      });
      config.routes.get("/login", this::login);
      config.routes.get("/callback", this::callback);
      config.routes.get("/", ctx -> ctx.html(session(ctx).containsKey("access_token") ? "Signed in."
          : "<a href=\"/login\">Sign in</a>"));
    });
  }

  private void requireSignIn(Context ctx) {
    String header = ctx.header("Authorization");
    String token = header != null && header.startsWith("Bearer ") ? header.substring(7)
        : session(ctx).get("access_token");
    if (token == null) {
      throw new UnauthorizedResponse("sign in first");
    }
    try {
      ctx.attribute("claims", verifier.verify(token));
    } catch (Exception e) {
      throw new UnauthorizedResponse("invalid token");
    }
  }

  private void login(Context ctx) throws Exception {
    Map<String, String> s = session(ctx);
    String verifierValue = random(48);
    s.put("verifier", verifierValue);
    s.put("state", random(16));
    String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(verifierValue.getBytes(StandardCharsets.US_ASCII)));
    ctx.redirect(sesameUrl + "/login?redirectTo=" + enc(appUrl + "/callback") + "&state=" + enc(s.get("state"))
        + "&code_challenge=" + challenge + "&code_challenge_method=S256");
  }

  private void callback(Context ctx) throws Exception {
    Map<String, String> s = session(ctx);
    String state = s.remove("state");
    String verifierValue = s.remove("verifier");
    if (state == null || !state.equals(ctx.queryParam("state")) || verifierValue == null) {
      ctx.status(400).result("bad state");
      return;
    }
    String form = "grant_type=authorization_code&code=" + enc(String.valueOf(ctx.queryParam("code")))
        + "&redirect_uri=" + enc(appUrl + "/callback") + "&code_verifier=" + enc(verifierValue);
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(sesameUrl + "/v1/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      ctx.status(401).result("sign-in failed");
      return;
    }
    JsonNode tokens = JSON.readTree(response.body());
    s.put("access_token", tokens.get("access_token").asText());
    ctx.redirect("/");
  }

  /** A tiny in-memory session behind an HttpOnly cookie (use a real session store in production). */
  private Map<String, String> session(Context ctx) {
    String id = ctx.cookie("app_session");
    if (id == null || !sessions.containsKey(id)) {
      id = random(32);
      sessions.put(id, new ConcurrentHashMap<>());
      ctx.cookie(new Cookie("app_session", id, "/", -1, appUrl.startsWith("https://"), true, null, SameSite.LAX));
    }
    return sessions.get(id);
  }

  private static String random(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    String sesameUrl = System.getenv().getOrDefault("SESAME_URL", "http://localhost:8080").replaceAll("/+$", "");
    String issuer = System.getenv().getOrDefault("SESAME_ISSUER", sesameUrl);
    String audience = System.getenv().getOrDefault("SESAME_AUDIENCE", issuer);
    String appUrl = System.getenv().getOrDefault("APP_URL", "http://localhost:7000").replaceAll("/+$", "");
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "7000"));
    new ExampleApp(sesameUrl, issuer, audience, appUrl).app().start("127.0.0.1", port);
  }
}
