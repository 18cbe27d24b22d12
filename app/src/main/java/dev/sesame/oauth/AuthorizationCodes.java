package dev.sesame.oauth;

import dev.sesame.common.ApiException;
import dev.sesame.common.ClientInfo;
import dev.sesame.common.Outcome;
import dev.sesame.common.Secrets;
import dev.sesame.db.Sql;
import dev.sesame.sessions.SessionService;
import dev.sesame.sessions.TokenResponse;
import dev.sesame.tokens.IdTokens;
import dev.sesame.users.Metadata;
import dev.sesame.users.Users;
import java.util.List;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/**
 * The authorization code grant (RFC 6749 §4.1 with PKCE, RFC 7636; OpenID Connect Core §3.1): after a sign-in on the
 * hosted pages, the browser goes to the client's redirect URI with a one-time code; the client exchanges it at
 * {@code POST /v1/token} for a session of its own. Codes live 60 seconds, are stored hashed, work once, and are
 * bound to the PKCE verifier when a challenge was given.
 */
public final class AuthorizationCodes {
  public static final Duration CODE_TTL = Duration.ofSeconds(60);
  private static final Pattern VERIFIER = Pattern.compile("[A-Za-z0-9._~-]{43,128}"); // §4.1

  private final Jdbi jdbi;
  private final SessionService sessions;
  private final AuthorizationRequests requests;
  private final Clients clients;
  private final IdTokens idTokens;

  public AuthorizationCodes(Jdbi jdbi, SessionService sessions, AuthorizationRequests requests, Clients clients,
                            IdTokens idTokens) {
    this.idTokens = idTokens;
    this.jdbi = jdbi;
    this.sessions = sessions;
    this.requests = requests;
    this.clients = clients;
  }

  /**
   * A sign-in ({@code session}) may not answer this request: it is older than the request's {@code prompt=login} or
   * {@code max_age} allows. OpenID Connect's {@code login_required}: the person must sign in again.
   */
  public static final class LoginRequired extends RuntimeException {
    LoginRequired() {
      super("Sign in again to continue.", null, false, false);
    }
  }

  /**
   * Mints a code for a signed-in session, bound to the client, the redirect URI, the PKCE challenge, the scopes and
   * the nonce, and returns where to send the browser: the redirect URI with {@code code}, {@code state} and
   * {@code iss} added. One round trip besides the client's re-check.
   *
   * @throws LoginRequired when the session's sign-in is too old for the request
   */
  public String authorize(SessionService.ActiveSession session, AuthorizationRequest request) {
    if (!request.acceptsSignInAt(session.authTime(), java.time.Instant.now())) {
      throw new LoginRequired();
    }
    requests.recheck(request);
    String code = Secrets.randomToken(32);
    jdbi.useHandle(h -> h.createUpdate("""
            INSERT INTO authorization_codes (code_hash, session_id, client_id, redirect_uri, code_challenge, scope,
                                             nonce, expires_at)
            VALUES (:hash, :sessionId, :clientId, :redirectUri, :challenge, :scope, :nonce,
                    now() + make_interval(secs => :ttl))
            """)
        .bind("hash", Secrets.sha256(code)).bind("sessionId", session.sessionId())
        .bind("clientId", request.clientId()).bind("redirectUri", request.redirectUri())
        .bind("challenge", request.codeChallenge()).bind("ttl", CODE_TTL.toSeconds())
        .bind("scope", request.scopes().isEmpty() ? null : request.scopes().toArray(String[]::new))
        .bind("nonce", request.nonce())
        .execute());
    return requests.codeRedirect(request, code);
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
      // Consumed at once, whatever follows: a second exchange of the same code waits for this one's row lock,
      // then finds it consumed.
      Optional<Map<String, Object>> row = h.createQuery("""
              UPDATE authorization_codes SET consumed_at = now() WHERE code_hash = :hash AND consumed_at IS NULL
              RETURNING session_id, client_id, redirect_uri, code_challenge, scope, nonce, expires_at < now() AS expired
              """)
          .bind("hash", hash).mapToMap().findOne();
      if (row.isEmpty()) {
        Optional<Optional<UUID>> used = h.createQuery(
                "SELECT issued_session_id FROM authorization_codes WHERE code_hash = :hash FOR UPDATE")
            .bind("hash", hash).map((rs, ctx) -> Optional.ofNullable(rs.getObject(1, UUID.class))).findOne();
        if (used.isEmpty()) {
          return Outcome.refused(invalidGrant("The code is not known."));
        }
        used.get().ifPresent(issued -> sessions.revoke(h, issued, "authorization_code_reuse", client));
        return Outcome.refused(invalidGrant("The code was already used."));
      }
      Map<String, Object> c = row.get();
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
                t.authTime(), t.amr(), scopes.contains("metadata")
                    ? Metadata.parse(Users.publicMetadata(h, t.user().id()).orElse("{}")) : null,
                scopes.contains("profile") ? Users.names(h, t.user().id()).claims() : null),
            (String) c.get("nonce"), t.accessToken(), scopes);
        tokens = Optional.of(t.withIdToken(idToken));
      }
      h.createUpdate("UPDATE authorization_codes SET issued_session_id = :sid WHERE code_hash = :hash")
          .bind("sid", tokens.get().sessionId()).bind("hash", hash).execute();
      return Outcome.ok(tokens.get());
    });
    return outcome.get();
  }

  private static ApiException invalidGrant(String detail) {
    return ApiException.badRequest("invalid_grant", detail);
  }
}
