// Sesame's browser client: email sign-in, passkeys, session state. Plain ES module, no dependencies.
//
//   import { sesame } from 'https://login.example.com/assets/sesame.js';
//   const client = sesame();                       // the Sesame this file was loaded from
//   client.addEventListener('signed-in', (e) => console.log(e.detail.user));
//
// On Sesame's own origin (the hosted pages) the session lives in HttpOnly cookies; anywhere else (an app embedding
// <sesame-auth>) the client keeps the tokens in memory and hands them to the app through events.

const REFRESH_MARGIN_SECONDS = 60;

/** An API refusal: `code` is the stable problem code, `message` is for people. */
export class SesameError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.name = 'SesameError';
    this.status = status;
    this.code = problem.code || 'error';
    this.problem = problem;
  }
}

// ---- base64url and the WebAuthn Level 3 JSON helpers (with a small fallback for older browsers) ----

function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  const raw = atob(base64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes.buffer;
}

function descriptors(list) {
  return (list || []).map((d) => ({ ...d, id: fromBase64url(d.id) }));
}

export function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

export function requestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return { ...json, challenge: fromBase64url(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
}

export function credentialJSON(credential) {
  if (typeof credential.toJSON === 'function') {
    return credential.toJSON();
  }
  const r = credential.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
    response,
  };
}

/** What this device can do, to decide what to offer. */
export async function capabilities() {
  const webauthn = typeof window.PublicKeyCredential === 'function';
  const out = {
    webauthn, platformAuthenticator: false, conditionalMediation: false, conditionalCreate: false, hybrid: false,
  };
  if (!webauthn) return out;
  try {
    // WebAuthn L3 client capabilities decide where the browser has them; the older checks answer elsewhere.
    const caps = typeof PublicKeyCredential.getClientCapabilities === 'function'
      ? await PublicKeyCredential.getClientCapabilities() : {};
    out.platformAuthenticator = 'userVerifyingPlatformAuthenticator' in caps
      ? !!caps.userVerifyingPlatformAuthenticator
      : await PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable();
    out.conditionalMediation = 'conditionalGet' in caps ? !!caps.conditionalGet
      : typeof PublicKeyCredential.isConditionalMediationAvailable === 'function'
        && await PublicKeyCredential.isConditionalMediationAvailable();
    out.conditionalCreate = !!caps.conditionalCreate; // automatic passkey upgrade after an email sign-in
    out.hybrid = !!caps.hybridTransport; // a phone nearby can sign in (QR code)
  } catch {
    // capabilities are hints; the flows still work without them
  }
  return out;
}

/** "Face ID / Touch ID", "Windows Hello", …: what people call this device's biometric sign-in. */
export function platformAuthenticator() {
  const ua = navigator.userAgent;
  if (/iPhone|iPad|iPod/.test(ua)) return 'apple';
  if (/Macintosh|Mac OS X/.test(ua)) return 'mac';
  if (/Windows/.test(ua)) return 'windows';
  if (/Android/.test(ua)) return 'android';
  // A reduced or unusual user agent: the platform as the browser reports it (UA client hints), where it does.
  const platform = navigator.userAgentData && navigator.userAgentData.platform;
  if (platform === 'Android') return 'android';
  if (platform === 'Windows') return 'windows';
  if (platform === 'macOS') return 'mac';
  // Linux, ChromeOS and anything unknown: their screen lock, never another system's Face ID or Windows Hello.
  return 'other';
}

/** The platform authenticator's name in English (the elements say it in the page's language). */
export function platformAuthenticatorName() {
  return {
    apple: 'Face ID / Touch ID', mac: 'Touch ID', windows: 'Windows Hello', android: 'your fingerprint or face',
    other: 'your screen lock',
  }[platformAuthenticator()];
}

/**
 * Keeps the browser's password manager in step with the server (WebAuthn L3 §5.1.10, the Signal API): the passkeys
 * the account still has (others, removed on another device or by an administrator, disappear from autofill) and
 * the address it now signs in with. Skipped silently where the browser has no such method or refuses (another
 * origin than the RP id's, for instance).
 */
export function signalPasskeys(webauthn) {
  if (!webauthn || typeof window.PublicKeyCredential !== 'function') return signalling;
  signalling = signalling.then(() => sendSignals(webauthn));
  return signalling;
}

// Signals in flight: Chromium refuses a passkey request made while one runs, so requests wait for them.
let signalling = Promise.resolve();

async function sendSignals({ rpId, userId, allAcceptedCredentialIds, name, displayName }) {
  if (typeof PublicKeyCredential.signalAllAcceptedCredentials === 'function') {
    await PublicKeyCredential.signalAllAcceptedCredentials({ rpId, userId, allAcceptedCredentialIds })
      .catch(() => {});
  }
  if (typeof PublicKeyCredential.signalCurrentUserDetails === 'function') {
    await PublicKeyCredential.signalCurrentUserDetails({ rpId, userId, name, displayName }).catch(() => {});
  }
}

// ---- the client ----

export class SesameClient extends EventTarget {
  #session = null; // { user, accessToken, refreshToken, expiresAt }
  #refreshTimer = null;

  constructor(baseUrl) {
    super();
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.cookieMode = this.origin === window.location.origin;
  }

  /** The signed-in user, or null. */
  get user() {
    return this.#session ? this.#session.user : null;
  }

  /** The current access token (token mode), for the app's own API calls. */
  get accessToken() {
    return this.#session ? this.#session.accessToken : null;
  }

  async #request(method, path, body, { signIn = false } = {}) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.cookieMode) {
      if (method !== 'GET') headers['X-Sesame-CSRF'] = '1';
      if (signIn) headers['X-Sesame-Session'] = 'cookie';
    } else if (this.#session && this.#session.accessToken) {
      headers.Authorization = `Bearer ${this.#session.accessToken}`;
    }
    let response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: this.cookieMode ? 'same-origin' : 'omit',
      });
    } catch (error) {
      if (!this.cookieMode) {
        console.error(`Sesame: ${method} ${this.baseUrl}${path} failed. If ${window.location.origin} is not listed in `
          + 'SESAME_ALLOWED_ORIGINS, the browser blocks these requests (CORS).', error);
      }
      throw new SesameError(0, { code: 'network_error',
        detail: 'Could not reach the sign-in service. Check your connection and try again.' });
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new SesameError(response.status, data);
    return data;
  }

  #signedIn(tokens) {
    if (tokens.webauthn) signalPasskeys(tokens.webauthn); // not awaited: the sign-in goes on meanwhile
    this.#session = {
      user: tokens.user,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token || null,
      expiresAt: Date.now() + tokens.expires_in * 1000,
    };
    this.#scheduleRefresh(tokens.expires_in);
    this.dispatchEvent(new CustomEvent('signed-in', { detail: tokens }));
    return tokens;
  }

  #signedOut(event) {
    clearTimeout(this.#refreshTimer);
    const had = this.#session !== null;
    this.#session = null;
    if (had || event === 'session-expired') this.dispatchEvent(new CustomEvent(event));
  }

  #scheduleRefresh(expiresIn) {
    clearTimeout(this.#refreshTimer);
    const delay = Math.max(5, expiresIn - REFRESH_MARGIN_SECONDS) * 1000;
    this.#refreshTimer = setTimeout(() => this.refresh().catch(() => {}), delay);
  }

  /** Picks up an existing session (cookie mode: the hosted pages). Resolves to the user or null. */
  async restore() {
    if (!this.cookieMode) return this.user;
    try {
      const me = await this.#authed('GET', '/v1/me');
      if (!this.#session) this.#session = { user: { id: me.id, email: me.email, emailVerified: me.emailVerified } };
      return this.user;
    } catch (error) {
      if (error instanceof SesameError && error.status === 401) return null;
      throw error;
    }
  }

  /**
   * Exchanges the refresh token for fresh tokens (rotating it). One refresh at a time per page: a second caller
   * waits for the first, since presenting a rotated refresh token again would end the session.
   */
  refresh() {
    if (!this.#refreshing) {
      this.#refreshing = this.#doRefresh().finally(() => { this.#refreshing = null; });
    }
    return this.#refreshing;
  }

  #refreshing = null;

  async #doRefresh() {
    const body = this.cookieMode ? undefined : { refresh_token: this.#session && this.#session.refreshToken };
    if (!this.cookieMode && !body.refresh_token) throw new Error('not signed in');
    try {
      return this.#signedIn(await this.#request('POST', '/v1/sessions/refresh', body, { signIn: true }));
    } catch (error) {
      if (error instanceof SesameError && error.status === 401) this.#signedOut('session-expired');
      throw error;
    }
  }

  /** An authenticated call; an expired access token is refreshed once and the call retried. */
  async #authed(method, path, body) {
    try {
      return await this.#request(method, path, body);
    } catch (error) {
      if (!(error instanceof SesameError) || error.status !== 401) throw error;
      if (!this.cookieMode && !(this.#session && this.#session.refreshToken)) throw error;
      try {
        await this.refresh();
      } catch {
        throw error; // no usable refresh token either: the original 401 says what happened
      }
      return this.#request(method, path, body);
    }
  }

  // email sign-in

  startEmail(email, redirect = {}) {
    return this.#request('POST', '/v1/email/start', { email, ...redirect });
  }

  /** Where an email sign-in stands: 'pending', 'finished' (its link or code was used) or 'ended'. */
  async emailFlowStatus(flowId) {
    return (await this.#request('GET', `/v1/email/flows/${encodeURIComponent(flowId)}`)).status;
  }

  async verifyEmailCode(flowId, code) {
    return this.#signedIn(await this.#request('POST', '/v1/email/verify', { flowId, code }, { signIn: true }));
  }

  async verifyEmailLink(token) {
    return this.#signedIn(await this.#request('POST', '/v1/email/verify', { token }, { signIn: true }));
  }

  // passkeys

  /**
   * Signs in with a passkey. `conditional: true` waits for the person to pick one from the autofill of an input with
   * autocomplete="username webauthn"; pass an AbortSignal to stop waiting.
   */
  async signInWithPasskey({ email, conditional = false, signal, hints } = {}) {
    const options = await this.#request('POST', '/v1/passkeys/login/options', email ? { email } : {});
    await signalling;
    const credential = await navigator.credentials.get({
      publicKey: { ...requestOptions(options.publicKey), ...(hints ? { hints } : {}) },
      mediation: conditional ? 'conditional' : undefined,
      signal,
    });
    try {
      return this.#signedIn(await this.#request('POST', '/v1/passkeys/login/verify',
        { ceremonyId: options.ceremonyId, credential: credentialJSON(credential) }, { signIn: true }));
    } catch (error) {
      if (error instanceof SesameError && error.code === 'unknown_credential'
          && typeof PublicKeyCredential.signalUnknownCredential === 'function') {
        // The passkey was removed here: let the browser or password manager hide it from now on.
        await PublicKeyCredential.signalUnknownCredential({
          rpId: options.publicKey.rpId, credentialId: credential.id,
        }).catch(() => {});
      }
      throw error;
    }
  }

  /**
   * Creates a passkey for the signed-in person. `conditional: true` is the automatic upgrade (WebAuthn L3 conditional
   * create): the browser makes one without asking, if it decides to, else rejects (NotAllowedError).
   */
  async addPasskey(name, { conditional = false, signal } = {}) {
    const body = { ...(name ? { name } : {}), ...(conditional ? { conditional: true } : {}) };
    const options = await this.#authed('POST', '/v1/passkeys/register/options', body);
    await signalling;
    const credential = await navigator.credentials.create({
      publicKey: creationOptions(options.publicKey), ...(conditional ? { mediation: 'conditional' } : {}), signal,
    });
    const result = await this.#authed('POST', '/v1/passkeys/register/verify',
      { ceremonyId: options.ceremonyId, credential: credentialJSON(credential) });
    return result.passkey;
  }

  /** The name the person gave ({ givenName, familyName }), which apps with the profile scope receive. */
  profile() {
    return this.#authed('GET', '/v1/me/profile');
  }

  /** Replaces the given parts of the name (an empty string clears one). */
  saveProfile(names) {
    return this.#authed('PATCH', '/v1/me/profile', names);
  }

  async listPasskeys() {
    const { passkeys, webauthn } = await this.#authed('GET', '/v1/me/passkeys');
    await signalPasskeys(webauthn);
    return passkeys;
  }

  async renamePasskey(id, name) {
    return (await this.#authed('PATCH', `/v1/me/passkeys/${encodeURIComponent(id)}`, { name })).passkey;
  }

  removePasskey(id) {
    return this.#authed('DELETE', `/v1/me/passkeys/${encodeURIComponent(id)}`);
  }

  me() {
    return this.#authed('GET', '/v1/me');
  }

  /**
   * After a sign-in on the hosted pages: a one-time code for the app, and where to send the browser. `request` is the
   * sealed authorization request the page was opened with.
   */
  async authorize({ request, redirectTo, clientId, state, codeChallenge, scope, nonce }) {
    if (request) return (await this.#authed('POST', '/v1/authorize', { request })).redirect;
    const body = { redirectTo };
    if (clientId) body.clientId = clientId;
    if (scope) body.scope = scope;
    if (nonce) body.nonce = nonce;
    if (state) body.state = state;
    if (codeChallenge) {
      body.codeChallenge = codeChallenge;
      body.codeChallengeMethod = 'S256';
    }
    return (await this.#authed('POST', '/v1/authorize', body)).redirect;
  }

  async signOut() {
    try {
      await this.#authed('POST', '/v1/sessions/logout');
    } finally {
      this.#signedOut('signed-out');
    }
  }

  /** Where the person is signed in: [{ id, createdAt, lastUsedAt, authMethod, device, current }], newest use first. */
  async listSessions() {
    return (await this.#authed('GET', '/v1/sessions')).sessions;
  }

  /** Ends one of the person's other sessions (the apps it started are told). */
  endSession(id) {
    return this.#authed('DELETE', `/v1/sessions/${encodeURIComponent(id)}`);
  }

  /** Signs out everywhere: every session of the person, this one included. */
  async signOutEverywhere() {
    try {
      await this.#authed('POST', '/v1/sessions/logout', { all: true });
    } finally {
      this.#signedOut('signed-out');
    }
  }
}

const clients = new Map();

/** One client per Sesame; by default the Sesame this module was loaded from. */
export function sesame(baseUrl = new URL('..', import.meta.url).href) {
  const key = baseUrl.replace(/\/+$/, '');
  if (!clients.has(key)) clients.set(key, new SesameClient(key));
  return clients.get(key);
}
