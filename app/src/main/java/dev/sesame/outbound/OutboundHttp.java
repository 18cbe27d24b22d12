package dev.sesame.outbound;

import java.time.Duration;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;

/**
 * The HTTP client for every call Sesame makes to an address someone registered (webhooks, back-channel logout):
 * it connects only to what {@link Destinations} allows, resolving names itself at connection time (so a name
 * re-pointed at an internal address after registration is refused, DNS rebinding), follows no redirects (a 3xx is
 * the receiver's answer, not an instruction), and the caller bounds each whole exchange with
 * {@code request.timeout(...)}: Jetty's request timeout covers connecting, sending and reading the entire response,
 * so a receiver that answers 200 and then trickles its body cannot hold a sender longer than that.
 */
public final class OutboundHttp {
  private OutboundHttp() {}

  /** A started client; stop it with the feature that owns it. */
  public static HttpClient start(Destinations destinations, String userAgent, Duration connectTimeout) {
    HttpClient http = new HttpClient();
    http.setFollowRedirects(false);
    http.setConnectTimeout(connectTimeout.toMillis());
    http.setUserAgentField(new HttpField(HttpHeader.USER_AGENT, userAgent));
    http.setSocketAddressResolver((host, port, context, promise) -> {
      try {
        promise.succeeded(destinations.addresses(host, port));
      } catch (IllegalArgumentException e) {
        promise.failed(new java.net.UnknownHostException(e.getMessage()));
      }
    });
    try {
      http.start();
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the outbound HTTP client", e);
    }
    return http;
  }
}
