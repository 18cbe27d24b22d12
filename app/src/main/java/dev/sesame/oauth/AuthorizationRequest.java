package dev.sesame.oauth;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * An authorization request that passed every check (OpenID Connect Core §3.1.2.1, RFC 6749 §4.1.1, RFC 7636):
 * what the person signs in for. It travels sealed ({@link AuthorizationRequests#seal}) through the hosted page and
 * an email flow, so an anonymous request stores nothing.
 *
 * @param clientId the client, or null for the built-in first-party client
 * @param clientName what the sign-in page calls the app
 * @param scopes the granted scopes: those asked for that Sesame knows and the client may have (Core §5.4: unknown
 *     ones are ignored)
 * @param prompt {@code none}, {@code login}, {@code consent}, {@code select_account}, {@code create} (Core §3.1.2.1,
 *     Initiating User Registration 1.0)
 * @param maxAge seconds a sign-in may be old for this client, or null
 * @param loginHint an email address to start with, or null
 * @param requestedAt when the request arrived: {@code prompt=login} wants a sign-in after it
 */
public record AuthorizationRequest(String clientId, String clientName, String redirectUri, String state, String nonce,
                                   String codeChallenge, List<String> scopes, Set<String> prompt, Long maxAge,
                                   String loginHint, String uiLocales, Instant requestedAt) {

  public boolean promptNone() {
    return prompt.contains("none");
  }

  /**
   * Whether a sign-in made at {@code authTime} may answer this request at {@code now}: not with {@code prompt=login}
   * unless it happened after the request, and not when older than {@code max_age} (Core §3.1.2.1).
   */
  public boolean acceptsSignInAt(Instant authTime, Instant now) {
    if (prompt.contains("login") && authTime.isBefore(requestedAt)) {
      return false;
    }
    return maxAge == null || !authTime.plusSeconds(maxAge).isBefore(now);
  }
}
