package dev.sesame.authorize;

import dev.sesame.common.ApiException;
import dev.sesame.common.ClientInfo;
import dev.sesame.common.Outcome;
import dev.sesame.common.RedirectPolicy;
import dev.sesame.common.Secrets;
import dev.sesame.db.Sql;
import dev.sesame.sessions.SessionService;
import dev.sesame.sessions.TokenResponse;
import dev.sesame.oauth.Client;
import dev.sesame.oauth.ClientMetadata;
import dev.sesame.oauth.Clients;
import dev.sesame.tokens.IdTokens;
import java.util.List;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/**
 * The authorization code grant for server-rendered apps (RFC 6749 §4.1 with PKCE, RFC 7636): after a sign-in on the
 * hosted pages, the browser goes to the app's allow-listed {@code redirectTo} with a one-time code; the app exchanges
 * it at {@code POST /v1/token} for a session of its own. Codes live 60 seconds, are stored hashed, work once, and are
 * bound to the PKCE verifier when a challenge was given.
 */
public final class AuthorizationCodes {
  public static final Duration CODE_TTL = Duration.ofSeconds(60);
  private static final Pattern CHALLENGE = Pattern.compile("[A-Za-z0-9_-]{43}"); // BASE64URL(SHA-256), §4.2
  private static final Pattern VERIFIER = Pattern.compile("[A-Za-z0-9._~-]{43,128}"); // §4.1

  private final Jdbi jdbi;
  private final SessionService sessions;
  private final RedirectPolicy redirects;
  private final Clients clients;
  private final String issuer;
  private final IdTokens idTokens;

  /**
   * @param redirects where the built-in first-party client (the hosted pages) may send the browser
   * @param issuer added to every redirect as {@code iss} (RFC 9207), so a client can tell which server answered
   */
  public AuthorizationCodes(Jdbi jdbi, SessionService sessions, RedirectPolicy redirects, Clients clients,
                            String issuer, IdTokens idTokens) {
    this.idTokens = idTokens;
    this.jdbi = jdbi;
    this.sessions = sessions;
    this.redirects = redirects;
    this.clients = clients;
    this.issuer = issuer;
  }

  /**
   * Checks an app's request: the client ({@code clientId} null or the built-in id: the first-party client), where
   * the browser goes back to, and PKCE. A registered client's redirect URI must be one it registered, exactly; the
   * built-in client's must be under {@code SESAME_REDIRECT_ALLOWLIST}. No fragment (the code would be lost in it)
   * and no {@code code}, {@code state} or {@code iss} of its own (the answer's would be ambiguous). A public client
   * must send an S256 challenge (OAuth 2.1 §7.5.1); {@code method} defaults to S256, the only one accepted. Returns
   * the registered client, or empty for the first-party one.
   */
  public Optional<Client> checkRequest(String clientId, String redirectTo, String codeChallenge, String method) {
    Optional<Client> registered = clients.registered(clientId);
    if (redirectTo == null || redirectTo.isBlank()) {
      throw ApiException.badRequest("invalid_redirect", "redirect_uri is required.");
    }
    if (registered.isPresent()) {
      if (!registered.get().redirectUris().contains(redirectTo)) {
        throw ApiException.badRequest("invalid_redirect",
            "redirect_uri is not one of the URIs client '" + clientId + "' registered.");
      }
      if (!registered.get().grantTypes().contains("authorization_code")) {
        throw ApiException.badRequest("unauthorized_client",
            "Client '" + clientId + "' may not use the authorization code grant.");
      }
    } else {
      redirects.check(redirectTo);
    }
    checkShape(redirectTo);
    boolean isPublic = registered.map(Client::isPublic).orElse(true);
    if (codeChallenge == null) {
      if (isPublic) {
        throw ApiException.badRequest("invalid_request",
            "code_challenge is required (PKCE with S256): this client has no secret.");
      }
    } else {
      if (method != null && !method.equals("S256")) {
        throw ApiException.badRequest("invalid_request", "code_challenge_method must be S256.");
      }
      if (!CHALLENGE.matcher(codeChallenge).matches()) {
        throw ApiException.badRequest("invalid_request", "code_challenge must be BASE64URL(SHA-256(verifier)).");
      }
    }
    return registered;
  }

  /** A redirect target the answer's parameters can be added to unambiguously. */
  private static void checkShape(String redirectTo) {
    URI uri;
    try {
      uri = new URI(redirectTo);
    } catch (URISyntaxException e) {
      throw ApiException.badRequest("invalid_redirect", "redirect_uri is not a URI.");
    }
    if (uri.getRawFragment() != null || redirectTo.contains("#")) {
      throw ApiException.badRequest("invalid_redirect", "redirect_uri must not have a fragment.");
    }
    String query = uri.getRawQuery();
    if (query != null) {
      for (String pair : query.split("&")) {
        String name = pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair;
        if (RESPONSE_PARAMETERS.contains(URLDecoder.decode(name, StandardCharsets.UTF_8))) {
          throw ApiException.badRequest("invalid_redirect",
              "redirect_uri must not carry its own '" + name + "' parameter.");
        }
      }
    }
  }

  private static final java.util.Set<String> RESPONSE_PARAMETERS =
      java.util.Set.of("code", "state", "iss", "error", "error_description");

  /**
   * Mints a code for a signed-in session, bound to the client, the redirect URI and the PKCE challenge, and returns
   * where to send the browser: the redirect URI with {@code code}, {@code state} and {@code iss} added.
   */
  public String authorize(UUID sessionId, String clientId, String redirectTo, String state, String codeChallenge,
                          String method, String scope, String nonce) {
    Optional<Client> client = checkRequest(clientId, redirectTo, codeChallenge, method);
    if (state != null && state.length() > 512) {
      throw ApiException.badRequest("invalid_request", "state is too long.");
    }
    if (nonce != null && (nonce.isEmpty() || nonce.length() > 512)) {
      throw ApiException.badRequest("invalid_request", "nonce is 1 to 512 characters.");
    }
    List<String> scopes = scopes(client, scope);
    String code = Secrets.randomToken(32);
    jdbi.useHandle(h -> h.createUpdate("""
            INSERT INTO authorization_codes (code_hash, session_id, client_id, redirect_uri, code_challenge, scope,
                                             nonce, expires_at)
            VALUES (:hash, :sessionId, :clientId, :redirectUri, :challenge, :scope, :nonce,
                    now() + make_interval(secs => :ttl))
            """)
        .bind("hash", Secrets.sha256(code)).bind("sessionId", sessionId)
        .bind("clientId", client.map(Client::clientId).orElse(null)).bind("redirectUri", redirectTo)
        .bind("challenge", codeChallenge).bind("ttl", CODE_TTL.toSeconds())
        .bind("scope", scopes.isEmpty() ? null : scopes.toArray(String[]::new)).bind("nonce", nonce)
        .execute());
    StringBuilder url = new StringBuilder(redirectTo).append(redirectTo.contains("?") ? "&" : "?")
        .append("code=").append(code);
    if (state != null) {
      url.append("&state=").append(URLEncoder.encode(state, StandardCharsets.UTF_8));
    }
    url.append("&iss=").append(URLEncoder.encode(issuer, StandardCharsets.UTF_8));
    return url.toString();
  }

  /**
   * {@code grant_type=authorization_code}: a new session for the app, with the sign-in facts of the original one.
   * A code presented twice is refused, and the session the first exchange produced is revoked (RFC 6749 §4.1.2).
   */
  public TokenResponse exchange(String code, String codeVerifier, String redirectUri, Optional<Client> presenter,
                                ClientInfo client) {
    if (redirectUri == null) {
      // RFC 6749 §4.1.3: required when the authorization request had one, and here it always has.
      throw ApiException.badRequest("invalid_request", "redirect_uri is required.");
    }
    byte[] hash = Secrets.sha256(code);
    String presenterId = presenter.map(Client::clientId).orElse(null);
    Outcome<TokenResponse> outcome = jdbi.inTransaction(h -> {
      Optional<Map<String, Object>> row = h.createQuery("""
              SELECT session_id, client_id, redirect_uri, code_challenge, consumed_at, issued_session_id, scope,
                     nonce, expires_at < now() AS expired
              FROM authorization_codes WHERE code_hash = :hash FOR UPDATE
              """)
          .bind("hash", hash).mapToMap().findOne();
      if (row.isEmpty()) {
        return Outcome.refused(invalidGrant("The code is not known."));
      }
      Map<String, Object> c = row.get();
      if (c.get("consumed_at") != null) {
        UUID issued = (UUID) c.get("issued_session_id");
        if (issued != null) {
          sessions.revoke(h, issued, "authorization_code_reuse", client);
        }
        return Outcome.refused(invalidGrant("The code was already used."));
      }
      h.createUpdate("UPDATE authorization_codes SET consumed_at = now() WHERE code_hash = :hash")
          .bind("hash", hash).execute();
      if ((Boolean) c.get("expired")) {
        return Outcome.refused(invalidGrant("The code has expired."));
      }
      if (!java.util.Objects.equals(presenterId, c.get("client_id"))) {
        // RFC 6749 §4.1.3: the code was issued to another client.
        return Outcome.refused(invalidGrant("The code was issued to another client."));
      }
      if (!redirectUri.equals(c.get("redirect_uri"))) {
        return Outcome.refused(invalidGrant("redirect_uri does not match the one the code was issued for."));
      }
      String challenge = (String) c.get("code_challenge");
      if (challenge != null) {
        if (codeVerifier == null || !VERIFIER.matcher(codeVerifier).matches()) {
          return Outcome.refused(invalidGrant("A code_verifier is required for this code."));
        }
        String computed = Base64.getUrlEncoder().withoutPadding()
            .encodeToString(Secrets.sha256(codeVerifier.getBytes(StandardCharsets.US_ASCII)));
        if (!Secrets.constantTimeEquals(computed.getBytes(StandardCharsets.US_ASCII),
            challenge.getBytes(StandardCharsets.US_ASCII))) {
          return Outcome.refused(invalidGrant("The code_verifier does not match the code_challenge."));
        }
      }
      List<String> scopes = Sql.strings(c.get("scope"));
      Optional<TokenResponse> tokens = sessions.startFrom(h, (UUID) c.get("session_id"), presenterId, scopes,
          client);
      if (tokens.isEmpty()) {
        return Outcome.refused(invalidGrant("The sign-in this code came from has ended."));
      }
      if (scopes != null && scopes.contains("openid")) {
        // OpenID Connect Core §3.1.3.3: an ID token for the client, with the nonce it sent.
        TokenResponse t = tokens.get();
        String idToken = idTokens.issue(presenter.map(Client::clientId).orElse(clients.firstPartyId()),
            presenter.map(Client::idTokenSignedResponseAlg).orElse("RS256"),
            new IdTokens.Subject(t.user().id(), t.user().email(), t.user().emailVerified(), t.sessionId(),
                t.authTime(), t.amr()), (String) c.get("nonce"), t.accessToken(), scopes);
        tokens = Optional.of(t.withIdToken(idToken));
      }
      h.createUpdate("UPDATE authorization_codes SET issued_session_id = :sid WHERE code_hash = :hash")
          .bind("sid", tokens.get().sessionId()).bind("hash", hash).execute();
      return Outcome.ok(tokens.get());
    });
    return outcome.get();
  }

  /**
   * The scopes asked for (space-separated), each one Sesame knows and, for a registered client, one it may ask for;
   * 400 {@code invalid_scope} otherwise. None asked: none granted (no ID token).
   */
  private static List<String> scopes(Optional<Client> client, String scope) {
    if (scope == null || scope.isBlank()) {
      return List.of();
    }
    List<String> asked = new java.util.ArrayList<>(new java.util.LinkedHashSet<>(List.of(scope.strip().split(" +"))));
    List<String> allowed = client.map(Client::scopes).orElse(ClientMetadata.SCOPES);
    for (String s : asked) {
      if (!allowed.contains(s)) {
        throw ApiException.badRequest("invalid_scope", "The scope '" + s + "' is not available to this client.");
      }
    }
    return List.copyOf(asked);
  }

  private static ApiException invalidGrant(String detail) {
    return ApiException.badRequest("invalid_grant", detail);
  }
}
