package dev.sesame.common;

/** Who is calling: the client address (after trusted proxies) and the user agent, for sessions and audit events. */
public record ClientInfo(String ip, String userAgent) {
  public ClientInfo {
    if (userAgent != null && userAgent.length() > 512) {
      userAgent = userAgent.substring(0, 512);
    }
  }
}
