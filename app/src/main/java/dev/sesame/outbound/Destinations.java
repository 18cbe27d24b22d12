package dev.sesame.outbound;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Where Sesame's own outbound calls may go (SSRF): webhooks and back-channel logout notices alike. https anywhere
 * public; http only to this machine, for development; never to an address that is not globally reachable unless
 * {@code SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true}. Checked when an endpoint or client is registered and again, with
 * a fresh lookup by the HTTP client's own resolver, at every connection (a name may be pointed elsewhere later).
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
      throw new IllegalArgumentException("the URL must be https://host/… (or http:// to this machine)");
    }
    if (uri.getUserInfo() != null || uri.getFragment() != null) {
      throw new IllegalArgumentException("the URL must have no user:password@ and no #fragment");
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
          throw new IllegalArgumentException(uri.getHost() + " is not a public address ("
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
        throw new IllegalArgumentException(host + " resolves to an address that is not public ("
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

  /**
   * True for every address that is not globally reachable unicast: the IANA IPv4 and IPv6 Special-Purpose Address
   * Registries (RFC 6890 and its updates) where "Globally Reachable" is false, multicast, and IPv6 outside 2000::/3.
   * Addresses that carry an IPv4 address inside (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the
   * IPv4 address they lead to: NAT64 of 127.0.0.1 or of the cloud metadata address is as internal as those are.
   * Teredo (2001::/32) hides its server and client addresses, so it is refused whole.
   */
  public static boolean isPrivate(InetAddress a) {
    byte[] b = a.getAddress();
    if (b.length == 4) {
      return privateV4(b, 0);
    }
    int b0 = b[0] & 0xff;
    int b1 = b[1] & 0xff;
    int b2 = b[2] & 0xff;
    if (allZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
      return privateV4(b, 12); // ::ffff:0:0/96 IPv4-mapped
    }
    if (allZero(b, 0, 12)) {
      return true; // ::, ::1 and the deprecated IPv4-compatible ::/96
    }
    if (b0 == 0x00 && b1 == 0x64 && b2 == 0xff && (b[3] & 0xff) == 0x9b) {
      // 64:ff9b::/96 well-known NAT64 prefix (RFC 6052): the IPv4 address it translates to decides;
      // 64:ff9b:1::/48 local-use NAT64 (RFC 8215) is never global.
      return !allZero(b, 4, 12) || privateV4(b, 12);
    }
    if (b0 == 0x20 && b1 == 0x02) {
      return privateV4(b, 2); // 2002::/16 6to4 (RFC 3056): the embedded IPv4 address decides
    }
    if (b0 == 0x20 && b1 == 0x01 && b2 < 0x02) {
      return true; // 2001::/23 IETF protocol assignments: Teredo 2001::/32, benchmarking, ORCHID…
    }
    if (b0 == 0x20 && b1 == 0x01 && b2 == 0x0d && (b[3] & 0xff) == 0xb8) {
      return true; // 2001:db8::/32 documentation
    }
    if (b0 == 0x3f && b1 == 0xff && b2 < 0x10) {
      return true; // 3fff::/20 documentation (RFC 9637)
    }
    // Everything else outside 2000::/3 global unicast: fc00::/7 unique local, fe80::/10 link-local, ff00::/8
    // multicast, 100::/64 discard, 5f00::/16 SRv6 and unassigned space.
    return (b0 & 0xe0) != 0x20;
  }

  private static boolean allZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static boolean privateV4(byte[] b, int at) {
    int a0 = b[at] & 0xff;
    int a1 = b[at + 1] & 0xff;
    int a2 = b[at + 2] & 0xff;
    return a0 == 0 // 0.0.0.0/8 "this network"
        || a0 == 10 // 10.0.0.0/8 private
        || a0 == 100 && a1 >= 64 && a1 < 128 // 100.64.0.0/10 carrier-grade NAT
        || a0 == 127 // loopback
        || a0 == 169 && a1 == 254 // link-local, cloud metadata
        || a0 == 172 && a1 >= 16 && a1 < 32 // 172.16.0.0/12 private
        || a0 == 192 && a1 == 0 && a2 == 0 // 192.0.0.0/24 IETF protocol assignments
        || a0 == 192 && a1 == 0 && a2 == 2 // 192.0.2.0/24 TEST-NET-1
        || a0 == 192 && a1 == 88 && a2 == 99 // 192.88.99.0/24 6to4 relay anycast (deprecated)
        || a0 == 192 && a1 == 168 // 192.168.0.0/16 private
        || a0 == 198 && (a1 == 18 || a1 == 19) // 198.18.0.0/15 benchmarking
        || a0 == 198 && a1 == 51 && a2 == 100 // 198.51.100.0/24 TEST-NET-2
        || a0 == 203 && a1 == 0 && a2 == 113 // 203.0.113.0/24 TEST-NET-3
        || a0 >= 224; // multicast, 240.0.0.0/4 reserved, broadcast
  }
}
