// An Express app that signs people in with Sesame through express-openid-connect (standard configuration only) and
// accepts Sesame access tokens on its API, verified offline with the published JWKS.
//
//   SESAME_URL=http://localhost:8080 APP_URL=http://localhost:3000 \
//   SESAME_CLIENT_ID=express SESAME_CLIENT_SECRET=... SESSION_SECRET=... node server.js
//
// GET /login      express-openid-connect: to Sesame's authorization endpoint (code flow, state, nonce, PKCE)
// GET /callback   express-openid-connect: code exchanged (client_secret_basic), RS256 ID token validated
// GET /logout     ends the app session and Sesame's (RP-initiated logout), back to the app
// GET /api/user   the signed-in user's id and email (Bearer token, or the access token of the app session)
import express from 'express';
import { auth } from 'express-openid-connect';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const SESAME_URL = (process.env.SESAME_URL || 'http://localhost:8080').replace(/\/+$/, '');
const ISSUER = process.env.SESAME_ISSUER || SESAME_URL; // SESAME_PUBLIC_URL of the server
const CLIENT_ID = process.env.SESAME_CLIENT_ID || 'express';
// Accepted audiences: this app's own client id (Sesame issues an app's tokens to the app itself, so a token given to
// another app is refused) and SESAME_TOKEN_AUDIENCE (tokens of Sesame's hosted pages and <sesame-auth>, e.g. from a
// single-page front end of this backend). SESAME_AUDIENCE, comma-separated, replaces both.
const AUDIENCE = (process.env.SESAME_AUDIENCE || `${CLIENT_ID},${ISSUER}`).split(',');
const APP_URL = (process.env.APP_URL || 'http://localhost:3000').replace(/\/+$/, '');

// Caches the keys; fetches again (rate-limited) when a token names an unknown kid, e.g. after a key rotation.
const jwks = createRemoteJWKSet(new URL(`${SESAME_URL}/.well-known/jwks.json`));

/** Signature with a published key (ES256 or RS256 only: never "none"), type, issuer, audience and expiry. */
async function verify(token) {
  const { payload } = await jwtVerify(token, jwks, {
    algorithms: ['ES256', 'RS256'], typ: 'at+jwt', issuer: ISSUER, audience: AUDIENCE,
    requiredClaims: ['sub', 'exp', 'iat'],
  });
  return payload;
}

const app = express();

// Sign-in: everything but the client's own settings comes from Sesame's discovery document.
app.use(auth({
  issuerBaseURL: SESAME_URL,
  baseURL: APP_URL,
  clientID: CLIENT_ID,
  clientSecret: process.env.SESAME_CLIENT_SECRET,
  secret: process.env.SESSION_SECRET, // encrypts the app's session cookie
  authRequired: false,
  idpLogout: true,
  authorizationParams: { response_type: 'code', scope: 'openid email' },
}));

app.use('/api', async (req, res, next) => {
  const header = req.get('authorization') || '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : req.oidc.accessToken?.access_token;
  if (!token) return res.status(401).json({ error: 'sign in first' });
  try {
    req.user = await verify(token);
    return next();
  } catch (error) {
    console.warn(`refused a token: ${error.code || error.name}: ${error.message}`);
    return res.status(401).json({ error: 'invalid token' });
  }
});

app.get('/api/user', (req, res) => res.json({ id: req.user.sub, email: req.user.email }));

app.get('/', (req, res) => {
  if (!req.oidc.isAuthenticated()) return res.send('<a href="/login">Sign in</a>');
  return res.json({ signedIn: true, sub: req.oidc.user.sub, email: req.oidc.user.email });
});

const port = Number(process.env.PORT || 3000);
app.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
