package dev.sesame.passkeys;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.config.Config;
import dev.sesame.config.ConfigException;
import dev.sesame.support.Account;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SesameServer;
import dev.sesame.support.SoftwareAuthenticator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Native apps on the same passkeys: the association files iOS and Android fetch, and Android's
 * {@code android:apk-key-hash:} origins, accepted for the listed apps' signing keys only.
 */
class NativeAppsTest {
  static final String RELEASE = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5";
  static final String DEBUG = "FA:C6:17:45:DC:09:03:78:6F:B9:ED:E6:2A:96:2B:39:9F:73:48:F0:BB:6F:89:9B:83:32:66:75:91:03:3B:9C";
  static final String STRANGER = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
  static final Pattern APP_ID = Pattern.compile("[A-Z0-9]{10}\\.[A-Za-z0-9.-]+");
  static final Pattern FINGERPRINT = Pattern.compile("([0-9A-F]{2}:){31}[0-9A-F]{2}");

  @RegisterExtension
  static final SesameServer sesame = SesameServer.with(Map.of(
      "SESAME_APPLE_APP_IDS", "ABCDE12345.com.acme.notes,ABCDE12345.com.acme.notes.beta",
      "SESAME_ANDROID_APPS", "com.acme.notes=" + RELEASE + ",com.acme.notes=" + DEBUG.toLowerCase()));

  @RegisterExtension
  static final SesameServer plain = SesameServer.withDefaults();

  static String origin(String fingerprint) {
    return "android:apk-key-hash:" + Base64.getUrlEncoder().withoutPadding()
        .encodeToString(HexFormat.ofDelimiter(":").parseHex(fingerprint.toLowerCase()));
  }

  /** Apple: a JSON object, {"webcredentials": {"apps": ["TEAMID.bundle.id", …]}}, served as application/json. */
  @Test
  void the_apple_app_site_association_lists_the_ios_apps_for_web_credentials() {
    Http.Response r = sesame.http().get("/.well-known/apple-app-site-association");
    assertEquals(200, r.status());
    assertTrue(r.header("Content-Type").startsWith("application/json"), r.header("Content-Type"));
    JsonNode doc = r.json();
    assertEquals(List.of("webcredentials"), names(doc));
    assertEquals(List.of("apps"), names(doc.get("webcredentials")));
    List<String> apps = new ArrayList<>();
    doc.at("/webcredentials/apps").forEach(a -> apps.add(a.asText()));
    assertEquals(List.of("ABCDE12345.com.acme.notes", "ABCDE12345.com.acme.notes.beta"), apps);
    apps.forEach(a -> assertTrue(APP_ID.matcher(a).matches(), a));
    assertProblem(plain.http().get("/.well-known/apple-app-site-association"), 404, "not_found");
  }

  /**
   * Google: an array of statements {"relation": [...], "target": {"namespace": "android_app", "package_name",
   * "sha256_cert_fingerprints": ["AB:CD:…"]}}, with the relation passkeys need.
   */
  @Test
  void asset_links_list_the_android_apps_with_their_certificate_fingerprints() {
    Http.Response r = sesame.http().get("/.well-known/assetlinks.json");
    assertEquals(200, r.status());
    assertTrue(r.header("Content-Type").startsWith("application/json"));
    JsonNode statements = r.json();
    assertTrue(statements.isArray());
    assertEquals(1, statements.size(), "one statement per package");
    JsonNode statement = statements.get(0);
    assertEquals(List.of("relation", "target"), names(statement));
    assertEquals("[\"delegate_permission/common.get_login_creds\"]", statement.get("relation").toString());
    JsonNode target = statement.get("target");
    assertEquals(List.of("namespace", "package_name", "sha256_cert_fingerprints"), names(target));
    assertEquals("android_app", target.get("namespace").asText());
    assertEquals("com.acme.notes", target.get("package_name").asText());
    List<String> fingerprints = new ArrayList<>();
    target.get("sha256_cert_fingerprints").forEach(f -> fingerprints.add(f.asText()));
    assertEquals(List.of(RELEASE, DEBUG), fingerprints, "upper case, as Google's tools write them");
    fingerprints.forEach(f -> assertTrue(FINGERPRINT.matcher(f).matches(), f));
    assertProblem(plain.http().get("/.well-known/assetlinks.json"), 404, "not_found");
  }

  @Test
  void an_android_app_registers_and_signs_in_with_its_own_origin_and_a_stranger_app_cannot() {
    Http http = sesame.http();
    PasskeyClient passkeys = new PasskeyClient(http);
    Account account = Account.signUp(http);
    SoftwareAuthenticator phone = passkeys.registerNewDevice(account, origin(RELEASE));
    assertEquals(200, passkeys.signIn(phone, account.email()).status(), "the release build");
    phone.origin = origin(DEBUG);
    assertEquals(200, passkeys.signIn(phone, null).status(), "the debug build (its key is listed too)");

    phone.origin = origin(STRANGER);
    assertProblem(passkeys.signIn(phone, account.email()), 401, "origin_mismatch");
    SoftwareAuthenticator repackaged = new SoftwareAuthenticator(origin(STRANGER));
    assertProblem(passkeys.register(account.accessToken(), repackaged), 400, "origin_mismatch");
    // A server that lists no apps accepts no app origin.
    Account elsewhere = Account.signUp(plain.http());
    assertProblem(new PasskeyClient(plain.http()).register(elsewhere.accessToken(),
        new SoftwareAuthenticator(origin(RELEASE))), 400, "origin_mismatch");
  }

  @Test
  void malformed_app_settings_stop_start_up_naming_the_variable() {
    for (String bad : List.of("com.acme.notes", "abcde12345.com.acme", "ABCDE12345")) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> Config.load(Map.of("SESAME_APPLE_APP_IDS", bad)), bad);
      assertTrue(e.getMessage().startsWith("SESAME_APPLE_APP_IDS:"), e.getMessage());
    }
    for (String bad : List.of("com.acme.notes", "com.acme.notes=14:6D", "notes=" + RELEASE, "com.acme=" + RELEASE + ":00")) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> Config.load(Map.of("SESAME_ANDROID_APPS", bad)), bad);
      assertTrue(e.getMessage().startsWith("SESAME_ANDROID_APPS:"), e.getMessage());
    }
  }

  private static List<String> names(JsonNode node) {
    List<String> out = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }
}
