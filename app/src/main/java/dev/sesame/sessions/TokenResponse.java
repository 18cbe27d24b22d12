package dev.sesame.sessions;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;
import dev.sesame.users.User;
import java.util.UUID;

/**
 * The answer to every successful sign-in and refresh. {@code authTime} and {@code amr} are the sign-in's facts (for
 * an ID token); {@code scope} is what a client was granted (null for the first-party client); {@code idToken} is set
 * when a client asked for {@code openid}.
 */
public record TokenResponse(
    @JsonProperty("access_token") String accessToken,
    @JsonProperty("token_type") String tokenType,
    @JsonProperty("expires_in") long expiresIn,
    @JsonProperty("refresh_token") String refreshToken,
    @JsonProperty("refresh_expires_in") long refreshExpiresIn,
    @JsonProperty("session_id") UUID sessionId,
    @JsonProperty("user") UserView user,
    @JsonIgnore Instant authTime,
    @JsonIgnore List<String> amr,
    @JsonIgnore List<String> scope,
    @JsonIgnore String idToken) {

  /**
   * The JSON body of this answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3), plus Sesame's {@code session_id}
   * and {@code user}. {@code refreshTokenInBody} false: the refresh token travels in a cookie instead.
   */
  public java.util.Map<String, Object> body(boolean refreshTokenInBody) {
    java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("access_token", accessToken);
    body.put("token_type", tokenType);
    body.put("expires_in", expiresIn);
    if (refreshToken != null) {
      if (refreshTokenInBody) {
        body.put("refresh_token", refreshToken);
      }
      body.put("refresh_expires_in", refreshExpiresIn);
    }
    if (idToken != null) {
      body.put("id_token", idToken);
    }
    if (scope != null) {
      body.put("scope", String.join(" ", scope));
    }
    body.put("session_id", sessionId);
    body.put("user", user);
    return body;
  }

  public TokenResponse withIdToken(String token) {
    return new TokenResponse(accessToken, tokenType, expiresIn, refreshToken, refreshExpiresIn, sessionId, user,
        authTime, amr, scope, token);
  }

  /** The same answer without a refresh token: for a client that may not use the refresh grant. */
  public TokenResponse withoutRefreshToken() {
    return new TokenResponse(accessToken, tokenType, expiresIn, null, 0, sessionId, user, authTime, amr, scope,
        idToken);
  }

  public record UserView(UUID id, String email, boolean emailVerified) {
    public static UserView of(User user) {
      return new UserView(user.id(), user.email(), user.emailVerified());
    }
  }
}
