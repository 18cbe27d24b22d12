package dev.sesame.oauth;

import static dev.sesame.support.Problems.assertOAuthError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.oauth2.sdk.client.ClientRegistrationErrorResponse;
import com.nimbusds.oauth2.sdk.client.ClientRegistrationResponse;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.rp.OIDCClientInformation;
import com.nimbusds.openid.connect.sdk.rp.OIDCClientInformationResponse;
import com.nimbusds.openid.connect.sdk.rp.OIDCClientMetadata;
import com.nimbusds.openid.connect.sdk.rp.OIDCClientRegistrationRequest;
import com.nimbusds.openid.connect.sdk.rp.OIDCClientRegistrationResponseParser;
import com.nimbusds.oauth2.sdk.auth.ClientAuthenticationMethod;
import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RFC 7591 dynamic registration, on ({@code SESAME_DYNAMIC_REGISTRATION=on}) with a small limit, through a real
 * client library (nimbus {@link OIDCClientRegistrationRequest}); and off by default (a second server).
 */
class DynamicRegistrationTest {
  @RegisterExtension
  static final SesameServer sesame = SesameServer.with(Map.of("SESAME_DYNAMIC_REGISTRATION", "on",
      "SESAME_RATE_LIMIT_REGISTRATION", "6/1h"));
  @RegisterExtension
  static final SesameServer closed = SesameServer.withDefaults();

  static OIDCClientMetadata metadata(String redirect) {
    OIDCClientMetadata m = new OIDCClientMetadata();
    m.setName("Claude Desktop");
    m.setRedirectionURI(URI.create(redirect));
    m.setTokenEndpointAuthMethod(ClientAuthenticationMethod.NONE);
    m.setGrantTypes(Set.of(com.nimbusds.oauth2.sdk.GrantType.AUTHORIZATION_CODE,
        com.nimbusds.oauth2.sdk.GrantType.REFRESH_TOKEN));
    m.setScope(com.nimbusds.oauth2.sdk.Scope.parse("openid email mcp:tools metadata"));
    return m;
  }

  static ClientRegistrationResponse register(OIDCClientMetadata m) throws Exception {
    OIDCProviderMetadata provider = OIDCProviderMetadata.resolve(new Issuer(sesame.url()));
    return OIDCClientRegistrationResponseParser.parse(new OIDCClientRegistrationRequest(
        provider.getRegistrationEndpointURI(), m, null).toHTTPRequest().send());
  }

  @Test
  void a_public_client_registers_itself_and_signs_people_in_only_after_they_confirm() throws Exception {
    ClientRegistrationResponse response = register(metadata("http://127.0.0.1:33418/callback"));
    assertTrue(response.indicatesSuccess(), () -> ((ClientRegistrationErrorResponse) response).getErrorObject()
        .toString());
    OIDCClientInformation info = ((OIDCClientInformationResponse) response).getOIDCClientInformation();
    assertNotNull(info.getID());
    assertNull(info.getSecret(), "public: no secret");
    assertNotNull(info.getIDIssueDate());
    assertEquals(com.nimbusds.oauth2.sdk.Scope.parse("openid email"), info.getMetadata().getScope(),
        "unknown scope values and metadata (operator-granted only) left out, and the answer says so");
    assertEquals(Client.Source.DYNAMIC, new Clients(sesame.jdbi(), "default").find(info.getID().getValue())
        .orElseThrow().source());

    // A browser already signed in is not taken there silently: the page asks, and names where it goes.
    String cookie = OpenIdConnectLibraryTest.browserSessionOn(sesame, "dyn-" + java.util.UUID.randomUUID()
        .toString().substring(0, 8) + "@example.com");
    String query = "/authorize?response_type=code&scope=openid&client_id=" + info.getID().getValue()
        + "&redirect_uri=http://127.0.0.1:33418/callback&code_challenge=" + "c".repeat(43) + "&state=s";
    Http.Response page = sesame.http().get(query, "Cookie", cookie);
    assertEquals(200, page.status(), "no silent single sign-on into a self-registered app");
    assertTrue(page.body().contains("prompt=\"select_account\""), page.body());
    assertTrue(page.body().contains("Claude Desktop (registered itself; it gets you back at 127.0.0.1)"),
        page.body());
    // prompt=none cannot be honoured, and the error is a page: a redirect to an address anyone registered, before
    // the person saw the app, would make Sesame an open redirector.
    Http.Response none = sesame.http().get(query + "&prompt=none", "Cookie", cookie);
    assertEquals(400, none.status(), none.header("Location"));
    assertNull(none.header("Location"));
  }

  @Test
  void only_public_clients_without_operator_fields_may_register() throws Exception {
    OIDCClientMetadata confidential = metadata("https://app.example/cb");
    confidential.setTokenEndpointAuthMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC);
    assertEquals("invalid_client_metadata", ((ClientRegistrationErrorResponse) register(confidential))
        .getErrorObject().getCode());
    OIDCClientMetadata backchannel = metadata("https://app.example/cb");
    backchannel.setBackChannelLogoutURI(URI.create("http://127.0.0.1:5432/"));
    assertEquals("invalid_client_metadata", ((ClientRegistrationErrorResponse) register(backchannel))
        .getErrorObject().getCode(), "Sesame would call that address: operators only");
    assertEquals("invalid_redirect_uri", ((ClientRegistrationErrorResponse) register(
        metadata("http://evil.example/cb"))).getErrorObject().getCode(), "http only for loopback");
    assertOAuthError(sesame.http().post("/v1/register", "not json", "Content-Type", "application/json"), 400,
        "invalid_client_metadata");
  }

  @Test
  void registration_is_rate_limited_per_client_address() throws Exception {
    int created = 0;
    Http.Response last = null;
    for (int i = 0; i < 10; i++) {
      last = sesame.http().post("/v1/register", Map.of("redirect_uris", List.of("http://127.0.0.1:9/cb" + i),
          "token_endpoint_auth_method", "none"));
      if (last.status() == 201) {
        created++;
      }
    }
    assertTrue(created < 10, "the limit stopped some");
    assertEquals(429, last.status(), last.body());
    assertNotNull(last.header("Retry-After"));
  }

  @Test
  void registration_is_off_by_default() throws Exception {
    OIDCProviderMetadata provider = OIDCProviderMetadata.resolve(new Issuer(closed.url()));
    assertNull(provider.getRegistrationEndpointURI());
    assertEquals(404, closed.http().post("/v1/register", Map.of("redirect_uris",
        List.of("http://127.0.0.1:9/cb"))).status());
    assertFalse(closed.http().get("/.well-known/openid-configuration").body().contains("registration_endpoint"));
  }

}
