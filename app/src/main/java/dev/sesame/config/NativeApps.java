package dev.sesame.config;

import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The native apps that use this server's passkeys: iOS apps by App ID ({@code TEAMID.bundle.id}, listed in
 * {@code /.well-known/apple-app-site-association}) and Android apps by package name and the SHA-256 fingerprint of
 * their signing certificate (listed in {@code /.well-known/assetlinks.json}; their passkey responses carry the origin
 * {@code android:apk-key-hash:<base64url of the fingerprint>}, accepted for these apps only).
 */
public record NativeApps(List<String> appleAppIds, List<AndroidApp> androidApps) {
  private static final Pattern APPLE_APP_ID = Pattern.compile("[A-Z0-9]{10}\\.[A-Za-z0-9][A-Za-z0-9.-]*");
  private static final Pattern PACKAGE = Pattern.compile("[a-zA-Z][a-zA-Z0-9_]*(\\.[a-zA-Z][a-zA-Z0-9_]*)+");
  private static final Pattern FINGERPRINT = Pattern.compile("([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}");

  /** An Android app: its package and its signing certificate's SHA-256 fingerprint ({@code 14:6D:E9:…}, 32 bytes). */
  public record AndroidApp(String packageName, byte[] certificateSha256) {
    /** {@code AB:CD:…} in upper case, as assetlinks.json writes it. */
    public String fingerprint() {
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(certificateSha256);
    }

    /** The origin Android's Credential Manager puts in this app's clientDataJSON. */
    public String origin() {
      return "android:apk-key-hash:" + Base64.getUrlEncoder().withoutPadding().encodeToString(certificateSha256);
    }
  }

  public List<String> androidOrigins() {
    return androidApps.stream().map(AndroidApp::origin).toList();
  }

  static String appleAppId(String s) {
    if (!APPLE_APP_ID.matcher(s).matches()) {
      throw new IllegalArgumentException("expected an App ID like ABCDE12345.com.example.app (team id, a dot, the "
          + "bundle id), got '" + s + "'");
    }
    return s;
  }

  /** {@code com.example.app=14:6D:E9:…}. */
  static AndroidApp androidApp(String s) {
    int eq = s.indexOf('=');
    String name = eq < 0 ? "" : s.substring(0, eq).strip();
    String fingerprint = eq < 0 ? "" : s.substring(eq + 1).strip();
    if (!PACKAGE.matcher(name).matches() || !FINGERPRINT.matcher(fingerprint).matches()) {
      throw new IllegalArgumentException("expected package=SHA-256 fingerprint, like com.example.app=14:6D:E9:…"
          + " (32 bytes, from `keytool -list -v` or the Play Console), got '" + s + "'");
    }
    return new AndroidApp(name, HexFormat.ofDelimiter(":").parseHex(fingerprint.toLowerCase(Locale.ROOT)));
  }
}
