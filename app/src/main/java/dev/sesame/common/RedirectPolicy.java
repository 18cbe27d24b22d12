package dev.sesame.common;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * Where a sign-in may send the browser afterwards: only under one of the allow-listed URL prefixes, compared by
 * parsed scheme, host and port and by whole path segments, so {@code https://app.example.evil.com} never matches
 * {@code https://app.example} and there is no open redirect.
 */
public final class RedirectPolicy {
  private final List<URI> allowed;

  public RedirectPolicy(List<String> prefixes) {
    this.allowed = prefixes.stream().map(URI::create).toList();
  }

  public boolean isAllowed(String target) {
    URI uri;
    try {
      uri = new URI(target);
    } catch (URISyntaxException e) {
      return false;
    }
    if (!uri.isAbsolute() || uri.getHost() == null || uri.getRawUserInfo() != null) {
      return false;
    }
    for (URI prefix : allowed) {
      if (sameOrigin(prefix, uri) && pathWithin(prefix.getRawPath(), uri.getRawPath())) {
        return true;
      }
    }
    return false;
  }

  /** 400 {@code invalid_redirect} unless allowed. */
  public void check(String target) {
    if (!isAllowed(target)) {
      throw ApiException.badRequest("invalid_redirect", "redirectTo is not in SESAME_REDIRECT_ALLOWLIST.");
    }
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme())
        && a.getHost().toLowerCase(Locale.ROOT).equals(b.getHost().toLowerCase(Locale.ROOT))
        && port(a) == port(b);
  }

  private static int port(URI uri) {
    if (uri.getPort() != -1) {
      return uri.getPort();
    }
    return uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
  }

  private static boolean pathWithin(String prefixPath, String path) {
    String p = prefixPath == null || prefixPath.isEmpty() ? "/" : prefixPath;
    String t = path == null || path.isEmpty() ? "/" : path;
    if (t.contains("/../") || t.endsWith("/..") || t.contains("%2e") || t.contains("%2E")) {
      return false; // no climbing out of the allowed prefix
    }
    if (p.endsWith("/")) {
      return t.startsWith(p) || t.equals(p.substring(0, p.length() - 1));
    }
    return t.equals(p) || t.startsWith(p + "/");
  }
}
