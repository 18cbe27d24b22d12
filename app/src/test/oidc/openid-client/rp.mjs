// A relying party on openid-client 6 with its standard configuration only: discovery, PKCE + nonce + state, the code
// grant with ID token validation, UserInfo, refresh, introspection and revocation with client_secret_basic, and
// RP-initiated logout. OidcLibrariesIT starts it and drives a real browser through it.
//
//   ISSUER=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… PORT=… node rp.mjs
import { createServer } from 'node:http';
import * as oidc from 'openid-client';

const { ISSUER, CLIENT_ID, CLIENT_SECRET, PORT } = process.env;
const APP = `http://127.0.0.1:${PORT}`;

// Plain http is only for this loopback test: openid-client refuses it unless told.
const config = await oidc.discovery(new URL(ISSUER), CLIENT_ID, undefined, oidc.ClientSecretBasic(CLIENT_SECRET),
  { execute: [oidc.allowInsecureRequests] });

let pending = null; // one sign-in at a time: this RP serves one test browser
let last = null;

async function callback(url) {
  const tokens = await oidc.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: pending.verifier, expectedNonce: pending.nonce, expectedState: pending.state,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  const introspected = await oidc.tokenIntrospection(config, refreshed.access_token);
  await oidc.tokenRevocation(config, refreshed.refresh_token);
  let refreshAfterRevocation;
  try {
    await oidc.refreshTokenGrant(config, refreshed.refresh_token);
    refreshAfterRevocation = 'accepted';
  } catch (error) {
    refreshAfterRevocation = error.error || error.code || error.message;
  }
  last = { idToken: tokens.id_token };
  return {
    sub: claims.sub, email: claims.email, amr: claims.amr, nonce: claims.nonce === pending.nonce,
    authTime: claims.auth_time, userinfo, scope: tokens.scope, refreshed: refreshed.access_token !== tokens.access_token,
    introspection: { active: introspected.active, client_id: introspected.client_id, sub: introspected.sub },
    refreshAfterRevocation,
  };
}

createServer(async (req, res) => {
  const url = new URL(req.url, APP);
  const send = (status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  try {
    if (url.pathname === '/') return send(200, { ok: true });
    if (url.pathname === '/login') {
      pending = { verifier: oidc.randomPKCECodeVerifier(), nonce: oidc.randomNonce(), state: oidc.randomState() };
      const params = {
        redirect_uri: `${APP}/callback`, scope: 'openid email offline_access', nonce: pending.nonce,
        state: pending.state, code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
      };
      if (url.searchParams.get('prompt')) params.prompt = url.searchParams.get('prompt');
      return send(302, {}, { location: oidc.buildAuthorizationUrl(config, params).href });
    }
    if (url.pathname === '/callback') {
      if (url.searchParams.get('error')) return send(200, { error: url.searchParams.get('error') });
      return send(200, await callback(url));
    }
    if (url.pathname === '/logout') {
      const state = oidc.randomState();
      return send(302, {}, { location: oidc.buildEndSessionUrl(config, {
        id_token_hint: last.idToken, post_logout_redirect_uri: `${APP}/signed-out`, state }).href });
    }
    if (url.pathname === '/signed-out') return send(200, { signedOut: true, state: url.searchParams.get('state') });
    return send(404, { error: 'not found' });
  } catch (error) {
    console.error(error);
    return send(500, { failed: `${error.name}: ${error.code || ''} ${error.message}` });
  }
}).listen(Number(PORT), '127.0.0.1', () => console.log(`openid-client RP on ${APP}`));
