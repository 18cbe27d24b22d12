package dev.sesame.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.sesame.support.AppServer;
import dev.sesame.support.Browsers;
import dev.sesame.support.Http;
import dev.sesame.support.MailInbox;
import dev.sesame.support.SmtpServers;
import dev.sesame.support.TestServer;
import dev.sesame.support.VirtualAuthenticator;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** What people see, in real headless Chromium with a virtual platform authenticator and real SMTP. */
class BrowserFlowTest {
  @RegisterExtension
  static GreenMailExtension greenMail = new GreenMailExtension(SmtpServers.smtpSetup()).withPerMethodLifecycle(false);

  /** Chromium's virtual CTAP2 authenticator; named here the way an operator names providers. */
  static final String VIRTUAL_AAGUID = "01020304-0506-0708-0102-030405060708";

  static TestServer sesame;
  static Browsers browsers;
  static MailInbox inbox;
  static AppServer app;
  static AppServer otherApp;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    Path aaguids = dir.resolve("aaguids.json");
    Files.writeString(aaguids, "{\"" + VIRTUAL_AAGUID + "\": {\"name\": \"Chromium virtual authenticator\"}}");
    app = new AppServer(Map.of());
    otherApp = new AppServer(Map.of());
    sesame = TestServer.startOnLocalhost(Map.of(
        "SESAME_RP_NAME", "Acme Notes",
        "SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(greenMail.getSmtp().getPort()),
        "SESAME_SMTP_TLS", "none",
        "SESAME_AAGUID_FILE", aaguids.toString(),
        "SESAME_ALLOWED_ORIGINS", app.origin(),
        "SESAME_REDIRECT_ALLOWLIST", app.origin() + "/callback"));
    String embed = """
        <!doctype html><html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme app</title>
        <script type="module" src="%s/assets/sesame-auth.js"></script>
        <script type="module" src="/app.js"></script></head>
        <body><h1>Acme app</h1><sesame-auth></sesame-auth><pre id="token"></pre></body></html>
        """.formatted(sesame.url());
    String appJs = """
        document.querySelector('sesame-auth').addEventListener('sesame:signed-in', (e) => {
          document.getElementById('token').textContent = e.detail.access_token;
        });
        """;
    app.close();
    otherApp.close();
    app = new AppServer(Map.of("/embed.html", embed, "/app.js", appJs), portOf(app.origin()));
    otherApp = new AppServer(Map.of("/embed.html", embed, "/app.js", appJs), portOf(otherApp.origin()));
    browsers = Browsers.launch();
    inbox = new MailInbox(greenMail);
  }

  static int portOf(String origin) {
    return Integer.parseInt(origin.substring(origin.lastIndexOf(':') + 1));
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
      otherApp.close();
    }
    if (browsers != null) {
      browsers.close();
    }
    if (sesame != null) {
      sesame.close();
    }
  }

  static String newEmail() {
    return "b-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
  }

  /** Opens /login, asks for an email and returns the email that arrived; the page waits at the code step. */
  static MailInbox.SignInMail requestEmail(Page page, String email) {
    page.navigate(sesame.url() + "/login");
    page.fill("sesame-auth #email", email);
    page.click("sesame-auth button:has-text('Continue with email')");
    page.waitForSelector("sesame-auth #code");
    return inbox.next(email);
  }

  /** Email, then the code from the real email. Leaves the page after the code step. */
  static void signInByEmail(Page page, String email, String shots) {
    page.fill("sesame-auth #email", email);
    page.click("sesame-auth button:has-text('Continue with email')");
    page.waitForSelector("sesame-auth #code");
    Browsers.screenshot(page, shots + "-02-code");
    page.fill("sesame-auth #code", inbox.next(email).code());
    page.click("sesame-auth button:has-text('Sign in')");
  }

  /** A new person's first visit; returns their email and the passkey their device now holds. */
  record SignedUp(String email, JsonObject credential) {}

  SignedUp newUserSignsUpAndAddsAPasskey(BrowserContext context, String shots) {
    Page page = context.newPage();
    VirtualAuthenticator authenticator = VirtualAuthenticator.attach(page);
    page.navigate(sesame.url() + "/login");
    page.waitForSelector("sesame-auth #email");
    assertEquals("Sign in · Acme Notes", page.title());
    Browsers.screenshot(page, shots + "-01-login");
    String email = newEmail();
    signInByEmail(page, email, shots);
    page.waitForSelector("sesame-auth #create-passkey");
    Browsers.screenshot(page, shots + "-03-offer-passkey");
    // What this device has: Linux's screen lock (desktop here), Android's fingerprint or face; never another system's.
    String offer = page.textContent("sesame-auth #create-passkey");
    assertTrue(!offer.contains("Windows Hello") && !offer.contains("Face ID"), offer);
    page.click("sesame-auth #create-passkey");
    page.waitForURL("**/account**");
    page.waitForSelector("sesame-profile li");
    Browsers.screenshot(page, shots + "-04-account");
    assertEquals(email, page.textContent("sesame-profile #email"));
    String item = page.textContent("sesame-profile li");
    assertTrue(item.contains("Chromium virtual authenticator"), "provider name: " + item);
    assertTrue(item.contains("This device only"), item); // the virtual authenticator is not backup-eligible
    JsonArray credentials = authenticator.credentials();
    assertEquals(1, credentials.size());
    page.close();
    return new SignedUp(email, credentials.get(0).getAsJsonObject());
  }

  /** A returning person on another browser profile that has the same (synced) passkey, not yet confirming. */
  record Returning(Page page, VirtualAuthenticator authenticator) {}

  Returning returningDevice(BrowserContext context, SignedUp user) {
    Page page = context.newPage();
    VirtualAuthenticator authenticator = VirtualAuthenticator.attach(page, false);
    authenticator.add(user.credential());
    return new Returning(page, authenticator);
  }

  void returningUserSignsInWithThePasskeyButton(BrowserContext first, BrowserContext second, String shots) {
    SignedUp user = newUserSignsUpAndAddsAPasskey(first, shots + "-setup");
    Returning device = returningDevice(second, user);
    Page page = device.page();
    page.navigate(sesame.url() + "/login");
    page.waitForSelector("sesame-auth[data-ready] #passkey");
    Browsers.screenshot(page, shots + "-01-login");
    assertTrue(page.url().endsWith("/login"), "the open autofill request does nothing by itself");
    device.authenticator().present(); // the person will confirm with Face ID when asked
    page.click("sesame-auth #passkey");
    page.waitForURL("**/account**");
    page.waitForSelector("sesame-profile #email");
    Browsers.screenshot(page, shots + "-02-account");
    assertEquals(user.email(), page.textContent("sesame-profile #email"));
  }

  @Test
  void scenario_1_new_user_email_code_then_passkey_offer_desktop() {
    try (BrowserContext context = browsers.desktop()) {
      newUserSignsUpAndAddsAPasskey(context, "desktop/1");
    }
  }

  @Test
  void scenario_1_new_user_email_code_then_passkey_offer_phone() {
    try (BrowserContext context = browsers.phone()) {
      newUserSignsUpAndAddsAPasskey(context, "phone/1");
    }
  }

  @Test
  void scenario_2_returning_user_signs_in_with_a_passkey_without_typing_an_email_desktop() {
    try (BrowserContext first = browsers.desktop(); BrowserContext second = browsers.desktop()) {
      returningUserSignsInWithThePasskeyButton(first, second, "desktop/2");
    }
  }

  @Test
  void scenario_2_returning_user_signs_in_with_a_passkey_without_typing_an_email_phone() {
    try (BrowserContext first = browsers.phone(); BrowserContext second = browsers.phone()) {
      returningUserSignsInWithThePasskeyButton(first, second, "phone/2");
    }
  }

  @Test
  void scenario_3_autofill_offers_the_passkey_in_the_email_field() {
    try (BrowserContext first = browsers.desktop(); BrowserContext second = browsers.desktop()) {
      SignedUp user = newUserSignsUpAndAddsAPasskey(first, "desktop/3-setup");
      // Headless Chromium has no autofill dropdown to click: the virtual authenticator plays the person who picks
      // the passkey offered in the email field, answering the conditional request as soon as the page opens it.
      // Nothing is clicked or typed, so the sign-in can only have come through that autofill request.
      // The field is marked for passkey autofill (checked on a page with no authenticator: with one, the sign-in can
      // finish and leave the page before the field is read).
      Page probe = second.newPage();
      probe.navigate(sesame.url() + "/login");
      assertEquals("username webauthn", probe.getAttribute("sesame-auth #email", "autocomplete"));
      probe.close();
      Page page = second.newPage();
      VirtualAuthenticator.attach(page).add(user.credential());
      page.navigate(sesame.url() + "/login");
      page.waitForURL("**/account**");
      page.waitForSelector("sesame-profile #email");
      assertEquals(user.email(), page.textContent("sesame-profile #email"));
    }
  }

  @Test
  void scenario_4_the_email_link_works_in_another_browser_and_only_on_click() {
    try (BrowserContext original = browsers.desktop(); BrowserContext other = browsers.desktop()) {
      // a) The link opened elsewhere (as a phone's mail app or a scanner would) consumes nothing: the code works.
      String email = newEmail();
      Page tab = original.newPage();
      MailInbox.SignInMail mail = requestEmail(tab, email);
      Page elsewhere = other.newPage();
      elsewhere.navigate(mail.link());
      assertTrue(elsewhere.textContent("main").contains(email), "the confirm page shows who is signing in");
      Browsers.screenshot(elsewhere, "desktop/4-01-confirm-page");
      tab.fill("sesame-auth #code", mail.code());
      tab.click("sesame-auth button:has-text('Sign in')");
      tab.waitForURL("**/account**");
      assertEquals(email, tab.waitForSelector("sesame-profile #email").textContent());
    }
    try (BrowserContext original = browsers.desktop(); BrowserContext other = browsers.desktop()) {
      // b) Clicking "Sign in" on the confirm page signs in there; the code in the first tab is then used up.
      String email = newEmail();
      Page tab = original.newPage();
      MailInbox.SignInMail mail = requestEmail(tab, email);
      Page elsewhere = other.newPage();
      elsewhere.navigate(mail.link());
      elsewhere.click("button:has-text('Sign in')");
      elsewhere.waitForURL("**/account**");
      assertEquals(email, elsewhere.waitForSelector("sesame-profile #email").textContent());
      Browsers.screenshot(elsewhere, "desktop/4-02-signed-in-elsewhere");
      // The first tab learns it by itself (it asks now and then), says what to do, and is not signed in by it.
      tab.waitForFunction("() => document.querySelector('sesame-auth').shadowRoot.textContent"
          + ".includes('finished with the link from the email')");
      assertTrue(!tab.isVisible("sesame-auth #code"), "no code field that can no longer work");
      Browsers.screenshot(tab, "desktop/4-03-finished-elsewhere");
      assertTrue(!tab.url().contains("/account"));
      // "Send a new email" from there: a new code, which works here.
      tab.click("sesame-auth #resend");
      tab.waitForSelector("sesame-auth #code");
      tab.waitForFunction("() => document.querySelector('sesame-auth').shadowRoot.textContent"
          + ".includes('We sent a new email')");
      MailInbox.SignInMail again = inbox.next(email);
      tab.fill("sesame-auth #code", again.code());
      tab.click("sesame-auth button:has-text('Sign in')");
      tab.waitForURL("**/account**");
    }
    try (BrowserContext original = browsers.desktop(); BrowserContext other = browsers.desktop()) {
      // c) A wrong code says how many tries are left; a link that was used meanwhile says so on its page (not "this
      // code") and leads back to sign in.
      String email = newEmail();
      Page tab = original.newPage();
      MailInbox.SignInMail mail = requestEmail(tab, email);
      String wrong = mail.code().equals("000000") ? "111111" : "000000";
      tab.fill("sesame-auth #code", wrong);
      tab.click("sesame-auth button:has-text('Sign in')");
      tab.waitForSelector("sesame-auth .status.error");
      assertTrue(tab.textContent("sesame-auth .status").contains("4 tries left"), tab.textContent("sesame-auth .status"));
      Browsers.screenshot(tab, "desktop/4-04-wrong-code");
      Page elsewhere = other.newPage();
      elsewhere.navigate(mail.link());
      tab.fill("sesame-auth #code", mail.code());
      tab.click("sesame-auth button:has-text('Sign in')");
      tab.waitForURL("**/account**");
      elsewhere.click("button:has-text('Sign in')");
      elsewhere.waitForSelector("#sign-in-again");
      assertTrue(elsewhere.textContent("#status").contains("link"), elsewhere.textContent("#status"));
      assertTrue(!elsewhere.isVisible("p.hint"), "no 'expires in 1 minute' under it");
      Browsers.screenshot(elsewhere, "desktop/4-05-link-used");
      elsewhere.click("#sign-in-again");
      elsewhere.waitForSelector("sesame-auth #email");
    }
  }

  @Test
  void scenario_5_account_rename_remove_and_sign_out() {
    try (BrowserContext context = browsers.desktop()) {
      SignedUp user = newUserSignsUpAndAddsAPasskey(context, "desktop/5-setup");
      Page page = context.newPage();
      page.navigate(sesame.url() + "/account");
      page.waitForSelector("sesame-profile li");
      page.click("sesame-profile button:has-text('Rename')");
      page.fill("sesame-profile li input", "My laptop");
      Browsers.screenshot(page, "desktop/5-01-rename");
      page.click("sesame-profile li button:has-text('Save')");
      page.waitForSelector("sesame-profile li .name:has-text('My laptop')");
      page.click("sesame-profile button:has-text('Remove')");
      Browsers.screenshot(page, "desktop/5-02-remove");
      page.click("sesame-profile li button:has-text('Remove')");
      page.waitForSelector("sesame-profile #no-passkeys");
      Browsers.screenshot(page, "desktop/5-03-removed");
      String account = (String) page.evaluate("document.querySelector('sesame-profile').shadowRoot.textContent");
      assertFalse(account.contains("null") || account.contains("undefined"), account);
      assertFalse(account.contains("Windows Hello"), "what this (Linux) device has, not another system: " + account);
      // The name, for apps that ask for the profile scope.
      page.fill("sesame-profile #given-name", "Ana");
      page.fill("sesame-profile #family-name", "Lima");
      page.click("sesame-profile #save-name");
      page.waitForFunction("() => document.querySelector('sesame-profile').shadowRoot.textContent"
          + ".includes('Name saved.')");
      Browsers.screenshot(page, "desktop/5-04-name");
      // Signed in elsewhere too (another device, by email): the page lists it, and ends it.
      Http.Response started = sesame.http().post("/v1/email/start", Map.of("email", user.email()));
      assertEquals(202, started.status(), started.body());
      String other = sesame.http().post("/v1/email/verify", Map.of("flowId", started.json().get("flowId").asText(),
          "code", inbox.next(user.email()).code())).json().get("access_token").asText();
      page.reload();
      page.waitForSelector("sesame-profile #given-name");
      assertEquals("Ana", page.inputValue("sesame-profile #given-name"));
      assertTrue(page.textContent("sesame-profile ul.sessions").contains("This device"));
      assertTrue(page.locator("sesame-profile ul.sessions li").count() >= 2);
      Browsers.screenshot(page, "desktop/5-05-sessions");
      int before = page.locator("sesame-profile ul.sessions li").count();
      page.click("sesame-profile ul.sessions .end-session >> nth=0");
      page.waitForFunction("() => document.querySelector('sesame-profile').shadowRoot.textContent"
          + ".includes('Signed out on that device.')");
      assertEquals(before - 1, page.locator("sesame-profile ul.sessions li").count());
      assertTrue(page.isVisible("sesame-profile #sign-out-everywhere"));
      // The session ended is another device's (this one has no such button); "Sign out everywhere" ends the rest.
      page.click("sesame-profile #sign-out-everywhere");
      page.waitForSelector("sesame-profile sesame-auth #email");
      assertEquals(401, sesame.http().get("/v1/me", "Authorization", "Bearer " + other).status(),
          "the other device is signed out too");
      page.reload();
      page.waitForSelector("sesame-profile sesame-auth #email"); // and this one
      Browsers.screenshot(page, "desktop/5-06-signed-out");
      page.reload();
      page.waitForSelector("sesame-profile sesame-auth #email");

      // The removed passkey is still on the device: signing in with it fails clearly, and the page tells the
      // browser the credential is gone (signalUnknownCredential), so the device stops offering it.
      Page stale = context.newPage();
      // A browser without passkey autofill: only the button asks, so the virtual authenticator (which answers
      // whichever request is open once present) cannot answer an autofill request first and drop the passkey.
      stale.addInitScript("PublicKeyCredential.isConditionalMediationAvailable = async () => false;"
          + "PublicKeyCredential.getClientCapabilities = async () => ({ userVerifyingPlatformAuthenticator: true });");
      VirtualAuthenticator device = VirtualAuthenticator.attach(stale, false);
      device.add(user.credential());
      stale.navigate(sesame.url() + "/login");
      stale.waitForSelector("sesame-auth[data-ready] #passkey");
      device.present();
      stale.click("sesame-auth #passkey");
      stale.waitForSelector("sesame-auth .status.error");
      assertTrue(stale.textContent("sesame-auth .status").contains("no longer registered"),
          stale.textContent("sesame-auth .status"));
      Browsers.screenshot(stale, "desktop/5-05-removed-passkey-refused");
      for (int i = 0; i < 50 && device.credentials().size() > 0; i++) {
        stale.waitForTimeout(100);
      }
      assertEquals(0, device.credentials().size(), "the browser dropped the passkey the server no longer knows");
    }
  }

  @Test
  void scenario_6_embedded_on_an_allowed_origin_gets_the_token_and_elsewhere_is_refused() {
    try (BrowserContext context = browsers.desktop()) {
      Page page = context.newPage();
      page.navigate(app.origin() + "/embed.html");
      page.waitForSelector("sesame-auth #email");
      String email = newEmail();
      signInByEmail(page, email, "desktop/6");
      page.waitForFunction("document.getElementById('token').textContent.length > 0");
      Browsers.screenshot(page, "desktop/6-03-embedded-signed-in");
      String token = page.textContent("#token");
      Http.Response me = sesame.http().get("/v1/me", "Authorization", "Bearer " + token);
      assertEquals(200, me.status(), me.body());
      assertEquals(email, me.json().get("email").asText());
    }
    try (BrowserContext context = browsers.desktop()) {
      Page page = context.newPage();
      page.navigate(otherApp.origin() + "/embed.html");
      page.waitForSelector("sesame-auth #email");
      String email = newEmail();
      page.fill("sesame-auth #email", email);
      page.click("sesame-auth button:has-text('Continue with email')");
      page.waitForSelector("sesame-auth .status.error");
      Browsers.screenshot(page, "desktop/6-04-other-origin-refused");
      assertTrue(page.textContent("sesame-auth .status").contains("Could not reach the sign-in service"));
      assertEquals(0, inbox.count(email), "the browser never let the request through");
    }
  }

  @Test
  void scenario_7_redirect_flow_with_pkce_for_a_server_rendered_app() throws Exception {
    String verifier = UUID.randomUUID() + "." + UUID.randomUUID();
    String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    String login = sesame.url() + "/login?redirectTo=" + URLEncoder.encode(app.origin() + "/callback",
        StandardCharsets.UTF_8) + "&state=st-42&code_challenge=" + challenge + "&code_challenge_method=S256";
    try (BrowserContext context = browsers.desktop()) {
      Page page = context.newPage();
      page.navigate(login);
      signInByEmail(page, newEmail(), "desktop/7");
      page.waitForURL(app.origin() + "/callback**");
      Browsers.screenshot(page, "desktop/7-03-back-in-the-app");
      Map<String, String> query = query(page.url());
      assertEquals("st-42", query.get("state"));
      Http.Response tokens = sesame.http().post("/v1/token", Map.of("grant_type", "authorization_code",
          "code", query.get("code"), "code_verifier", verifier, "redirect_uri", app.origin() + "/callback"));
      assertEquals(200, tokens.status(), tokens.body());
      Http.Response reused = sesame.http().post("/v1/token", Map.of("grant_type", "authorization_code",
          "code", query.get("code"), "code_verifier", verifier, "redirect_uri", app.origin() + "/callback"));
      assertEquals("invalid_grant", reused.json().get("error").asText());

      // Signed in already: the hosted page offers to continue, and a wrong verifier gets nothing.
      page.navigate(login);
      page.click("sesame-auth #continue");
      page.waitForURL(app.origin() + "/callback**");
      Http.Response wrong = sesame.http().post("/v1/token", Map.of("grant_type", "authorization_code",
          "code", query(page.url()).get("code"), "code_verifier", verifier + "x", "redirect_uri",
          app.origin() + "/callback"));
      assertEquals("invalid_grant", wrong.json().get("error").asText());

      page.navigate(sesame.url() + "/login?redirectTo=" + URLEncoder.encode("https://evil.example/callback",
          StandardCharsets.UTF_8));
      assertTrue(page.textContent("main").contains("can’t be used"));
      Browsers.screenshot(page, "desktop/7-04-redirect-refused");
      assertEquals(sesame.url() + "/login?redirectTo=" + URLEncoder.encode("https://evil.example/callback",
          StandardCharsets.UTF_8), page.url(), "no redirect happened");
    }
  }

  static Map<String, String> query(String url) {
    Map<String, String> out = new java.util.HashMap<>();
    for (String part : java.net.URI.create(url).getRawQuery().split("&")) {
      int eq = part.indexOf('=');
      out.put(part.substring(0, eq), java.net.URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return out;
  }
}
