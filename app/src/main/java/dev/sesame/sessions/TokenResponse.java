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
