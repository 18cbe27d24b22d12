package dev.sesame.oauth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sesame.common.ApiException;
import dev.sesame.common.RedirectPolicy;
import dev.sesame.common.SealedBox;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Checks authorization requests (the authorization endpoint's, and the hosted page's older {@code redirectTo} form)
 * in the order RFC 6749 §4.1.2.1 asks: first the client and its redirect URI — when either is wrong nobody can be
 * sent back, so the person sees a page ({@link NotRedirectable}); after that every refusal goes back to the client
 * as {@code error}, {@code error_description}, {@code state} and {@code iss} ({@link Refused}). A request that
 * passes is sealed (AES-GCM, {@link SealedBox}) for the page and the email flow to carry, so nothing is stored
 * before somebody signs in.
 */
public final class AuthorizationRequests {
  /** How long a sealed request can be carried: a page left open, an email link opened later. */
  public static final Duration LIFETIME = Duration.ofHours(1);
  static final Set<String> PROMPTS = Set.of("none", "login", "consent", "select_account", "create");
  private static final Pattern CHALLENGE = Pattern.compile("[A-Za-z0-9_-]{43}"); // BASE64URL(SHA-256), RFC 7636 §4.2
  private static final Set<String> RESPONSE_PARAMETERS = Set.of("code", "state", "iss", "error",
      "error_description");
  private static final int MAX_SEALED = 8192;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Clients clients;
  private final RedirectPolicy firstPartyRedirects;
  private final String issuer;
  private final SealedBox box;

  /**
   * @param firstPartyRedirects where the built-in first-party client may send the browser
   *     ({@code SESAME_REDIRECT_ALLOWLIST})
   * @param key 32 bytes every node shares
   */
  public AuthorizationRequests(Clients clients, RedirectPolicy firstPartyRedirects, String issuer, byte[] key) {
    this.clients = clients;
    this.firstPartyRedirects = firstPartyRedirects;
    this.issuer = issuer;
    this.box = new SealedBox(key, "sesame/oauth/authorization-request/v1", "ar1.");
  }

  /** The client or its redirect URI is wrong: show a page, never redirect (RFC 6749 §4.1.2.1, §10.15). */
  public static final class NotRedirectable extends RuntimeException {
    private final String error;

    NotRedirectable(String message) {
      this("invalid_redirect", message);
    }

    NotRedirectable(String error, String message) {
      super(message, null, false, false);
      this.error = error;
    }

    /** {@code invalid_client} (no such client) or {@code invalid_redirect}. */
    public String error() {
      return error;
    }
  }

  /** A refusal the client hears about: {@link #redirect} carries it back (RFC 6749 §4.1.2.1, RFC 9207). */
  public static final class Refused extends RuntimeException {
    private final String error;
    private final String redirect;

    Refused(String error, String description, String redirect) {
      super(description, null, false, false);
      this.error = error;
      this.redirect = redirect;
    }

    public String error() {
      return error;
    }

    public String redirect() {
      return redirect;
    }
  }

  /**
   * Checks the parameters of a request at the authorization endpoint. {@code values} returns every value a parameter
   * was sent with (RFC 6749 §3.1: none may be sent twice). {@code hostedPage}: the sign-in page's own older form,
   * where the redirect may be called {@code redirectTo}, {@code response_type} may be left out, and a client without
   * a {@code client_id} is the first-party one.
   */
  public AuthorizationRequest check(Function<String, List<String>> values, boolean hostedPage) {
    Function<String, String> once = name -> single(values, name);
    String clientId = once.apply("client_id");
    String redirectUri = once.apply("redirect_uri");
    if (hostedPage && redirectUri == null) {
      redirectUri = once.apply("redirectTo");
    }
    if (clientId == null && !hostedPage) {
      throw new NotRedirectable("client_id is required.");
    }
    Optional<Client> client = client(clientId, redirectUri);
    String state = once.apply("state");
    if (state != null && state.length() > 1024) {
      throw new NotRedirectable("state is longer than 1024 characters.");
    }
    try {
      return checkRest(once, client, redirectUri, state, hostedPage);
    } catch (RefusedWithoutTarget e) {
      if (client.map(c -> c.source() == Client.Source.DYNAMIC).orElse(false)) {
        // Anyone may register such a client: an error redirect to it, before the person has seen the app's name on
        // our page, would make Sesame an open redirector (RFC 9700 §4.11.1). A page says what went wrong instead.
        throw new NotRedirectable(e.error, e.getMessage());
      }
      throw new Refused(e.error, e.getMessage(), errorRedirect(redirectUri, state, e.error, e.getMessage()));
    }
  }

  private static final class RefusedWithoutTarget extends RuntimeException {
    final String error;

    RefusedWithoutTarget(String error, String message) {
      super(message, null, false, false);
      this.error = error;
    }
  }

  private AuthorizationRequest checkRest(Function<String, String> once, Optional<Client> client,
                                         String redirectUri, String state, boolean hostedPage) {
    if (once.apply("request") != null) {
      throw new RefusedWithoutTarget("request_not_supported", "Request objects are not supported.");
    }
    if (once.apply("request_uri") != null) {
      throw new RefusedWithoutTarget("request_uri_not_supported", "request_uri is not supported.");
    }
    if (once.apply("registration") != null) {
      throw new RefusedWithoutTarget("registration_not_supported", "The registration parameter is not supported.");
    }
    String responseType = once.apply("response_type");
    if (responseType == null && !hostedPage) {
      throw new RefusedWithoutTarget("invalid_request", "response_type is required.");
    }
    if (responseType != null && !responseType.equals("code")) {
      throw new RefusedWithoutTarget("unsupported_response_type", "Only response_type=code is supported.");
    }
    String responseMode = once.apply("response_mode");
    if (responseMode != null && !responseMode.equals("query")) {
      throw new RefusedWithoutTarget("invalid_request", "Only response_mode=query is supported.");
    }
    if (client.isPresent() && !client.get().grantTypes().contains("authorization_code")) {
      throw new RefusedWithoutTarget("unauthorized_client", "This client may not use the authorization code grant.");
    }
    String challenge = once.apply("code_challenge");
    String method = once.apply("code_challenge_method");
    if (challenge == null) {
      if (client.map(Client::isPublic).orElse(true)) {
        throw new RefusedWithoutTarget("invalid_request",
            "code_challenge is required (PKCE with S256): this client has no secret.");
      }
      if (method != null) {
        throw new RefusedWithoutTarget("invalid_request", "code_challenge_method without code_challenge.");
      }
    } else {
      // RFC 7636 §4.3's default method is plain, which OAuth 2.1 §4.1.1 forbids: here the default is S256.
      if (method != null && !method.equals("S256")) {
        throw new RefusedWithoutTarget("invalid_request", "code_challenge_method must be S256.");
      }
      if (!CHALLENGE.matcher(challenge).matches()) {
        throw new RefusedWithoutTarget("invalid_request", "code_challenge must be BASE64URL(SHA-256(verifier)).");
      }
    }
    String nonce = once.apply("nonce");
    if (nonce != null && nonce.length() > 512) {
      throw new RefusedWithoutTarget("invalid_request", "nonce is longer than 512 characters.");
    }
    List<String> scopes = scopes(client, once.apply("scope"));
    Set<String> prompt = new LinkedHashSet<>();
    String promptValue = once.apply("prompt");
    if (promptValue != null) {
      for (String p : promptValue.strip().split(" +")) {
        if (!PROMPTS.contains(p)) {
          throw new RefusedWithoutTarget("invalid_request", "prompt may be none, login, consent, select_account or "
              + "create; not '" + p + "'.");
        }
        prompt.add(p);
      }
      if (prompt.contains("none") && prompt.size() > 1) {
        throw new RefusedWithoutTarget("invalid_request", "prompt=none cannot be combined with other values.");
      }
    } else if (hostedPage) {
      prompt.add("select_account"); // the hosted page's older form: "Continue as …" when already signed in
    }
    if (client.map(c -> c.source() == Client.Source.DYNAMIC).orElse(false)) {
      // Anyone may register such a client: no silent single sign-on into it; the person confirms on the page.
      if (prompt.contains("none")) {
        throw new RefusedWithoutTarget("consent_required",
            "This app registered itself: the person must confirm on the sign-in page.");
      }
      prompt.add("select_account");
    }
    Long maxAge = null;
    String maxAgeValue = once.apply("max_age");
    if (maxAgeValue != null) {
      if (!maxAgeValue.matches("[0-9]{1,10}")) {
        throw new RefusedWithoutTarget("invalid_request", "max_age must be a number of seconds.");
      }
      maxAge = Long.parseLong(maxAgeValue);
    }
    String loginHint = once.apply("login_hint");
    if (loginHint != null && (loginHint.length() > 254 || !loginHint.contains("@"))) {
      loginHint = null; // only an email address prefills anything here
    }
    String uiLocales = once.apply("ui_locales");
    if (uiLocales != null && uiLocales.length() > 200) {
      uiLocales = null;
    }
    return new AuthorizationRequest(client.map(Client::clientId).orElse(null),
        client.map(c -> c.source() == Client.Source.DYNAMIC ? c.clientName() + " (registered itself; it gets "
            + "you back at " + where(redirectUri) + ")" : c.clientName()).orElse(null), redirectUri, state, nonce, challenge, scopes,
        Set.copyOf(prompt), maxAge, loginHint, uiLocales, Instant.now());
  }

  /**
   * The older request shape of {@code POST /v1/authorize} and {@code POST /v1/email/start} (an app embedding
   * {@code <sesame-auth redirect-to>}): the same checks, every refusal a 400 problem.
   */
  public AuthorizationRequest checkFields(String clientId, String redirectTo, String state, String codeChallenge,
                                          String method, String scope, String nonce) {
    java.util.Map<String, String> params = new java.util.HashMap<>();
    params.put("client_id", clientId);
    params.put("redirect_uri", redirectTo);
    params.put("state", state);
    params.put("code_challenge", codeChallenge);
    params.put("code_challenge_method", method);
    params.put("scope", scope);
    params.put("nonce", nonce);
    params.put("prompt", "select_account");
    try {
      return check(name -> params.get(name) == null ? List.of() : List.of(params.get(name)), true);
    } catch (NotRedirectable e) {
      throw ApiException.badRequest(e.error(), e.getMessage());
    } catch (Refused e) {
      throw ApiException.badRequest(e.error(), e.getMessage());
    }
  }

  /**
   * The authorization request a sign-in page sends in its JSON body: {@code "request"}, the sealed one the page was
   * opened with (400 {@code invalid_request} when it does not open), or the older fields ({@code redirectTo},
   * {@code clientId}, {@code state}, {@code codeChallenge}, {@code codeChallengeMethod}, {@code scope},
   * {@code nonce}), checked by {@link #checkFields}. Empty when the body has neither and {@code required} is false.
   */
  public Optional<AuthorizationRequest> fromBody(dev.sesame.http.JsonBody body, boolean required) {
    if (body.has("request")) {
      return Optional.of(open(body.requiredString("request")).orElseThrow(() -> ApiException.badRequest(
          "invalid_request", "This sign-in request has expired or is not valid. Go back to the app and start again.")));
    }
    if (!required && !body.has("redirectTo")) {
      return Optional.empty();
    }
    return Optional.of(checkFields(body.optionalString("clientId").orElse(null), body.requiredString("redirectTo"),
        body.optionalString("state").orElse(null), body.optionalString("codeChallenge").orElse(null),
        body.optionalString("codeChallengeMethod").orElse(null), body.optionalString("scope").orElse(null),
        body.optionalString("nonce").orElse(null)));
  }

  /**
   * Checks again, when a code is about to be issued, what may have changed since the request was sealed: the client
   * still exists and still has that redirect URI. A 400 problem otherwise.
   */
  public void recheck(AuthorizationRequest request) {
    try {
      client(request.clientId(), request.redirectUri());
    } catch (NotRedirectable e) {
      throw ApiException.badRequest(e.error(), e.getMessage());
    }
  }

  private Optional<Client> client(String clientId, String redirectUri) {
    Optional<Client> client;
    try {
      client = clients.registered(clientId);
    } catch (ApiException unknown) {
      throw new NotRedirectable("invalid_client", "There is no client '" + clientId + "'.");
    }
    if (redirectUri == null || redirectUri.isBlank()) {
      throw new NotRedirectable("redirect_uri is required.");
    }
    if (client.isPresent()) {
      if (!client.get().redirectUris().contains(redirectUri)) {
        throw new NotRedirectable("redirect_uri is not one of the URIs client '" + clientId + "' registered.");
      }
    } else if (!firstPartyRedirects.isAllowed(redirectUri)) {
      throw new NotRedirectable("redirect_uri is not in SESAME_REDIRECT_ALLOWLIST.");
    }
    checkShape(redirectUri);
    return client;
  }

  /** Where a redirect URI leads, for people: its host, or its scheme for an app's own (RFC 8252 §7.1). */
  private static String where(String redirectUri) {
    URI uri = URI.create(redirectUri);
    return uri.getHost() != null ? uri.getHost() : uri.getScheme() + ":";
  }

  /** A redirect target the answer's parameters can be added to unambiguously. */
  private static void checkShape(String redirectUri) {
    URI uri;
    try {
      uri = new URI(redirectUri);
    } catch (URISyntaxException e) {
      throw new NotRedirectable("redirect_uri is not a URI.");
    }
    if (uri.getRawFragment() != null || redirectUri.contains("#")) {
      throw new NotRedirectable("redirect_uri must not have a fragment.");
    }
    String query = uri.getRawQuery();
    if (query != null) {
      for (String pair : query.split("&")) {
        String name = pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair;
        if (RESPONSE_PARAMETERS.contains(URLDecoder.decode(name, StandardCharsets.UTF_8))) {
          throw new NotRedirectable("redirect_uri must not carry its own '" + name + "' parameter.");
        }
      }
    }
  }

  /**
   * The scopes asked for (space-separated) that Sesame knows; each must be one the client may ask for, else
   * {@code invalid_scope}. Values Sesame does not know are left out (Core §5.4); the token response says what was
   * granted. None asked: none granted (no ID token).
   */
  private static List<String> scopes(Optional<Client> client, String scope) {
    if (scope == null || scope.isBlank()) {
      return List.of();
    }
    List<String> allowed = client.map(Client::scopes).orElse(ClientMetadata.SCOPES);
    List<String> granted = new ArrayList<>();
    for (String s : new LinkedHashSet<>(List.of(scope.strip().split(" +")))) {
      if (!ClientMetadata.SCOPES.contains(s)) {
        continue;
      }
      if (!allowed.contains(s)) {
        throw new RefusedWithoutTarget("invalid_scope", "The scope '" + s + "' is not available to this client.");
      }
      granted.add(s);
    }
    return List.copyOf(granted);
  }

  private static String single(Function<String, List<String>> values, String name) {
    List<String> all = values.apply(name);
    if (all == null || all.isEmpty()) {
      return null;
    }
    if (all.size() > 1) {
      if (name.equals("client_id") || name.equals("redirect_uri") || name.equals("redirectTo")) {
        throw new NotRedirectable(name + " was sent more than once.");
      }
      throw new RefusedWithoutTarget("invalid_request", name + " was sent more than once.");
    }
    String v = all.get(0);
    return v == null || v.isEmpty() ? null : v;
  }

  /** Where to send the browser with a code: the redirect URI with {@code code}, {@code state} and {@code iss}. */
  public String codeRedirect(AuthorizationRequest request, String code) {
    return answer(request.redirectUri(), request.state(), "code", code);
  }

  /** Where to send the browser with a refusal (RFC 6749 §4.1.2.1 with RFC 9207's {@code iss}). */
  public String errorRedirect(String redirectUri, String state, String error, String description) {
    return answer(redirectUri, state, "error", error) + "&error_description="
        + URLEncoder.encode(description, StandardCharsets.UTF_8);
  }

  private String answer(String redirectUri, String state, String name, String value) {
    StringBuilder url = new StringBuilder(redirectUri).append(redirectUri.contains("?") ? "&" : "?")
        .append(name).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8));
    if (state != null) {
      url.append("&state=").append(URLEncoder.encode(state, StandardCharsets.UTF_8));
    }
    url.append("&iss=").append(URLEncoder.encode(issuer, StandardCharsets.UTF_8));
    return url.toString();
  }

  /** The request sealed for the page and the email flow to carry. */
  public String seal(AuthorizationRequest r) {
    ObjectNode o = JSON.createObjectNode();
    o.put("c", r.clientId()).put("cn", r.clientName()).put("r", r.redirectUri()).put("s", r.state())
        .put("n", r.nonce()).put("cc", r.codeChallenge()).put("ma", r.maxAge()).put("lh", r.loginHint())
        .put("ul", r.uiLocales()).put("t", r.requestedAt().toEpochMilli());
    r.scopes().forEach(o.putArray("sc")::add);
    r.prompt().forEach(o.putArray("p")::add);
    try {
      return box.seal(JSON.writeValueAsBytes(o));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The sealed request, or empty when it was not sealed here, was altered, or is older than {@link #LIFETIME}. */
  public Optional<AuthorizationRequest> open(String sealed) {
    Optional<byte[]> plain = box.open(sealed, MAX_SEALED);
    if (plain.isEmpty()) {
      return Optional.empty();
    }
    try {
      JsonNode o = JSON.readTree(plain.get());
      Instant requestedAt = Instant.ofEpochMilli(o.get("t").asLong());
      if (requestedAt.plus(LIFETIME).isBefore(Instant.now())) {
        return Optional.empty();
      }
      List<String> scopes = new ArrayList<>();
      o.get("sc").forEach(n -> scopes.add(n.asText()));
      Set<String> prompt = new LinkedHashSet<>();
      o.get("p").forEach(n -> prompt.add(n.asText()));
      return Optional.of(new AuthorizationRequest(text(o, "c"), text(o, "cn"), text(o, "r"), text(o, "s"),
          text(o, "n"), text(o, "cc"), List.copyOf(scopes), Set.copyOf(prompt),
          o.get("ma").isNull() ? null : o.get("ma").asLong(), text(o, "lh"), text(o, "ul"), requestedAt));
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // sealed by this server, so only a format change gets here
    }
  }

  private static String text(JsonNode o, String name) {
    JsonNode n = o.get(name);
    return n == null || n.isNull() ? null : n.asText();
  }
}
