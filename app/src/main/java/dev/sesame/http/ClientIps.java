package dev.sesame.http;

import dev.sesame.common.ClientInfo;
import dev.sesame.config.Cidr;
import io.javalin.http.Context;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy ({@code SESAME_TRUSTED_PROXIES}); then
 * the right-most {@code X-Forwarded-For} entry that is not itself a trusted proxy. Entries a client wrote (further
 * left) are never believed.
 */
public final class ClientIps {
  private static final Pattern LITERAL = Pattern.compile("[0-9a-fA-F:.]+");
  private final List<Cidr> trustedProxies;

  public ClientIps(List<Cidr> trustedProxies) {
    this.trustedProxies = trustedProxies;
  }

  public ClientInfo of(Context ctx) {
    return new ClientInfo(ip(ctx), ctx.header("User-Agent"));
  }

  public String ip(Context ctx) {
    String peer = normalize(ctx.req().getRemoteAddr());
    if (trustedProxies.isEmpty() || !trusted(peer)) {
      return peer;
    }
    String forwarded = ctx.header("X-Forwarded-For");
    if (forwarded == null || forwarded.isBlank()) {
      return peer;
    }
    String[] hops = forwarded.split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      String hop = hops[i].strip();
      if (!LITERAL.matcher(hop).matches()) {
        return peer; // garbage in the chain: fall back to what we know
      }
      if (!trusted(hop)) {
        return normalize(hop);
      }
    }
    return peer;
  }

  /** Whether the request came straight from a trusted proxy (whose headers, such as X-Request-Id, count). */
  public boolean fromTrustedProxy(Context ctx) {
    return !trustedProxies.isEmpty() && trusted(normalize(ctx.req().getRemoteAddr()));
  }

  /**
   * One spelling per address, wherever it came from: without the brackets Jetty puts around an IPv6 peer
   * ({@code [0:0:0:0:0:0:0:1]}), an IPv4-mapped IPv6 address as the IPv4 address it is, and IPv6 in its RFC 5952
   * form ({@code ::1}). Rate limits, loopback checks and the audit log then see the same client the same way. Text
   * that is not an address literal is returned as it is (it is never looked up).
   */
  public static String normalize(String address) {
    if (address == null) {
      return null;
    }
    String a = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1)
        : address;
    int zone = a.indexOf('%');
    if (zone >= 0) {
      a = a.substring(0, zone);
    }
    if (!LITERAL.matcher(a).matches() || a.isEmpty()) {
      return address;
    }
    try {
      InetAddress inet = InetAddress.getByName(a); // a literal: no lookup happens
      return inet instanceof java.net.Inet6Address ? rfc5952(inet.getAddress()) : inet.getHostAddress();
    } catch (UnknownHostException e) {
      return address;
    }
  }

  /** RFC 5952 §4: lower case, no leading zeros, the longest run of two or more zero groups as "::". */
  private static String rfc5952(byte[] b) {
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; i++) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = Math.max(i, j);
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLength - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(groups[i]));
    }
    return out.toString();
  }

  private boolean trusted(String address) {
    if (!LITERAL.matcher(address).matches()) {
      return false;
    }
    try {
      InetAddress inet = InetAddress.getByName(address); // a literal: no lookup happens
      return trustedProxies.stream().anyMatch(c -> c.contains(inet));
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
