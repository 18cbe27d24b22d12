package dev.sesame.oauth;

import dev.sesame.common.ApiException;
import dev.sesame.common.ClientInfo;
import dev.sesame.config.RateLimit;
import dev.sesame.ratelimit.RateLimiter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /v1/register} (RFC 7591), when {@code SESAME_DYNAMIC_REGISTRATION=on}: what MCP clients and other
 * apps that register themselves expect. Public clients only, so many per client address
 * ({@code SESAME_RATE_LIMIT_REGISTRATION}); such a client never gets a silent single sign-on — the person confirms
 * on Sesame's page every time (see {@link AuthorizationRequests}).
 */
public final class DynamicRegistration {
  private final Clients clients;
  private final RateLimiter rateLimiter;
  private final RateLimit limit;

  public DynamicRegistration(Clients clients, RateLimiter rateLimiter, RateLimit limit) {
    this.clients = clients;
    this.rateLimiter = rateLimiter;
    this.limit = limit;
  }

  /** The registered client's metadata with its {@code client_id} and {@code client_id_issued_at} (§3.2.1). */
  public Map<String, Object> register(Map<String, ?> metadata, ClientInfo caller) {
    rateLimiter.hit(new RateLimiter.Hit("register:ip:" + caller.ip(), limit));
    Clients.Issued issued;
    try {
      issued = clients.registerDynamic(metadata);
    } catch (ClientMetadata.Invalid e) {
      throw ApiException.badRequest(e.error(), e.getMessage()); // §3.2.2
    }
    Map<String, Object> out = new LinkedHashMap<>(issued.client().metadata());
    out.put("client_id_issued_at", Instant.now().getEpochSecond());
    return out;
  }
}
