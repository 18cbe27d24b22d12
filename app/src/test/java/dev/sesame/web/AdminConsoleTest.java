package dev.sesame.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import dev.sesame.i18n.Languages;
import dev.sesame.support.Browsers;
import dev.sesame.support.DevMailbox;
import dev.sesame.support.Http;
import dev.sesame.support.PasskeyClient;
import dev.sesame.support.SoftwareAuthenticator;
import dev.sesame.support.TestServer;
import dev.sesame.support.VirtualAuthenticator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin console in real Chromium: an administrator signs in with a passkey (virtual authenticator), reads the
 * dashboard, searches for a person, opens them, removes a passkey, disables and deletes them (each confirmed in a
 * dialog, one by keyboard), manages a client; at desktop and phone width, with no CSP violation.
 */
class AdminConsoleTest {
  static TestServer sesame;
  static Browsers browsers;
  static Http http;
  static String adminEmail;
  static JsonObject adminPasskey;
  static final java.util.concurrent.atomic.AtomicInteger COUNTER = new java.util.concurrent.atomic.AtomicInteger(1000);

  @BeforeAll
  static void start() {
    sesame = TestServer.startOnLocalhost(Map.of("SESAME_RP_NAME", "Acme Notes"));
    http = sesame.http();
    browsers = Browsers.launch();
    // The future administrator signs up by email on the hosted pages and takes the passkey offer.
    adminEmail = "admin-" + UUID.randomUUID().toString().substring(0, 6) + "@example.com";
    try (BrowserContext context = browsers.desktop()) {
      Page page = context.newPage();
      VirtualAuthenticator authenticator = VirtualAuthenticator.attach(page);
      signUpWithPasskey(page, adminEmail);
      adminPasskey = authenticator.credentials().get(0).getAsJsonObject();
    }
    TestServer.CliResult granted = TestServer.cli(sesame, "admin", "grant", adminEmail);
    assertEquals(0, granted.status(), granted.stderr());
  }

  /** Signs up on the hosted pages by email code and takes the passkey offer (the page's authenticator holds it). */
  static void signUpWithPasskey(Page page, String email) {
    page.navigate(sesame.url() + "/login");
    page.fill("sesame-auth #email", email);
    page.click("sesame-auth button:has-text('Continue with email')");
    page.waitForSelector("sesame-auth #code");
    page.fill("sesame-auth #code", DevMailbox.latestCode(http, email));
    page.click("sesame-auth button:has-text('Sign in')");
    page.waitForSelector("sesame-auth #create-passkey");
    page.click("sesame-auth #create-passkey");
    page.waitForURL("**/account**");
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

  /** A person with a passkey, made through the API as an app would. */
  static Map<String, String> personWithPasskey(String email) {
    com.fasterxml.jackson.databind.JsonNode signedIn = DevMailbox.signIn(http, email);
    SoftwareAuthenticator device = new SoftwareAuthenticator(sesame.url());
    assertEquals(201, new PasskeyClient(http).register(signedIn.get("access_token").asText(), device).status());
    return Map.of("email", email, "id", signedIn.get("user").get("id").asText());
  }

  /** Opens the console in a profile that holds the administrator's passkey and signs in with it. */
  static Page signedInConsole(BrowserContext context, List<String> cspViolations) {
    Page page = context.newPage();
    page.onConsoleMessage(m -> {
      if (m.text().contains("Content Security Policy") || m.text().contains("Content-Security-Policy")) {
        cspViolations.add(m.text());
      }
    });
    // The same passkey in another profile; its counter moves on from the last one Sesame saw (a copy that went
    // back would be refused as a possible clone).
    JsonObject copy = adminPasskey.deepCopy();
    copy.addProperty("signCount", COUNTER.addAndGet(100));
    VirtualAuthenticator.attach(page).add(copy);
    page.navigate(sesame.url() + "/admin");
    page.waitForSelector("#passkey-sign-in");
    page.click("#passkey-sign-in");
    try {
      page.waitForSelector("#total-users");
    } catch (com.microsoft.playwright.TimeoutError e) {
      Browsers.screenshot(page, "admin/failed-sign-in");
      throw new AssertionError("no dashboard; the page says: " + page.textContent("body"), e);
    }
    assertEquals(adminEmail, page.textContent("#admin-email"));
    return page;
  }

  @Test
  void an_administrator_finds_a_person_removes_a_passkey_disables_and_deletes_them() {
    String tag = "t" + UUID.randomUUID().toString().substring(0, 6);
    Map<String, String> target = personWithPasskey(tag + "-lost-phone@example.com");
    personWithPasskey(tag + "-bystander@example.com");
    List<String> csp = new ArrayList<>();
    try (BrowserContext context = browsers.desktop()) {
      Page page = signedInConsole(context, csp);
      page.waitForSelector("svg[role=img]");
      assertTrue(Integer.parseInt(page.textContent("#total-users").replaceAll("\\D", "")) >= 3);
      Browsers.screenshot(page, "admin/desktop-01-dashboard");

      page.click("nav a:has-text('Users')");
      page.fill("#user-search", tag + "-lost");
      page.press("#user-search", "Enter");
      // The search finds one person (of the three and more there are).
      page.waitForFunction("() => location.hash.includes('email=') "
          + "&& document.querySelectorAll('table[aria-label=Users] tbody tr').length === 1");
      assertTrue(page.textContent("table[aria-label=Users] tbody").contains(target.get("email")));
      Browsers.screenshot(page, "admin/desktop-02-users");
      page.click("table[aria-label=Users] a:has-text('" + target.get("email") + "')");
      page.waitForSelector("h1:has-text('" + target.get("email") + "')");
      page.waitForSelector("h2:has-text('Passkeys (1)')");
      Browsers.screenshot(page, "admin/desktop-03-user");

      // By keyboard: a destructive action asks first, and Escape leaves everything as it was.
      page.focus("#revoke-sessions");
      page.keyboard().press("Enter");
      page.waitForSelector("dialog[open]");
      Browsers.screenshot(page, "admin/desktop-04-confirm");
      page.keyboard().press("Escape");
      page.waitForSelector("dialog", new Page.WaitForSelectorOptions()
          .setState(com.microsoft.playwright.options.WaitForSelectorState.DETACHED));
      assertTrue(sessionsOf(target.get("id")) > 0, "cancelled: the sessions are still there");

      // Remove the passkey (someone lost their phone).
      page.click("button[aria-label^='Remove passkey']");
      page.click("dialog[open] button:has-text('Remove')");
      page.waitForSelector("h2:has-text('Passkeys (0)')");
      assertEquals(0, count("SELECT count(*) FROM passkeys WHERE user_id = '" + target.get("id") + "'"));

      // Disable: the badge says so, and the sessions have ended.
      page.click("#disable");
      page.click("dialog[open] button:has-text('Disable')");
      page.waitForSelector(".badge.off");
      assertEquals(0, sessionsOf(target.get("id")));

      // Delete: the button works only once the address is typed.
      page.click("#delete-user");
      assertTrue(page.isDisabled("dialog[open] button:has-text('Delete for good')"));
      page.fill("dialog[open] input[name=_confirm]", target.get("email"));
      page.click("dialog[open] button:has-text('Delete for good')");
      page.waitForFunction("() => location.hash === '#/users'");
      assertEquals(0, count("SELECT count(*) FROM users WHERE id = '" + target.get("id") + "'"));

      // Every step is in the audit log, by this administrator.
      page.click("nav a:has-text('Audit log')");
      page.waitForSelector("table[aria-label='Audit events'] td:has-text('user.erased')");
      assertTrue(page.textContent("table[aria-label='Audit events']").contains("admin:"));
      Browsers.screenshot(page, "admin/desktop-05-audit");

      // A client: created, its secret shown once.
      page.click("nav a:has-text('Clients')");
      page.click("#new-client");
      page.fill("dialog[open] input[name=client_name]", "Notes " + tag);
      page.fill("dialog[open] textarea[name=redirect_uris]", "https://notes.example/callback");
      page.click("dialog[open] button:has-text('Create')");
      page.waitForSelector("#client-secret");
      assertTrue(page.textContent("#client-secret").length() > 20);
      Browsers.screenshot(page, "admin/desktop-06-clients");

      // A webhook endpoint: created with its secret shown once; its deliveries and their attempts are listed.
      page.click("nav a:has-text('Webhooks')");
      page.click("#new-webhook");
      page.fill("dialog[open] input[name=url]", "https://93.184.215.14/hooks/" + tag);
      page.fill("dialog[open] input[name=events]", "user.created");
      page.click("dialog[open] button:has-text('Create')");
      page.waitForSelector("#webhook-secret");
      assertTrue(page.textContent("#webhook-secret").startsWith("whsec_"));
      String newcomer = tag + "-newcomer@example.com";
      DevMailbox.signIn(http, newcomer);
      page.click("table[aria-label='Webhook endpoints'] a:has-text('" + tag + "')");
      page.waitForSelector("table[aria-label=Deliveries] td:has-text('user.created')");
      Browsers.screenshot(page, "admin/desktop-07-webhook-deliveries");
      page.click("table[aria-label=Deliveries] button:has-text('Send again')");
      page.waitForSelector("#toast:has-text('Queued to be sent again')");

      page.click("nav a:has-text('Settings')");
      page.waitForSelector("#settings");
      String shown = page.textContent("#settings");
      assertTrue(shown.contains("refreshTokenTtl") && shown.contains("rateLimitEmail"), shown);
      assertFalse(shown.contains("sk_"), "no secrets");
      assertTrue(shown.contains("accentColor") && shown.contains("defaultLanguage") && shown.contains("termsUrl"),
          "the branding and language settings, read-only");
      Browsers.screenshot(page, "admin/desktop-08-settings");

      // Every email in every language: pick one, see its subject, its HTML in a frame and its plain text.
      page.click("nav a:has-text('Emails')");
      page.waitForSelector("#email-subject");
      page.selectOption("#email-language", "de");
      page.waitForSelector("#email-subject[lang=de]");
      Languages languages = Languages.all();
      assertEquals(languages.catalog("de").format("email.signIn.subject", "code", "428913", "app", "Acme Notes"),
          page.textContent("#email-subject"));
      assertTrue(page.textContent("#email-text").contains("428913"));
      com.microsoft.playwright.Frame frame = page.waitForSelector("#email-html").contentFrame();
      frame.waitForSelector("h1");
      assertEquals(languages.catalog("de").format("email.signIn.heading", "app", "Acme Notes"),
          frame.textContent("h1"));
      page.selectOption("#email-template", "address-changed");
      page.waitForSelector("#email-subject:has-text('" + languages.catalog("de")
          .format("email.addressChanged.subject", "app", "Acme Notes") + "')");
      Browsers.screenshot(page, "admin/desktop-09-email-preview");
    }
    assertEquals(List.of(), csp, "the console runs under the strict CSP");
  }

  @Test
  void the_console_works_at_phone_width_and_refuses_people_who_are_not_administrators() {
    List<String> csp = new ArrayList<>();
    try (BrowserContext context = browsers.phone()) {
      Page page = signedInConsole(context, csp);
      Browsers.screenshot(page, "admin/phone-01-dashboard");
      assertFitsTheScreen(page);
      page.click("nav a:has-text('Users')");
      page.waitForSelector("table[aria-label=Users] tbody tr");
      assertFitsTheScreen(page);
      Browsers.screenshot(page, "admin/phone-02-users");
      page.click("table[aria-label=Users] tbody tr a");
      page.waitForSelector("h2:has-text('Passkeys')");
      assertFitsTheScreen(page);
      Browsers.screenshot(page, "admin/phone-03-user");
    }
    // Someone with a passkey but no admin role is told so, and sees no data.
    String email = "plain-" + UUID.randomUUID().toString().substring(0, 6) + "@example.com";
    try (BrowserContext context = browsers.desktop()) {
      Page page = context.newPage();
      VirtualAuthenticator authenticator = VirtualAuthenticator.attach(page);
      signUpWithPasskey(page, email);
      page.navigate(sesame.url() + "/admin");
      page.waitForSelector("#passkey-sign-in");
      page.click("#passkey-sign-in");
      page.waitForSelector("text=is not an administrator");
      assertTrue(page.isHidden("#nav"));
      assertEquals(1, authenticator.credentials().size());
    }
    assertEquals(List.of(), csp);
  }

  static void assertFitsTheScreen(Page page) {
    Object overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth");
    assertTrue(((Number) overflow).intValue() <= 1, "the page scrolls sideways by " + overflow + " px");
  }

  static long sessionsOf(String userId) {
    return count("SELECT count(*) FROM sessions WHERE user_id = '" + userId + "' AND revoked_at IS NULL");
  }

  static long count(String sql) {
    return sesame.jdbi().withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }
}
