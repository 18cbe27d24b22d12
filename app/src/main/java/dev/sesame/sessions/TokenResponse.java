package dev.sesame.sessions;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.sesame.users.User;
import java.util.UUID;

/** The answer to every successful sign-in and refresh. */
public record TokenResponse(
    @JsonProperty("access_token") String accessToken,
    @JsonProperty("token_type") String tokenType,
    @JsonProperty("expires_in") long expiresIn,
    @JsonProperty("refresh_token") String refreshToken,
    @JsonProperty("refresh_expires_in") long refreshExpiresIn,
    @JsonProperty("session_id") UUID sessionId,
    @JsonProperty("user") UserView user) {

  public record UserView(UUID id, String email, boolean emailVerified) {
    public static UserView of(User user) {
      return new UserView(user.id(), user.email(), user.emailVerified());
    }
  }
}
