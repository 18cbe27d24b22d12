package dev.sesame.webhooks;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Where webhooks may go (SSRF): https anywhere public; http only to this machine, for development; never to a
 * private, loopback, link-local, unique-local, multicast or unspecified address unless
 * {@code SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true}. Checked when an endpoint is registered and again, with a fresh
 * lookup, before every delivery (a name may be pointed elsewhere later).
 */
public final class Destinations {
  private final boolean allowPrivate;

  public Destinations(boolean allowPrivate) {
    this.allowPrivate = allowPrivate;
  }

  /** The URL, checked; {@link IllegalArgumentException} saying why it may not be used. */
  public URI check(String url) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a URL: " + url);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (uri.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
      throw new IllegalArgumentException("a webhook URL is https://host/… (or http:// to this machine)");
    }
    if (uri.getUserInfo() != null || uri.getFragment() != null) {
      throw new IllegalArgumentException("a webhook URL has no user:password@ and no #fragment");
    }
    InetAddress[] addresses = resolve(uri.getHost());
    boolean local = true;
    for (InetAddress a : addresses) {
      local &= a.isLoopbackAddress();
    }
    if (scheme.equals("http") && !local) {
      throw new IllegalArgumentException("plain http is only for this machine (localhost); use https");
    }
    if (!allowPrivate) {
      for (InetAddress a : addresses) {
        if (isPrivate(a)) {
          throw new IllegalArgumentException(uri.getHost() + " is a private, loopback or link-local address ("
              + a.getHostAddress() + "); set SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it");
        }
      }
    }
    return uri;
  }

  /**
   * The addresses to connect to for {@code host}: the same check as {@link #check}, made by the HTTP client's own
   * resolver at connection time, so a name re-pointed to an internal address after the check (DNS rebinding) is
   * refused rather than connected to.
   */
  public java.util.List<java.net.InetSocketAddress> addresses(String host, int port) {
    InetAddress[] resolved = resolve(host);
    java.util.List<java.net.InetSocketAddress> out = new java.util.ArrayList<>();
    for (InetAddress a : resolved) {
      if (!allowPrivate && isPrivate(a)) {
        throw new IllegalArgumentException(host + " resolves to a private, loopback or link-local address ("
            + a.getHostAddress() + "); set SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it");
      }
      out.add(new java.net.InetSocketAddress(a, port));
    }
    return out;
  }

  private static InetAddress[] resolve(String host) {
    try {
      return InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("cannot resolve " + host);
    }
  }

  static boolean isPrivate(InetAddress a) {
    if (a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress()
        || a.isMulticastAddress()) {
      return true;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet6Address) {
      return (b[0] & 0xfe) == 0xfc; // fc00::/7 unique local
    }
    int first = b[0] & 0xff;
    int second = b[1] & 0xff;
    return first == 100 && second >= 64 && second < 128 // 100.64.0.0/10 carrier-grade NAT
        || first == 0 || first >= 240; // "this network", reserved
  }
}
