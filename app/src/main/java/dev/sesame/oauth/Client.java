package dev.sesame.oauth;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A registered OAuth 2 / OpenID Connect client, as RFC 7591 names its metadata. A public client
 * ({@code token_endpoint_auth_method = none}) has no secret and must use PKCE; a confidential one authenticates with
 * its secret the way it registered.
 */
public record Client(String clientId, String clientName, AuthMethod authMethod, List<String> redirectUris,
                     List<String> postLogoutRedirectUris, List<String> grantTypes, List<String> scopes,
                     List<String> webOrigins, String idTokenSignedResponseAlg, Optional<String> backchannelLogoutUri,
                     Source source) {

  /** RFC 7591 §2 {@code token_endpoint_auth_method}. */
  public enum AuthMethod {
    CLIENT_SECRET_BASIC("client_secret_basic"), CLIENT_SECRET_POST("client_secret_post"), NONE("none");

    private final String value;

    AuthMethod(String value) {
      this.value = value;
    }

    public String value() {
      return value;
    }

    public static AuthMethod of(String value) {
      for (AuthMethod m : values()) {
        if (m.value.equals(value)) {
          return m;
        }
      }
      throw new IllegalArgumentException("token_endpoint_auth_method must be client_secret_basic, client_secret_post "
          + "or none, got '" + value + "'");
    }
  }

  /** Who manages the client. */
  public enum Source { MANAGED, FILE, DYNAMIC }

  public boolean isPublic() {
    return authMethod == AuthMethod.NONE;
  }

  /** The client's metadata as RFC 7591 §3.2.1 returns it (never the secret). */
  public Map<String, Object> metadata() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("client_id", clientId);
    m.put("client_name", clientName);
    m.put("token_endpoint_auth_method", authMethod.value());
    m.put("redirect_uris", redirectUris);
    m.put("post_logout_redirect_uris", postLogoutRedirectUris);
    m.put("grant_types", grantTypes);
    m.put("response_types", grantTypes.contains("authorization_code") ? List.of("code") : List.of());
    m.put("scope", String.join(" ", scopes));
    m.put("web_origins", webOrigins);
    m.put("id_token_signed_response_alg", idTokenSignedResponseAlg);
    backchannelLogoutUri.ifPresent(u -> m.put("backchannel_logout_uri", u));
    return m;
  }
}
