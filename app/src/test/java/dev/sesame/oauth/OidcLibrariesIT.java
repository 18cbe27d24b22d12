package dev.sesame.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.gson.JsonObject;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import dev.sesame.support.AppProcesses;
import dev.sesame.support.Browsers;
import dev.sesame.support.MailInbox;
import dev.sesame.support.SmtpServers;
import dev.sesame.support.TestServer;
import dev.sesame.support.VirtualAuthenticator;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real OpenID Connect client libraries with their standard configuration only — Node's openid-client 6, Express's
 * express-openid-connect 3 (examples/express), Python's Authlib from Debian (examples/flask) and Java's nimbus
 * oauth2-oidc-sdk — each signing a person in through Sesame in headless Chromium: first by email code (real SMTP)
 * with a passkey created on the way (virtual platform authenticator), then with that passkey on another browser
 * profile; RP-initiated logout; single sign-on from one app to the next; {@code prompt=none} without a session; the
 * email's link opened on another device.
 */
class OidcLibrariesIT {
  @RegisterExtension
  static GreenMailExtension greenMail = new GreenMailExtension(SmtpServers.smtpSetup()).withPerMethodLifecycle(false);

  static final ObjectMapper JSON = new ObjectMapper();
  static final List<String> RELYING_PARTIES = List.of("openid-client", "express", "flask");
  static final Map<String, Integer> PORTS = new HashMap<>();
  static final AppProcesses PROCESSES = new AppProcesses();
  static TestServer sesame;
  static Browsers browsers;
  static MailInbox inbox;
  static dev.sesame.support.AppServer nimbusApp; // where the nimbus client's browser lands: its /callback
  static String nimbusSecret;

  @BeforeAll
  static void start() throws Exception {
    for (String rp : RELYING_PARTIES) {
      PORTS.put(rp, TestServer.freePort());
    }
    sesame = TestServer.startOnLocalhost(Map.of(
        "SESAME_RP_NAME", "Acme",
        "SESAME_SMTP_HOST", "127.0.0.1",
        "SESAME_SMTP_PORT", Integer.toString(greenMail.getSmtp().getPort()),
        "SESAME_SMTP_TLS", "none"));
    inbox = new MailInbox(greenMail);
    Clients clients = new Clients(sesame.jdbi(), "default");
    Map<String, String> secrets = new HashMap<>();
    for (String rp : RELYING_PARTIES) {
      secrets.put(rp, clients.create(Map.of("client_id", rp, "client_name", "The " + rp + " app",
          "redirect_uris", List.of(app(rp) + "/callback"),
          "post_logout_redirect_uris", List.of(app(rp), app(rp) + "/", app(rp) + "/signed-out"),
          "grant_types", List.of("authorization_code", "refresh_token")), Client.Source.MANAGED)
          .secret().orElseThrow());
    }
    nimbusApp = new dev.sesame.support.AppServer(Map.of());
    nimbusSecret = clients.create(Map.of("client_id", "nimbus", "redirect_uris",
        List.of(nimbusApp.origin() + "/callback"), "grant_types", List.of("authorization_code", "refresh_token")),
        Client.Source.MANAGED).secret().orElseThrow();
    AppProcesses.requirePythonModules("flask, jwt, authlib, requests",
        "python3-flask python3-jwt python3-cryptography python3-authlib python3-requests");
    Path openidClient = Path.of("src/test/oidc/openid-client").toAbsolutePath();
    Path express = AppProcesses.ROOT.resolve("examples/express");
    AppProcesses.npmInstall(openidClient);
    AppProcesses.npmInstall(express);
    PROCESSES.start("rp-openid-client", openidClient, List.of("node", "rp.mjs"), Map.of("ISSUER", sesame.url(),
        "CLIENT_ID", "openid-client", "CLIENT_SECRET", secrets.get("openid-client"),
        "PORT", PORTS.get("openid-client").toString()), PORTS.get("openid-client"));
    for (String rp : List.of("express", "flask")) {
      PROCESSES.start("rp-" + rp, AppProcesses.ROOT.resolve("examples/" + rp),
          rp.equals("express") ? List.of("node", "server.js") : List.of(AppProcesses.python(), "app.py"),
          Map.of("SESAME_URL", sesame.url(), "APP_URL", app(rp), "PORT", PORTS.get(rp).toString(),
              "SESAME_CLIENT_ID", rp, "SESAME_CLIENT_SECRET", secrets.get(rp),
              "SESSION_SECRET", "a-test-secret-of-at-least-32-characters"), PORTS.get(rp));
    }
    browsers = Browsers.launch();
  }

  @AfterAll
  static void stop() throws Exception {
    PROCESSES.close();
    if (nimbusApp != null) {
      nimbusApp.close();
    }
    if (browsers != null) {
      browsers.close();
    }
    if (sesame != null) {
      sesame.close();
    }
  }

  static String app(String rp) {
    return "http://127.0.0.1:" + PORTS.get(rp);
  }

  static String newEmail() {
    return "oidc-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
  }

  /** The JSON the relying party shows once it is done (Chromium shows a JSON answer as text). */
  static JsonNode shown(Page page) throws Exception {
    return JSON.readTree(page.textContent("body"));
  }

  /** What the app knows of the person: the callback's report (openid-client) or the app's home page and API. */
  static JsonNode identity(Page page, String rp) throws Exception {
    try {
      // openid-client's RP reports on its callback page; the apps go on to their home page.
      page.waitForURL(url -> url.startsWith(app(rp)) && rp.equals("openid-client") == url.contains("/callback?"));
    } catch (com.microsoft.playwright.TimeoutError e) {
      throw new AssertionError(rp + " did not finish the sign-in; at " + page.url() + ": " + page.content() + "\n"
          + AppProcesses.log("rp-" + rp), e);
    }
    if (rp.equals("openid-client")) {
      return shown(page);
    }
    JsonNode home = shown(page);
    assertTrue(home.get("signedIn").asBoolean(), home.toString());
    page.navigate(app(rp) + "/api/user"); // the app's API with the access token of its session, verified offline
    JsonNode user = shown(page);
    assertEquals(home.get("sub").asText(), user.get("id").asText(), rp);
    return home;
  }

  /**
   * A browser profile holding {@code passkey} (synced from another device) opens {@code start}, and on Sesame's page
   * the person signs in with it.
   */
  static Page passkeySignIn(BrowserContext context, JsonObject passkey, String start) {
    Page page = context.newPage();
    VirtualAuthenticator authenticator = VirtualAuthenticator.attach(page, false);
    authenticator.add(passkey);
    page.navigate(start);
    page.waitForSelector("sesame-auth[data-ready] #passkey");
    authenticator.present(); // the person confirms when asked
    page.click("sesame-auth #passkey");
    return page;
  }

  /** On Sesame's sign-in page: email, then the code from the real email. */
  static void signInByEmail(Page page, String email) {
    page.waitForSelector("sesame-auth #email");
    assertTrue(page.url().startsWith(sesame.url() + "/authorize?"), page.url());
    // What the person signs in for, under the heading, above the form (not stranded below it).
    assertTrue(page.textContent("sesame-auth h2 + p.to-app").startsWith("to continue to "),
        page.textContent("sesame-auth h2 + p.to-app"));
    page.fill("sesame-auth #email", email);
    page.click("sesame-auth button:has-text('Continue with email')");
    page.waitForSelector("sesame-auth #code");
    page.fill("sesame-auth #code", inbox.next(email).code());
    page.click("sesame-auth button:has-text('Sign in')");
  }

  @ParameterizedTest
  @ValueSource(strings = {"openid-client", "express", "flask"})
  void a_person_signs_up_by_email_adds_a_passkey_signs_out_and_signs_in_with_the_passkey(String rp)
      throws Exception {
    String email = newEmail();
    String sub;
    JsonObject passkey;
    try (BrowserContext context = browsers.desktop()) {
      Page page = context.newPage();
      VirtualAuthenticator authenticator = VirtualAuthenticator.attach(page);
      page.navigate(app(rp) + "/login");
      signInByEmail(page, email);
      page.waitForSelector("sesame-auth #create-passkey");
      Browsers.screenshot(page, "oidc/" + rp + "-01-offer-passkey");
      page.click("sesame-auth #create-passkey");
      JsonNode first = identity(page, rp);
      sub = first.get("sub").asText();
      assertEquals(email, first.get("email").asText(), first.toString());
      if (rp.equals("openid-client")) {
        // The library validated the ID token (signature by JWKS, iss, aud, exp, nonce), then used every endpoint.
        assertTrue(first.get("nonce").asBoolean(), "the nonce came back in the ID token");
        assertEquals(sub, first.get("userinfo").get("sub").asText());
        assertEquals(email, first.get("userinfo").get("email").asText());
        assertTrue(first.get("scope").asText().contains("openid"), first.toString());
        assertTrue(first.get("refreshed").asBoolean(), "refresh_token grant");
        assertTrue(first.get("introspection").get("active").asBoolean(), "introspection (client_secret_basic)");
        assertEquals("openid-client", first.get("introspection").get("client_id").asText());
        assertEquals("invalid_grant", first.get("refreshAfterRevocation").asText(), "revocation took effect");
        assertEquals("[\"otp\"]", first.get("amr").toString());
      }
      passkey = authenticator.credentials().get(0).getAsJsonObject();

      // RP-initiated logout ends the app's session and Sesame's: the next sign-in asks again.
      page.navigate(app(rp) + "/logout");
      page.waitForURL(url -> url.startsWith(app(rp)) && !url.contains("/logout"));
      if (rp.equals("openid-client")) {
        assertTrue(shown(page).get("signedOut").asBoolean());
        assertTrue(shown(page).hasNonNull("state"), "state comes back");
      } else {
        assertTrue(page.textContent("body").contains("Sign in"), page.content());
      }
      page.navigate(app(rp) + "/login");
      try {
        page.waitForSelector("sesame-auth #email");
      } catch (com.microsoft.playwright.TimeoutError e) {
        Browsers.screenshot(page, "oidc/" + rp + "-failed-after-logout");
        throw new AssertionError("after the logout, /login shows no sign-in form; the page is " + page.url()
            + ": " + page.textContent("body"), e);
      }
      assertTrue(page.url().startsWith(sesame.url() + "/authorize?"), "no single sign-on after the logout");
    }

    // Another browser profile with the same (synced) passkey: a passkey sign-in, the same person.
    try (BrowserContext context = browsers.desktop()) {
      Page page = passkeySignIn(context, passkey, app(rp) + "/login");
      JsonNode again = identity(page, rp);
      Browsers.screenshot(page, "oidc/" + rp + "-02-signed-in-with-passkey");
      assertEquals(sub, again.get("sub").asText(), "the same person");
      if (rp.equals("openid-client")) {
        assertNotEquals("[\"otp\"]", again.get("amr").toString(), "a passkey sign-in says so in amr");
      }
    }
  }

  @Test
  void signed_in_at_one_app_a_person_is_signed_in_at_the_next_without_seeing_sesame() throws Exception {
    try (BrowserContext context = browsers.desktop()) {
      Page page = context.newPage();
      VirtualAuthenticator.attach(page, false);
      String email = newEmail();
      page.navigate(app("express") + "/login");
      signInByEmail(page, email);
      page.click("sesame-auth #skip-passkey"); // no passkey this time
      JsonNode atExpress = identity(page, "express");
      List<String> visited = new java.util.ArrayList<>();
      page.onFrameNavigated(frame -> visited.add(frame.url()));
      page.navigate(app("flask") + "/login");
      JsonNode atFlask = identity(page, "flask");
      assertEquals(atExpress.get("sub").asText(), atFlask.get("sub").asText());
      assertTrue(visited.stream().noneMatch(u -> u.startsWith(sesame.url())),
          "straight through Sesame with a redirect, no page: " + visited);
    }
  }

  @Test
  void prompt_none_without_a_session_comes_back_with_login_required() throws Exception {
    try (BrowserContext context = browsers.desktop()) {
      Page page = context.newPage();
      page.navigate(app("openid-client") + "/login?prompt=none");
      page.waitForURL(url -> url.startsWith(app("openid-client") + "/callback"));
      assertEquals("login_required", shown(page).get("error").asText());
    }
  }

  @Test
  void the_email_link_opened_on_another_device_ends_at_the_app_there() throws Exception {
    String email = newEmail();
    try (BrowserContext laptop = browsers.desktop(); BrowserContext phone = browsers.phone()) {
      Page first = laptop.newPage();
      first.navigate(app("openid-client") + "/login");
      first.waitForSelector("sesame-auth #email");
      first.fill("sesame-auth #email", email);
      first.click("sesame-auth button:has-text('Continue with email')");
      first.waitForSelector("sesame-auth #code");
      // The person opens the email on their phone and taps the link.
      Page other = phone.newPage();
      other.navigate(inbox.next(email).link());
      other.click("#confirm button");
      JsonNode signedIn = identity(other, "openid-client");
      assertEquals(email, signedIn.get("email").asText(), "the sealed request travelled with the email");
      assertTrue(signedIn.get("nonce").asBoolean());
    }
  }

  /**
   * Java's nimbus oauth2-oidc-sdk as the relying party, in the test itself: it builds the request and, after a real
   * sign-in in Chromium (email code, then a passkey on another profile), parses the redirect, exchanges the code,
   * validates the ID token and reads UserInfo.
   */
  @Test
  void nimbus_signs_a_person_in_by_email_and_then_by_passkey() throws Exception {
    com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata provider =
        com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata.resolve(
            new com.nimbusds.oauth2.sdk.id.Issuer(sesame.url()));
    String email = newEmail();
    JsonObject passkey;
    String sub;
    try (BrowserContext context = browsers.desktop()) {
      Page page = context.newPage();
      VirtualAuthenticator authenticator = VirtualAuthenticator.attach(page);
      NimbusSignIn signIn = new NimbusSignIn(provider);
      page.navigate(signIn.request().toString());
      signInByEmail(page, email);
      page.click("sesame-auth #create-passkey");
      sub = signIn.finish(page, email);
      passkey = authenticator.credentials().get(0).getAsJsonObject();
    }
    try (BrowserContext context = browsers.desktop()) {
      NimbusSignIn signIn = new NimbusSignIn(provider);
      Page page = passkeySignIn(context, passkey, signIn.request().toString());
      assertEquals(sub, signIn.finish(page, email), "the same person, by passkey");
    }
  }

  /** One sign-in as nimbus does it: request with state, nonce and PKCE; then the code, tokens and UserInfo. */
  static final class NimbusSignIn {
    final com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata provider;
    final com.nimbusds.oauth2.sdk.id.State state = new com.nimbusds.oauth2.sdk.id.State();
    final com.nimbusds.openid.connect.sdk.Nonce nonce = new com.nimbusds.openid.connect.sdk.Nonce();
    final com.nimbusds.oauth2.sdk.pkce.CodeVerifier verifier = new com.nimbusds.oauth2.sdk.pkce.CodeVerifier();
    final java.net.URI callback = java.net.URI.create(nimbusApp.origin() + "/callback");

    NimbusSignIn(com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata provider) {
      this.provider = provider;
    }

    java.net.URI request() {
      return new com.nimbusds.openid.connect.sdk.AuthenticationRequest.Builder(
          new com.nimbusds.oauth2.sdk.ResponseType("code"), new com.nimbusds.oauth2.sdk.Scope("openid", "email"),
          new com.nimbusds.oauth2.sdk.id.ClientID("nimbus"), callback)
          .endpointURI(provider.getAuthorizationEndpointURI()).state(state).nonce(nonce)
          .codeChallenge(verifier, com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod.S256).build().toURI();
    }

    /** Waits for the browser at the callback; returns the validated ID token's subject. */
    String finish(Page page, String email) throws Exception {
      page.waitForURL(url -> url.startsWith(callback.toString()));
      com.nimbusds.openid.connect.sdk.AuthenticationSuccessResponse success =
          com.nimbusds.openid.connect.sdk.AuthenticationResponseParser.parse(java.net.URI.create(page.url()))
              .toSuccessResponse();
      assertEquals(state, success.getState());
      assertEquals(provider.getIssuer(), success.getIssuer());
      com.nimbusds.openid.connect.sdk.OIDCTokenResponse tokens = (com.nimbusds.openid.connect.sdk.OIDCTokenResponse)
          com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser.parse(new com.nimbusds.oauth2.sdk.TokenRequest(
              provider.getTokenEndpointURI(), new com.nimbusds.oauth2.sdk.auth.ClientSecretBasic(
                  new com.nimbusds.oauth2.sdk.id.ClientID("nimbus"),
                  new com.nimbusds.oauth2.sdk.auth.Secret(nimbusSecret)),
              new com.nimbusds.oauth2.sdk.AuthorizationCodeGrant(success.getAuthorizationCode(), callback, verifier))
              .toHTTPRequest().send()).toSuccessResponse();
      com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet claims =
          new com.nimbusds.openid.connect.sdk.validators.IDTokenValidator(provider.getIssuer(),
              new com.nimbusds.oauth2.sdk.id.ClientID("nimbus"), com.nimbusds.jose.JWSAlgorithm.RS256,
              provider.getJWKSetURI().toURL()).validate(tokens.getOIDCTokens().getIDToken(), nonce);
      com.nimbusds.openid.connect.sdk.UserInfoSuccessResponse info =
          com.nimbusds.openid.connect.sdk.UserInfoResponse.parse(new com.nimbusds.openid.connect.sdk.UserInfoRequest(
              provider.getUserInfoEndpointURI(), tokens.getOIDCTokens().getBearerAccessToken()).toHTTPRequest()
              .send()).toSuccessResponse();
      assertEquals(claims.getSubject(), info.getUserInfo().getSubject());
      assertEquals(email, info.getUserInfo().getEmailAddress());
      return claims.getSubject().getValue();
    }
  }
}
