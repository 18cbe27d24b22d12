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
    String peer = ctx.req().getRemoteAddr();
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
        return hop;
      }
    }
    return peer;
  }

  /** Whether the request came straight from a trusted proxy (whose headers, such as X-Request-Id, count). */
  public boolean fromTrustedProxy(Context ctx) {
    return !trustedProxies.isEmpty() && trusted(ctx.req().getRemoteAddr());
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
