package dev.sesame.oauth;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Client metadata as RFC 7591 §2 writes it (from the CLI, {@code SESAME_CLIENTS_FILE} or dynamic registration),
 * checked and turned into a {@link Client}. Redirect URIs follow OAuth 2.1 and RFC 8252: compared as exact strings
 * later, so here they must be absolute, without a fragment or user info, and {@code https} — {@code http} only to a
 * loopback host, or a private-use scheme ({@code com.example.app:/callback}) for native apps.
 */
public final class ClientMetadata {
  /** The scopes Sesame knows (OpenID Connect Core §5.4 and §11). */
  public static final List<String> SCOPES = List.of("openid", "email", "profile", "offline_access", "metadata");
  /**
   * What a client may ask for when its registration names no scope: everything but {@code metadata} (a person's
   * public metadata), which an operator grants a client by naming it.
   */
  public static final List<String> DEFAULT_SCOPES = List.of("openid", "email", "profile", "offline_access");
  static final List<String> GRANT_TYPES = List.of("authorization_code", "refresh_token");
  static final List<String> ID_TOKEN_ALGS = List.of("RS256", "ES256");
  private static final Pattern CLIENT_ID = Pattern.compile("[A-Za-z0-9._~-]{3,64}");
  private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "[::1]");
  static final int MIN_SECRET_LENGTH = 32;

  private ClientMetadata() {}

  /**
   * A metadata problem, with the RFC 7591 §3.2.2 error code ({@code invalid_redirect_uri} or
   * {@code invalid_client_metadata}) and a description that names the field.
   */
  public static final class Invalid extends RuntimeException {
    private final String error;

    Invalid(String error, String description) {
      super(description, null, false, false);
      this.error = error;
    }

    public String error() {
      return error;
    }
  }

  /** Checked metadata, and the secret it carried (only an operator's file or command may set one). */
  public record Registration(Client client, Optional<String> secret) {}

  /** Checks {@code json} (RFC 7591 field names); {@code clientId} is used when the metadata names none. */
  public static Registration parse(Map<String, ?> json, Client.Source source, String clientId) {
    String id = optionalString(json, "client_id").orElse(clientId);
    if (!CLIENT_ID.matcher(id).matches()) {
      throw invalid("client_id is 3 to 64 characters of A-Z a-z 0-9 . _ ~ -, got '" + id + "'");
    }
    String name = optionalString(json, "client_name").orElse(id);
    if (name.isBlank() || name.length() > 100 || !dev.sesame.common.DisplayText.readable(name)) {
      throw invalid("client_name is 1 to 100 printable characters (no control, bidirectional or invisible ones)");
    }
    Client.AuthMethod method;
    try {
      method = Client.AuthMethod.of(optionalString(json, "token_endpoint_auth_method").orElse("client_secret_basic"));
    } catch (IllegalArgumentException e) {
      throw invalid(e.getMessage());
    }
    Optional<String> secret = optionalString(json, "client_secret");
    if (secret.isPresent()) {
      if (method == Client.AuthMethod.NONE) {
        throw invalid("a public client (token_endpoint_auth_method none) has no client_secret");
      }
      if (secret.get().length() < MIN_SECRET_LENGTH || !secret.get().chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw invalid("client_secret must be at least " + MIN_SECRET_LENGTH + " printable ASCII characters "
            + "(e.g. openssl rand -base64 32)");
      }
    }
    List<String> grantTypes = stringList(json, "grant_types").orElse(List.of("authorization_code"));
    for (String g : grantTypes) {
      if (!GRANT_TYPES.contains(g)) {
        throw invalid("grant_types may contain " + String.join(", ", GRANT_TYPES) + "; not '" + g + "'");
      }
    }
    if (grantTypes.isEmpty()) {
      throw invalid("grant_types must not be empty");
    }
    Optional<List<String>> responseTypes = stringList(json, "response_types");
    if (responseTypes.isPresent() && !responseTypes.get().equals(List.of("code"))) {
      throw invalid("response_types must be [\"code\"]: only the authorization code flow is offered");
    }
    List<String> redirectUris = stringList(json, "redirect_uris").orElse(List.of());
    if (grantTypes.contains("authorization_code") && redirectUris.isEmpty()) {
      throw new Invalid("invalid_redirect_uri", "redirect_uris must name at least one URI");
    }
    redirectUris.forEach(u -> redirectUri(u, "redirect_uris"));
    List<String> postLogout = stringList(json, "post_logout_redirect_uris").orElse(List.of());
    if (source == Client.Source.DYNAMIC && !postLogout.isEmpty()) {
      // Anyone may register such a client: a sign-out redirect to wherever it likes would be an open redirect.
      throw invalid("post_logout_redirect_uris are not available to self-registered clients; ask the operator to "
          + "register the app (java -jar sesame.jar client create)");
    }
    postLogout.forEach(u -> redirectUri(u, "post_logout_redirect_uris"));
    List<String> scopes = optionalString(json, "scope").map(s -> List.of(s.strip().split("\\s+")))
        .orElse(DEFAULT_SCOPES);
    for (String s : scopes) {
      if (!SCOPES.contains(s)) {
        throw invalid("scope may contain " + String.join(" ", SCOPES) + "; not '" + s + "'");
      }
    }
    List<String> origins = new ArrayList<>();
    for (String o : stringList(json, "web_origins").orElse(List.of())) {
      origins.add(origin(o));
    }
    String alg = optionalString(json, "id_token_signed_response_alg").orElse("RS256");
    if (!ID_TOKEN_ALGS.contains(alg)) {
      throw invalid("id_token_signed_response_alg must be RS256 or ES256, got '" + alg + "'");
    }
    Optional<String> backchannel = optionalString(json, "backchannel_logout_uri");
    backchannel.ifPresent(u -> {
      URI uri = redirectUri(u, "backchannel_logout_uri");
      if (!uri.getScheme().equals("https") && !uri.getScheme().equals("http")) {
        throw invalid("backchannel_logout_uri must be an https URL (or http to a loopback host)");
      }
    });
    Client client = new Client(id, name, method, List.copyOf(new LinkedHashSet<>(redirectUris)),
        List.copyOf(new LinkedHashSet<>(postLogout)), List.copyOf(new LinkedHashSet<>(grantTypes)),
        List.copyOf(new LinkedHashSet<>(scopes)), List.copyOf(new LinkedHashSet<>(origins)), alg, backchannel,
        source);
    return new Registration(client, secret);
  }

  /** One redirect URI as OAuth 2.1 §2.3.1 and RFC 8252 §7 allow it. */
  static URI redirectUri(String value, String field) {
    URI uri;
    try {
      uri = new URI(value);
    } catch (URISyntaxException e) {
      throw new Invalid("invalid_redirect_uri", field + ": '" + value + "' is not a URI");
    }
    if (value.length() > 2000 || !uri.isAbsolute()) {
      throw new Invalid("invalid_redirect_uri", field + ": '" + value + "' must be an absolute URI");
    }
    if (uri.getRawFragment() != null || value.contains("#")) {
      throw new Invalid("invalid_redirect_uri", field + ": '" + value + "' must not have a fragment");
    }
    if (uri.getRawUserInfo() != null) {
      throw new Invalid("invalid_redirect_uri", field + ": '" + value + "' must not carry user info");
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    if (scheme.equals("https") && uri.getHost() != null) {
      return uri;
    }
    if (scheme.equals("http") && uri.getHost() != null && LOOPBACK.contains(uri.getHost().toLowerCase(Locale.ROOT))) {
      return uri;
    }
    if (scheme.contains(".") && !scheme.equals("http") && !scheme.equals("https")) {
      return uri; // RFC 8252 §7.1: a private-use scheme in reverse-domain form, for a native app
    }
    throw new Invalid("invalid_redirect_uri", field + ": '" + value + "' must use https (http only to localhost, "
        + "127.0.0.1 or [::1]; or a reverse-domain private-use scheme for a native app)");
  }

  private static String origin(String value) {
    try {
      URI uri = new URI(value);
      String path = uri.getRawPath();
      if (uri.getScheme() == null || uri.getHost() == null || (path != null && !path.isEmpty() && !path.equals("/"))
          || uri.getRawQuery() != null || uri.getRawFragment() != null) {
        throw invalid("web_origins: '" + value + "' is not an origin (scheme://host[:port])");
      }
      String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("https") && !(scheme.equals("http") && LOOPBACK.contains(uri.getHost()))) {
        throw invalid("web_origins: '" + value + "' must be https (http only for a loopback host)");
      }
      int port = uri.getPort();
      boolean defaultPort = port == -1 || scheme.equals("https") && port == 443 || scheme.equals("http") && port == 80;
      return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
    } catch (URISyntaxException e) {
      throw invalid("web_origins: '" + value + "' is not an origin");
    }
  }

  private static Optional<String> optionalString(Map<String, ?> json, String field) {
    Object v = json.get(field);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String s)) {
      throw invalid(field + " must be a string");
    }
    return s.isBlank() ? Optional.empty() : Optional.of(s.strip());
  }

  private static Optional<List<String>> stringList(Map<String, ?> json, String field) {
    Object v = json.get(field);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof List<?> list) || list.stream().anyMatch(e -> !(e instanceof String))) {
      throw invalid(field + " must be an array of strings");
    }
    return Optional.of(list.stream().map(e -> ((String) e).strip()).toList());
  }

  private static Invalid invalid(String description) {
    return new Invalid("invalid_client_metadata", description);
  }
}
