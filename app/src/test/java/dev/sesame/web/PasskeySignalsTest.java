package dev.sesame.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import dev.sesame.support.Browsers;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.TestServer;
import dev.sesame.support.VirtualAuthenticator;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The WebAuthn Signal API in Chromium with its virtual authenticator: the device's password manager drops a passkey
 * an administrator removed at the next sign-in (signalAllAcceptedCredentials), and learns the new address after an
 * email change (signalCurrentUserDetails).
 */
class PasskeySignalsTest {
  static final Pattern CHANGE_LINK = Pattern.compile("/email/change\\?token=([A-Za-z0-9_-]+)");
  static TestServer sesame;
  static Http http;
  static Browsers browsers;
  static String[] operator;

  @BeforeAll
  static void start() {
    sesame = TestServer.startOnLocalhost(Map.of("SESAME_RP_NAME", "Acme Notes"));
    http = sesame.http();
    browsers = Browsers.launch();
    TestServer.CliResult key = TestServer.cli(sesame, "service-key", "create", "ops", "--scopes",
        "users:read,users:write");
    assertEquals(0, key.status(), key.stderr());
    operator = new String[] {"Authorization", "Bearer " + key.stdout().strip()};
  }

  @AfterAll
  static void stop() {
    if (browsers != null) {
      browsers.close();
    }
    if (sesame != null) {
      sesame.close();
    }
  }

  static String newEmail() {
    return "s-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
  }

  /** On the hosted pages: email, the code from the development mailbox, then whatever the page offers next. */
  static void emailSignIn(Page page, String email) {
    page.navigate(sesame.url() + "/login");
    page.fill("sesame-auth[data-ready] #email", email);
    page.click("sesame-auth button.primary");
    page.waitForSelector("sesame-auth #code");
    page.fill("sesame-auth #code", DevMailbox.latestCode(http, email));
    page.click("sesame-auth button.primary");
  }

  /** A passkey sign-in by this page's client, its options naming the account's passkeys (the server's list). */
  static void passkeySignIn(Page page, String email) {
    page.evaluate("async (email) => { const { sesame } = await import('/assets/sesame.js');"
        + " await sesame().signInWithPasskey({ email }); }", email);
  }

  static JsonNode user(String email) {
    JsonNode list = http.get("/admin/v1/users?email=" + email, operator).json().get("users");
    assertEquals(1, list.size(), list.toString());
    return http.get("/admin/v1/users/" + list.get(0).get("id").asText(), operator).json();
  }

  static JsonArray waitForCredentials(VirtualAuthenticator device, int count) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    JsonArray credentials = device.credentials();
    while (credentials.size() != count && System.nanoTime() < deadline) {
      Thread.sleep(100);
      credentials = device.credentials();
    }
    return credentials;
  }

  @Test
  void a_passkey_an_administrator_removed_leaves_the_device_at_the_next_sign_in() throws Exception {
    String email = newEmail();
    try (BrowserContext laptop = browsers.desktop(); BrowserContext tablet = browsers.desktop()) {
      // Passkey A on this device, by the sign-up's offer.
      Page page = laptop.newPage();
      VirtualAuthenticator device = VirtualAuthenticator.attach(page);
      emailSignIn(page, email);
      page.click("sesame-auth #create-passkey");
      page.waitForURL("**/account**");
      page.waitForSelector("sesame-profile li");
      String a = device.credentials().get(0).getAsJsonObject().get("credentialId").getAsString();

      // Passkey B made on another device, and synced to a second authenticator here (a password manager beside the
      // platform's: one authenticator holds one passkey per account).
      Page other = tablet.newPage();
      VirtualAuthenticator otherDevice = VirtualAuthenticator.attach(other);
      emailSignIn(other, email);
      other.waitForURL("**/account**");
      other.click("sesame-profile #add-passkey");
      other.waitForSelector("sesame-profile li:nth-child(2)");
      VirtualAuthenticator passwordManager = VirtualAuthenticator.attach(page, true, "usb");
      passwordManager.add(otherDevice.credentials().get(0).getAsJsonObject());
      assertEquals(1, device.credentials().size());
      assertEquals(1, passwordManager.credentials().size());

      // An operator removes B (a lost tablet).
      JsonNode person = user(email);
      assertEquals(2, person.get("passkeys").size());
      String bId = person.get("passkeys").get(1).get("id").asText(); // listed oldest first
      assertEquals(204, http.send("DELETE", "/admin/v1/users/" + person.at("/user/id").asText() + "/passkeys/" + bId,
          null, operator).status());

      // The next sign-in here: the answer lists A alone, and B leaves the password manager; A stays.
      passkeySignIn(page, email);
      JsonArray dropped = waitForCredentials(passwordManager, 0);
      assertEquals(0, dropped.size(), "the removed passkey is gone from the device: " + dropped);
      JsonArray left = device.credentials();
      assertEquals(1, left.size());
      assertEquals(a, left.get(0).getAsJsonObject().get("credentialId").getAsString());
      Browsers.screenshot(page, "signals/after-sign-in");
    }
  }

  @Test
  void after_an_email_change_the_account_page_gives_the_device_the_new_address() throws Exception {
    String email = newEmail();
    String newEmail = newEmail();
    try (BrowserContext laptop = browsers.desktop()) {
      Page page = laptop.newPage();
      VirtualAuthenticator device = VirtualAuthenticator.attach(page);
      emailSignIn(page, email);
      page.click("sesame-auth #create-passkey");
      page.waitForURL("**/account**");
      JsonObject before = device.credentials().get(0).getAsJsonObject();
      page.waitForSelector("sesame-profile li"); // the account page has listed (and signalled) its passkeys
      assertEquals(email, before.get("userName").getAsString(), "Chromium keeps the passkey's user name");

      // An operator changes the address; the person confirms it from the new mailbox.
      JsonNode person = user(email);
      assertEquals(202, http.post("/admin/v1/users/" + person.at("/user/id").asText() + "/email",
          Map.of("email", newEmail), operator).status());
      String token = null;
      for (JsonNode message : http.get("/dev/mail", "Accept", "application/json").json()) {
        Matcher m = CHANGE_LINK.matcher(message.get("text").asText());
        if (message.get("to").asText().equals(newEmail) && m.find()) {
          token = m.group(1);
        }
      }
      // Confirmed on the link's page, as a person would: it says the expiry in hours, and when done, drops it and
      // offers the way onward.
      com.microsoft.playwright.Page confirm = page.context().newPage();
      confirm.navigate(sesame.url() + "/email/change?token=" + token);
      assertTrue(confirm.textContent("p.hint").contains("24 hours"), confirm.textContent("p.hint"));
      confirm.click("#change button");
      confirm.waitForSelector("#to-account");
      assertTrue(!confirm.isVisible("p.hint"), "the expiry no longer shows");
      assertTrue(confirm.getAttribute("#to-account", "href").startsWith("/account"));
      dev.sesame.support.Browsers.screenshot(confirm, "desktop/email-changed");
      confirm.close();

      // The account page, opened again, tells the browser (recorded on the way, and passed on to Chromium).
      page.addInitScript("{ const original = PublicKeyCredential.signalCurrentUserDetails;"
          + " window.__details = [];"
          + " PublicKeyCredential.signalCurrentUserDetails = (d) => { window.__details.push(d);"
          + " return original.call(PublicKeyCredential, d); }; }");
      page.reload();
      page.waitForFunction("() => window.__details && window.__details.length > 0");
      Map<?, ?> details = (Map<?, ?>) ((java.util.List<?>) page.evaluate("() => window.__details")).get(0);
      assertEquals(newEmail, details.get("name"));
      assertEquals(newEmail, details.get("displayName"));
      assertEquals("localhost", details.get("rpId"));
      assertEquals(java.util.Arrays.toString(java.util.Base64.getDecoder().decode(before.get("userHandle").getAsString())),
          java.util.Arrays.toString(java.util.Base64.getUrlDecoder().decode((String) details.get("userId"))),
          "the account's user handle");
      // And the device's passkey now carries the new address.
      long deadline = System.nanoTime() + 10_000_000_000L;
      JsonObject after = device.credentials().get(0).getAsJsonObject();
      while (!after.get("userName").getAsString().equals(newEmail) && System.nanoTime() < deadline) {
        Thread.sleep(100);
        after = device.credentials().get(0).getAsJsonObject();
      }
      assertEquals(newEmail, after.get("userName").getAsString(), after.toString());
      assertEquals(newEmail, after.get("userDisplayName").getAsString());
    }
  }

  /**
   * After an email sign-in, a browser with conditional create gets a passkey with no click: the automatic upgrade,
   * recorded as such. Chromium reports the capability but makes such a passkey only when its own password manager
   * took part in the sign-in, which its virtual authenticator does not simulate; so a page-level probe answers the
   * conditional request as a browser that upgrades would (with a plain create) and records it.
   */
  @Test
  void an_email_sign_in_upgrades_to_a_passkey_without_a_click_where_the_browser_does() {
    String email = newEmail();
    try (BrowserContext context = browsers.desktopWithAutomaticUpgrade()) {
      context.addInitScript("""
          const create = navigator.credentials.create.bind(navigator.credentials);
          navigator.credentials.create = (options) => {
            sessionStorage.setItem('creates', (sessionStorage.getItem('creates') || '')
              + (options.mediation || 'modal') + ' ');
            const { mediation, ...modal } = options;
            return create(modal);
          };
          """);
      Page page = context.newPage();
      VirtualAuthenticator device = VirtualAuthenticator.attach(page);
      emailSignIn(page, email);
      page.waitForURL("**/account**"); // no offer to click: straight on
      page.waitForSelector("sesame-profile li");
      assertEquals(1, device.credentials().size(), "the device holds the new passkey");
      assertEquals("conditional", ((String) page.evaluate("() => sessionStorage.getItem('creates')")).strip(),
          "one request, conditional: nobody was asked");
      JsonNode passkeys = user(email).get("passkeys");
      assertEquals(1, passkeys.size());
      assertTrue(passkeys.get(0).get("automatic").asBoolean(), "recorded as an automatic upgrade");
      Browsers.screenshot(page, "signals/automatic-upgrade-account");
    }
  }

  /**
   * Chromium as it is: it reports conditional create, leaves the request waiting, so the explicit offer shows after a
   * moment; taking it ends the waiting request and makes the passkey. A browser without the capability shows the
   * offer at once and makes nothing by itself.
   */
  @Test
  void where_the_automatic_upgrade_does_not_happen_the_explicit_offer_does() {
    String email = newEmail();
    try (BrowserContext context = browsers.desktopWithAutomaticUpgrade()) {
      Page page = context.newPage();
      VirtualAuthenticator device = VirtualAuthenticator.attach(page);
      emailSignIn(page, email);
      page.waitForSelector("sesame-auth #create-passkey");
      assertEquals(0, user(email).get("passkeys").size(), "nothing made without asking");
      page.click("sesame-auth #create-passkey");
      page.waitForURL("**/account**");
      page.waitForSelector("sesame-profile li");
      assertEquals(1, device.credentials().size());
      assertEquals(false, user(email).get("passkeys").get(0).get("automatic").asBoolean());
    }
    String other = newEmail();
    try (BrowserContext older = browsers.desktop()) { // conditional create hidden, as in browsers without it
      Page page = older.newPage();
      VirtualAuthenticator.attach(page);
      emailSignIn(page, other);
      page.waitForSelector("sesame-auth #create-passkey");
      assertEquals(0, user(other).get("passkeys").size());
    }
  }

  /**
   * What the element offers follows the browser's client capabilities: on a computer with no passkey of its own but
   * a phone nearby (hybrid), the button says so and asks for the phone first; autofill only where conditional get is
   * reported. Chromium headless reports no hybrid transport, so the capabilities are set by an init script.
   */
  @Test
  void the_element_offers_what_the_browser_reports_it_can_do() {
    try (BrowserContext context = browsers.desktop()) {
      context.addInitScript("""
          PublicKeyCredential.getClientCapabilities = async () => ({ hybridTransport: true, conditionalGet: false,
            conditionalCreate: false, userVerifyingPlatformAuthenticator: false, passkeyPlatformAuthenticator: false });
          PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable = async () => false;
          PublicKeyCredential.isConditionalMediationAvailable = async () => true;
          const get = navigator.credentials.get.bind(navigator.credentials);
          navigator.credentials.get = (options) => {
            sessionStorage.setItem('gets', (sessionStorage.getItem('gets') || '')
              + (options.mediation || 'modal') + ':' + JSON.stringify(options.publicKey.hints || []) + ' ');
            return Promise.reject(new DOMException('no phone here', 'NotAllowedError'));
          };
          """);
      Page page = context.newPage();
      page.navigate(sesame.url() + "/login");
      page.waitForSelector("sesame-auth[data-ready] #passkey");
      assertEquals(dev.sesame.i18n.Languages.all().catalog("en").format("auth.passkey.phone"),
          page.textContent("sesame-auth #passkey"));
      assertEquals(null, page.evaluate("() => sessionStorage.getItem('gets')"),
          "no autofill request: the capabilities say conditional get is not there, whatever the older check says");
      page.click("sesame-auth #passkey");
      page.waitForSelector("sesame-auth .status.error");
      assertEquals("modal:[\"hybrid\"]", ((String) page.evaluate("() => sessionStorage.getItem('gets')")).strip());
    }
    try (BrowserContext context = browsers.desktop()) { // Chromium as it is: a platform authenticator, autofill
      Page page = context.newPage();
      VirtualAuthenticator.attach(page);
      page.navigate(sesame.url() + "/login");
      page.waitForSelector("sesame-auth[data-ready] #passkey");
      assertEquals(dev.sesame.i18n.Languages.all().catalog("en").format("auth.passkey.button"),
          page.textContent("sesame-auth #passkey"));
    }
  }
}
