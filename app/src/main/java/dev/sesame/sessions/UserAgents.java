package dev.sesame.sessions;

/** A readable device summary ("Chrome on macOS") from a User-Agent header, for the list of sessions. */
final class UserAgents {
  private UserAgents() {}

  static String describe(String ua) {
    if (ua == null || ua.isBlank()) {
      return "Unknown device";
    }
    String browser;
    if (ua.contains("Edg/")) {
      browser = "Edge";
    } else if (ua.contains("OPR/")) {
      browser = "Opera";
    } else if (ua.contains("Firefox/")) {
      browser = "Firefox";
    } else if (ua.contains("Chrome/") || ua.contains("CriOS/")) {
      browser = "Chrome";
    } else if (ua.contains("Safari/")) {
      browser = "Safari";
    } else if (ua.startsWith("curl/")) {
      browser = "curl";
    } else {
      browser = "An app";
    }
    String os;
    if (ua.contains("iPhone")) {
      os = "iPhone";
    } else if (ua.contains("iPad")) {
      os = "iPad";
    } else if (ua.contains("Android")) {
      os = "Android";
    } else if (ua.contains("Mac OS X") || ua.contains("Macintosh")) {
      os = "macOS";
    } else if (ua.contains("Windows")) {
      os = "Windows";
    } else if (ua.contains("CrOS")) {
      os = "ChromeOS";
    } else if (ua.contains("Linux")) {
      os = "Linux";
    } else {
      return browser;
    }
    return browser + " on " + os;
  }
}
