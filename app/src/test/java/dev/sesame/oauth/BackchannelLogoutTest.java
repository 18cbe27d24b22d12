package dev.sesame.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.openid.connect.sdk.claims.LogoutTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.validators.LogoutTokenValidator;
import com.sun.net.httpserver.HttpServer;
import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import dev.sesame.support.TestServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * OpenID Connect Back-Channel Logout 1.0 with a real receiver on loopback and a real validator on the other side
 * (nimbus {@link LogoutTokenValidator}: signature by JWKS, iss, aud, iat, jti, events, sid/sub, no nonce): RP-initiated
 * logout, single logout of the sessions apps got from one sign-in, retries while the receiver fails.
 */
class BackchannelLogoutTest {
  @RegisterExtension
  // The receiver is on loopback, which Sesame calls only when private networks are allowed (as for webhooks).
  static final SesameServer sesame = SesameServer.with(Map.of("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true"));
  @RegisterExtension
  static final SesameServer strict = SesameServer.withDefaults();
  static HttpServer receiver;
  static final Map<String, BlockingQueue<String>> RECEIVED = Map.of("/app-a", new LinkedBlockingQueue<>(),
      "/app-b", new LinkedBlockingQueue<>(), "/race", new LinkedBlockingQueue<>(), "/flaky", new LinkedBlockingQueue<>());
  static final AtomicInteger FAILURES_LEFT = new AtomicInteger();
  static final AtomicInteger FLAKY_CALLS = new AtomicInteger();
  static final AtomicInteger SLOW_CALLS = new AtomicInteger();
  static Clients clients;
  static Map<String, String> secrets = new java.util.HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.setExecutor(java.util.concurrent.Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "logout-receiver");
      t.setDaemon(true);
      return t;
    }));
    receiver.createContext("/slow", exchange -> {
      // 200 at once, then the body a byte a second: a sender that waits for it all is stuck for minutes.
      exchange.getRequestBody().readAllBytes();
      SLOW_CALLS.incrementAndGet();
      exchange.sendResponseHeaders(200, 600);
      try (java.io.OutputStream out = exchange.getResponseBody()) {
        for (int i = 0; i < 600; i++) {
          out.write('.');
          out.flush();
          Thread.sleep(1000);
        }
      } catch (IOException | InterruptedException cutOff) {
        // Sesame gave up on us
      }
    });
    receiver.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      int status = 200;
      if (path.equals("/flaky")) {
        FLAKY_CALLS.incrementAndGet();
        if (FAILURES_LEFT.getAndDecrement() > 0) {
          status = 503;
        }
      }
      if (status == 200 && body.startsWith("logout_token=")) {
        RECEIVED.get(path).add(URLDecoder.decode(body.substring("logout_token=".length()), StandardCharsets.UTF_8));
      }
      exchange.getResponseHeaders().add("Cache-Control", "no-store");
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    receiver.start();
    clients = new Clients(sesame.jdbi(), "default");
    for (String name : List.of("app-a", "app-b", "race", "flaky", "quiet", "slow")) {
      Map<String, Object> metadata = new java.util.HashMap<>(Map.of("client_id", name, "redirect_uris",
          List.of("https://" + name + ".example/cb"), "post_logout_redirect_uris",
          List.of("https://" + name + ".example/bye"), "grant_types",
          List.of("authorization_code", "refresh_token")));
      if (!name.equals("quiet")) {
        metadata.put("backchannel_logout_uri", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/" + name);
      }
      secrets.put(name, clients.create(metadata, Client.Source.MANAGED).secret().orElseThrow());
    }
  }

  @AfterAll
  static void stop() {
    receiver.stop(0);
  }

  /** The hosted pages' session of a fresh person (cookie). */
  static String browser() {
    return OpenIdConnectLibraryTest.browserSessionOn(sesame, "bc-" + UUID.randomUUID().toString().substring(0, 8)
        + "@example.com");
  }

  /** Single sign-on from the browser's session into {@code client}: its token response. */
  static Http.Response signInTo(String client, String cookie) {
    String callback = "https://" + client + ".example/cb";
    Http.Response r = sesame.http().get("/authorize?response_type=code&scope=openid&client_id=" + client
        + "&redirect_uri=" + callback, "Cookie", cookie);
    assertEquals(302, r.status(), r.body());
    String code = r.header("Location").replaceAll(".*[?&]code=([^&]+).*", "$1");
    Http.Response tokens = sesame.http().post("/v1/token", "grant_type=authorization_code&code=" + code
        + "&redirect_uri=" + callback, "Content-Type", "application/x-www-form-urlencoded",
        "Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString((client + ":"
            + secrets.get(client)).getBytes(StandardCharsets.UTF_8)));
    assertEquals(200, tokens.status(), tokens.body());
    return tokens;
  }

  static LogoutTokenClaimsSet validated(String client, String token) throws Exception {
    LogoutTokenValidator validator = new LogoutTokenValidator(new Issuer(sesame.url()), new ClientID(client),
        JWSAlgorithm.RS256, URI.create(sesame.url() + "/.well-known/jwks.json").toURL());
    return validator.validate(JWTParser.parse(token));
  }

  static String sid(Http.Response tokens) throws Exception {
    return SignedJWT.parse(tokens.json().get("id_token").asText()).getJWTClaimsSet().getStringClaim("sid");
  }

  static boolean refreshes(String client, Http.Response tokens) {
    return sesame.http().post("/v1/token", "grant_type=refresh_token&refresh_token="
        + tokens.json().get("refresh_token").asText(), "Content-Type", "application/x-www-form-urlencoded",
        "Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString((client + ":"
            + secrets.get(client)).getBytes(StandardCharsets.UTF_8))).status() == 200;
  }

  @Test
  void rp_initiated_logout_notifies_the_client_with_a_valid_logout_token() throws Exception {
    Http.Response tokens = signInTo("app-a", browser());
    String idToken = tokens.json().get("id_token").asText();
    Http.Response out = sesame.http().get("/logout?id_token_hint=" + idToken
        + "&post_logout_redirect_uri=https://app-a.example/bye");
    assertEquals(302, out.status(), out.body());
    String token = RECEIVED.get("/app-a").poll(20, TimeUnit.SECONDS);
    assertNotNull(token, "the logout token arrived");
    LogoutTokenClaimsSet claims = validated("app-a", token);
    assertEquals(sid(tokens), claims.getSessionID().getValue());
    assertEquals(SignedJWT.parse(idToken).getJWTClaimsSet().getSubject(), claims.getSubject().getValue());
    assertEquals("logout+jwt", SignedJWT.parse(token).getHeader().getType().toString());
    assertNull(SignedJWT.parse(token).getJWTClaimsSet().getClaim("nonce"), "§2.4: never a nonce");
    // Another client's validator refuses it (aud), and it is no ID token hint.
    assertTrue(assertThrowsBad(() -> validated("app-b", token)));
    assertEquals(400, sesame.http().get("/logout?id_token_hint=" + token).status());
  }

  static boolean assertThrowsBad(java.util.concurrent.Callable<?> call) {
    try {
      call.call();
      return false;
    } catch (Exception expected) {
      return true;
    }
  }

  @Test
  void signing_out_of_sesame_ends_the_sessions_apps_got_from_that_sign_in_and_tells_them() throws Exception {
    String cookie = browser();
    Http.Response atA = signInTo("app-a", cookie);
    Http.Response atB = signInTo("app-b", cookie);
    Http.Response atQuiet = signInTo("quiet", cookie);
    String otherCookie = browser(); // someone else's sign-in is untouched
    Http.Response otherAtA = signInTo("app-a", otherCookie);
    assertTrue(refreshes("app-a", atA) && refreshes("app-b", atB) && refreshes("quiet", atQuiet));

    Http.Response logout = sesame.http().post("/v1/sessions/logout", "", "Cookie", cookie, "Origin", sesame.url(),
        "X-Sesame-CSRF", "1");
    assertEquals(204, logout.status(), logout.body());
    assertEquals(sid(atA), validated("app-a", RECEIVED.get("/app-a").poll(20, TimeUnit.SECONDS)).getSessionID().getValue());
    assertEquals(sid(atB), validated("app-b", RECEIVED.get("/app-b").poll(20, TimeUnit.SECONDS)).getSessionID().getValue());
    for (Http.Response ended : List.of(atA, atB, atQuiet)) { // quiet has no back channel: ended all the same
      assertEquals(401, sesame.http().get("/v1/userinfo", "Authorization", "Bearer "
          + ended.json().get("access_token").asText()).status());
    }
    assertEquals(200, sesame.http().get("/v1/userinfo", "Authorization", "Bearer "
        + otherAtA.json().get("access_token").asText()).status());
    int quietNotices = sesame.jdbi().withHandle(h -> h.createQuery(
        "SELECT count(*) FROM logout_notices WHERE client_id = 'quiet'").mapTo(Integer.class).one());
    assertEquals(0, quietNotices);
    assertTrue(refreshes("app-a", otherAtA), "another person's session at the same app goes on");
    assertNull(RECEIVED.get("/app-a").poll(1, TimeUnit.SECONDS), "and nobody told app a otherwise");
  }

  @Test
  void a_failing_receiver_gets_the_notice_again_until_it_takes_it() throws Exception {
    FAILURES_LEFT.set(2);
    FLAKY_CALLS.set(0);
    Http.Response tokens = signInTo("flaky", browser());
    assertEquals(200, sesame.http().post("/v1/revoke", "token=" + tokens.json().get("refresh_token").asText(),
        "Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic "
            + java.util.Base64.getEncoder().encodeToString(("flaky:" + secrets.get("flaky"))
            .getBytes(StandardCharsets.UTF_8))).status());
    String token = RECEIVED.get("/flaky").poll(30, TimeUnit.SECONDS);
    assertNotNull(token, "delivered after two refusals (503)");
    assertEquals(3, FLAKY_CALLS.get());
    assertEquals(sid(tokens), validated("flaky", token).getSessionID().getValue());
    Map<String, Object> row = sesame.jdbi().withHandle(h -> h.createQuery(
            "SELECT attempts, delivered_at IS NOT NULL AS delivered, last_error FROM logout_notices "
                + "WHERE client_id = 'flaky'").mapToMap().one());
    assertEquals(3, row.get("attempts"));
    assertEquals(true, row.get("delivered"));
    assertNull(row.get("last_error"));
  }

  @Test
  void discovery_says_back_channel_logout_is_supported() {
    var m = sesame.http().get("/.well-known/openid-configuration").json();
    assertTrue(m.get("backchannel_logout_supported").asBoolean());
    assertTrue(m.get("backchannel_logout_session_supported").asBoolean());
  }


  @Test
  void senders_on_several_nodes_deliver_each_notice_once() throws Exception {
    // 24 sessions of client "race" end at once (written as the ending transactions write them); the server's own
    // sender and two more, as other nodes would run them, race for the notices.
    int count = 24;
    sesame.jdbi().useHandle(h -> {
      for (int i = 0; i < count; i++) {
        h.execute("INSERT INTO logout_notices (client_id, uri, user_id, session_id) SELECT client_id, "
            + "backchannel_logout_uri, gen_random_uuid(), gen_random_uuid() FROM oauth_clients WHERE client_id = 'race'");
      }
    });
    dev.sesame.tokens.IdTokens idTokens = new dev.sesame.tokens.IdTokens(
        dev.sesame.support.TestServer.signingKeys(sesame.server()), sesame.url(), java.time.Duration.ofMinutes(5));
    dev.sesame.outbound.Destinations loopbackAllowed = new dev.sesame.outbound.Destinations(true);
    BackchannelLogout otherNode = new BackchannelLogout(sesame.jdbi(), idTokens, loopbackAllowed);
    BackchannelLogout thirdNode = new BackchannelLogout(sesame.jdbi(), idTokens, loopbackAllowed);
    dev.sesame.support.Parallel.run(List.of(otherNode::deliverDue, thirdNode::deliverDue, otherNode::deliverDue,
        thirdNode::deliverDue));
    java.util.Set<String> sids = new java.util.HashSet<>();
    for (int i = 0; i < count; i++) {
      String token = RECEIVED.get("/race").poll(20, TimeUnit.SECONDS);
      assertNotNull(token, "notice " + i);
      sids.add(validated("race", token).getSessionID().getValue());
    }
    assertEquals(count, sids.size(), "every session's notice");
    assertNull(RECEIVED.get("/race").poll(2, TimeUnit.SECONDS), "and none twice");
    int undelivered = sesame.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM logout_notices "
        + "WHERE client_id = 'race' AND delivered_at IS NULL").mapTo(Integer.class).one());
    assertEquals(0, undelivered);
  }

  @Test
  void code_exchanges_racing_a_sign_out_leave_no_app_session_of_it() throws Exception {
    for (int round = 0; round < 4; round++) {
      String cookie = browser();
      List<String> codes = new java.util.ArrayList<>();
      for (int i = 0; i < 6; i++) {
        Http.Response r = sesame.http().get("/authorize?response_type=code&scope=openid&client_id=quiet"
            + "&redirect_uri=https://quiet.example/cb", "Cookie", cookie);
        assertEquals(302, r.status(), r.body());
        codes.add(r.header("Location").replaceAll(".*[?&]code=([^&]+).*", "$1"));
      }
      String root = SignedJWT.parse(cookie.substring(cookie.indexOf('=') + 1)).getJWTClaimsSet().getStringClaim("sid");
      List<java.util.concurrent.Callable<Integer>> calls = new java.util.ArrayList<>();
      for (String code : codes) {
        calls.add(() -> sesame.http().post("/v1/token", "grant_type=authorization_code&code=" + code
            + "&redirect_uri=https://quiet.example/cb", "Content-Type", "application/x-www-form-urlencoded",
            "Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(("quiet:" + secrets.get("quiet"))
                .getBytes(StandardCharsets.UTF_8))).status());
      }
      calls.add(() -> sesame.http().post("/v1/sessions/logout", "", "Cookie", cookie, "Origin", sesame.url(),
          "X-Sesame-CSRF", "1").status());
      List<Integer> statuses = dev.sesame.support.Parallel.run(calls);
      assertEquals(204, statuses.get(6));
      int live = sesame.jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM sessions "
          + "WHERE (id = CAST(:root AS uuid) OR origin_session_id = CAST(:root AS uuid)) AND revoked_at IS NULL")
          .bind("root", root).mapTo(Integer.class).one());
      assertEquals(0, live, "round " + round + ": an app session outlived the sign-in it came from: " + statuses);
    }
  }

  @Test
  void a_receiver_that_trickles_its_answer_holds_up_no_other_client_and_is_cut_off() throws Exception {
    // One sign-in, two apps: the slow one's notice is written first.
    String cookie = browser();
    Http.Response slow = signInTo("slow", cookie);
    Http.Response fast = signInTo("app-b", cookie);
    RECEIVED.get("/app-b").clear();
    int before = SLOW_CALLS.get();
    assertEquals(204, sesame.http().post("/v1/sessions/logout", Map.of(), "Cookie", cookie, "Origin", sesame.url(),
        "X-Sesame-CSRF", "1").status());
    String token = RECEIVED.get("/app-b").poll(8, TimeUnit.SECONDS);
    assertNotNull(token, "the other app is told while the slow one still trickles");
    assertEquals(sid(fast), validated("app-b", token).getSessionID().getValue());
    // The slow receiver is cut off at the whole exchange's time limit and the notice stays due (it is retried).
    String sid = sid(slow);
    String error = null;
    for (int i = 0; i < 40 && error == null; i++) {
      Thread.sleep(500);
      error = sesame.jdbi().withHandle(h -> h.createQuery("SELECT last_error FROM logout_notices "
          + "WHERE session_id = CAST(:sid AS uuid)").bind("sid", sid).mapTo(String.class).findOne().orElse(null));
    }
    assertTrue(SLOW_CALLS.get() > before, "the slow receiver was called");
    assertNotNull(error, "the slow exchange ended in failure");
    assertTrue(error.contains("no complete answer"), error);
  }

  @Test
  void back_channel_addresses_follow_the_webhooks_ssrf_rules() {
    TestServer.CliResult key = TestServer.cli(strict.server(), "service-key", "create", "bc-writer", "--scopes",
        "clients:write");
    assertEquals(0, key.status(), key.stderr());
    String[] auth = {"Authorization", "Bearer " + key.stdout().strip()};
    int i = 0;
    for (String uri : List.of("http://127.0.0.1:5432/", "https://127.0.0.1/logout", "https://169.254.169.254/x",
        "https://10.0.0.7/x", "https://192.168.1.1/x", "https://172.16.0.1/x", "https://[::1]/x",
        "https://[fd00::1]/x", "https://[fe80::1]/x", "https://[::ffff:127.0.0.1]/x", "https://[64:ff9b::7f00:1]/x",
        "https://[64:ff9b::a9fe:a9fe]/x", "https://[2002:7f00:1::]/x", "https://[2001:0:4136:e378::1]/x",
        "https://198.18.0.1/x", "https://192.0.0.8/x", "https://100.64.0.1/x", "https://0.0.0.0/x",
        "http://203.0.113.9/x")) {
      Http.Response r = strict.http().post("/admin/v1/clients", Map.of("client_id", "bc-" + i++, "redirect_uris",
          List.of("https://bc.example/cb"), "backchannel_logout_uri", uri), auth);
      assertEquals(400, r.status(), uri + ": " + r.body());
      assertTrue(r.body().contains("backchannel_logout_uri"), r.body());
    }
    Http.Response ok = strict.http().post("/admin/v1/clients", Map.of("client_id", "bc-public", "redirect_uris",
        List.of("https://bc.example/cb"), "backchannel_logout_uri", "https://93.184.215.14/logout"), auth);
    assertEquals(201, ok.status(), ok.body());
  }
}
