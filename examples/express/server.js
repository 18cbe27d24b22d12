// An Express backend that accepts Sesame access tokens, verified offline with the published JWKS.
//
//   SESAME_URL=http://localhost:8080 APP_URL=http://localhost:3000 node server.js
//
// GET /api/user   the signed-in user's id and email (Bearer token, or the session cookie set by /callback)
// GET /login      sends the browser to Sesame's hosted sign-in (redirect flow with PKCE)
// GET /callback   exchanges the one-time code for tokens and keeps them in an HttpOnly session cookie
import { createHash, randomBytes } from 'node:crypto';
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const SESAME_URL = (process.env.SESAME_URL || 'http://localhost:8080').replace(/\/+$/, '');
const ISSUER = process.env.SESAME_ISSUER || SESAME_URL; // SESAME_PUBLIC_URL of the server
const AUDIENCE = process.env.SESAME_AUDIENCE || ISSUER; // SESAME_TOKEN_AUDIENCE of the server
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

// A tiny in-memory session store keyed by an HttpOnly cookie (use your framework's session store in production).
const sessions = new Map();
function cookie(req, name) {
  const found = (req.headers.cookie || '').split(';').map((c) => c.trim().split('=')).find(([k]) => k === name);
  return found ? decodeURIComponent(found[1]) : undefined;
}
function session(req, res) {
  let id = cookie(req, 'app_session');
  if (!id || !sessions.has(id)) {
    id = randomBytes(32).toString('base64url');
    sessions.set(id, {});
    res.cookie('app_session', id, { httpOnly: true, sameSite: 'lax', secure: APP_URL.startsWith('https://') });
  }
  return sessions.get(id);
}

const app = express();

app.use('/api', async (req, res, next) => {
  const header = req.get('authorization') || '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : session(req, res).accessToken;
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

app.get('/login', (req, res) => {
  const s = session(req, res);
  s.verifier = randomBytes(48).toString('base64url');
  s.state = randomBytes(16).toString('base64url');
  const challenge = createHash('sha256').update(s.verifier).digest('base64url');
  const query = new URLSearchParams({
    redirectTo: `${APP_URL}/callback`, state: s.state, code_challenge: challenge, code_challenge_method: 'S256',
  });
  res.redirect(`${SESAME_URL}/login?${query}`);
});

app.get('/callback', async (req, res) => {
  const s = session(req, res);
  const { state, verifier } = s;
  delete s.state;
  delete s.verifier;
  if (!state || req.query.state !== state || !verifier) return res.status(400).send('bad state');
  const response = await fetch(`${SESAME_URL}/v1/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code: String(req.query.code || ''),
      redirect_uri: `${APP_URL}/callback`, code_verifier: verifier }),
  });
  if (!response.ok) return res.status(401).send('sign-in failed');
  s.accessToken = (await response.json()).access_token;
  return res.redirect('/');
});

app.get('/', (req, res) => res.send(session(req, res).accessToken ? 'Signed in.' : '<a href="/login">Sign in</a>'));

const port = Number(process.env.PORT || 3000);
app.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
