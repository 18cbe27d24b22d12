package dev.sesame.support;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Real headless Chromium (Debian's package, no browser download) driven by Playwright. Chromium missing is a test
 * failure with instructions, never a skip.
 */
public final class Browsers implements AutoCloseable {
  private final Playwright playwright;
  private final Browser browser;

  private Browsers(Playwright playwright, Browser browser) {
    this.playwright = playwright;
    this.browser = browser;
  }

  public static Browsers launch() {
    Path chromium = Path.of(System.getenv().getOrDefault("SESAME_CHROMIUM", "/usr/bin/chromium"));
    if (!Files.isExecutable(chromium)) {
      throw new IllegalStateException("Chromium is needed for the browser tests and was not found at " + chromium
          + ". Install it (Debian: apt-get install chromium) or point SESAME_CHROMIUM at it.");
    }
    Playwright playwright = Playwright.create(new Playwright.CreateOptions()
        .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
    Browser browser = playwright.chromium().launch(new BrowserType.LaunchOptions()
        .setExecutablePath(chromium)
        .setHeadless(true)
        .setArgs(List.of("--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            // Names under localhost (app.localhost, login.localhost) are this machine, over IPv4 like the servers.
            "--host-resolver-rules=MAP *.localhost 127.0.0.1")));
    return new Browsers(playwright, browser);
  }

  /**
   * Chromium reports conditional create (the automatic passkey upgrade), which makes a passkey after an email sign-in
   * without asking. Contexts hide it by default, like the many browsers without it, so a flow shows the explicit
   * passkey offer; {@link #desktopWithAutomaticUpgrade()} keeps it.
   */
  static final String WITHOUT_CONDITIONAL_CREATE = """
      if (window.PublicKeyCredential && PublicKeyCredential.getClientCapabilities) {
        const original = PublicKeyCredential.getClientCapabilities.bind(PublicKeyCredential);
        PublicKeyCredential.getClientCapabilities = async () => ({ ...(await original()), conditionalCreate: false });
      }
      """;

  private BrowserContext newContext(Browser.NewContextOptions options) {
    BrowserContext context = browser.newContext(options);
    context.addInitScript(WITHOUT_CONDITIONAL_CREATE);
    return context;
  }

  /** A fresh profile (no cookies, no passkeys), desktop-sized. */
  public BrowserContext desktop() {
    return newContext(new Browser.NewContextOptions().setViewportSize(1280, 800).setLocale("en-US"));
  }

  /** As {@link #desktop()}, with Chromium's conditional create left on. */
  public BrowserContext desktopWithAutomaticUpgrade() {
    return browser.newContext(new Browser.NewContextOptions().setViewportSize(1280, 800).setLocale("en-US"));
  }

  /** A fresh profile on a phone: 390×844, touch, mobile user agent. */
  public BrowserContext phone() {
    return newContext(new Browser.NewContextOptions()
        .setViewportSize(390, 844).setDeviceScaleFactor(3).setIsMobile(true).setHasTouch(true).setLocale("en-US")
        .setUserAgent("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            + "Chrome/156.0.0.0 Mobile Safari/537.36"));
  }

  /**
   * A fresh profile whose browser asks for {@code locale} (Accept-Language and navigator.language), in the dark or
   * light scheme, on a desktop or a phone.
   */
  public BrowserContext context(String locale, boolean phone, boolean dark) {
    Browser.NewContextOptions options = new Browser.NewContextOptions().setLocale(locale)
        .setColorScheme(dark ? com.microsoft.playwright.options.ColorScheme.DARK
            : com.microsoft.playwright.options.ColorScheme.LIGHT);
    if (phone) {
      options.setViewportSize(390, 844).setDeviceScaleFactor(2).setIsMobile(true).setHasTouch(true)
          .setUserAgent("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
              + "Chrome/156.0.0.0 Mobile Safari/537.36");
    } else {
      options.setViewportSize(1280, 800);
    }
    return newContext(options);
  }

  /** Saves a screenshot under target/screenshots for a person to look at. */
  public static void screenshot(Page page, String name) {
    try {
      Path dir = Path.of("target", "screenshots");
      Files.createDirectories(dir);
      page.screenshot(new Page.ScreenshotOptions().setPath(dir.resolve(name + ".png")).setFullPage(true));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    browser.close();
    playwright.close();
  }
}
