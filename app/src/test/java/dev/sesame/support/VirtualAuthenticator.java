package dev.sesame.support;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.microsoft.playwright.CDPSession;
import com.microsoft.playwright.Page;

/**
 * Chromium's WebAuthn virtual authenticator (Chrome DevTools Protocol): a platform authenticator with user
 * verification, like Touch ID or Windows Hello, that answers without a person.
 */
public final class VirtualAuthenticator {
  private final CDPSession cdp;
  private final String id;

  private VirtualAuthenticator(CDPSession cdp, String id) {
    this.cdp = cdp;
    this.id = id;
  }

  /** Answers every request at once, as if the person always confirmed. */
  public static VirtualAuthenticator attach(Page page) {
    return attach(page, true);
  }

  /**
   * With {@code present} false, requests wait until {@link #present()}: an autofill (conditional) request then stays
   * open like a person who has not picked a passkey yet, instead of being answered at once.
   */
  public static VirtualAuthenticator attach(Page page, boolean present) {
    return attach(page, present, "internal");
  }

  /**
   * An authenticator on {@code transport}: {@code internal} (the platform's; Chromium allows one a page) or
   * {@code usb} (a security key, or a password manager beside the platform's).
   */
  public static VirtualAuthenticator attach(Page page, boolean present, String transport) {
    CDPSession cdp = page.context().newCDPSession(page);
    JsonObject enable = new JsonObject();
    enable.addProperty("enableUI", false);
    cdp.send("WebAuthn.enable", enable);
    JsonObject options = new JsonObject();
    options.addProperty("protocol", "ctap2");
    options.addProperty("ctap2Version", "ctap2_1");
    options.addProperty("transport", transport);
    options.addProperty("hasResidentKey", true);
    options.addProperty("hasUserVerification", true);
    options.addProperty("isUserVerified", true);
    options.addProperty("automaticPresenceSimulation", present);
    JsonObject params = new JsonObject();
    params.add("options", options);
    String id = cdp.send("WebAuthn.addVirtualAuthenticator", params).get("authenticatorId").getAsString();
    return new VirtualAuthenticator(cdp, id);
  }

  /** The person now confirms: pending and later requests are answered. */
  public void present() {
    JsonObject params = new JsonObject();
    params.addProperty("authenticatorId", id);
    params.addProperty("enabled", true);
    cdp.send("WebAuthn.setAutomaticPresenceSimulation", params);
  }

  /** The credentials this authenticator holds, private keys included (to carry them to another profile). */
  public JsonArray credentials() {
    JsonObject params = new JsonObject();
    params.addProperty("authenticatorId", id);
    return cdp.send("WebAuthn.getCredentials", params).getAsJsonArray("credentials");
  }

  /** Puts a credential from {@link #credentials()} into this authenticator: the same passkey, synced. */
  public void add(JsonObject credential) {
    JsonObject params = new JsonObject();
    params.addProperty("authenticatorId", id);
    params.add("credential", credential);
    cdp.send("WebAuthn.addCredential", params);
  }
}
