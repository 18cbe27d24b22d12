// <sesame-auth>: the whole sign-in in one tag.
//
//   <script type="module" src="https://login.example.com/assets/sesame-auth.js"></script>
//   <sesame-auth></sesame-auth>
//   <script type="module">
//     document.querySelector('sesame-auth').addEventListener('sesame:signed-in', (e) => {
//       const { access_token, refresh_token, user } = e.detail;   // hand them to your app
//     });
//   </script>
//
// Attributes: base-url (default: the Sesame this file came from), continue-to (go there after sign-in), email (to
// start with), lang (the language to speak; default: the page's, then the browser's), show-brand (the app's logo and
// name above the form). On the hosted sign-in page: request (the sealed authorization request: after the sign-in the browser
// goes to the app with a one-time code) and prompt (none: no sign-in form, straight back to the app; login / create:
// a new sign-in even when one exists; select_account: "Continue as …"). Older form: redirect-to / client-id / state /
// code-challenge / scope / nonce.

import { capabilities, platformAuthenticator, sesame, SesameError } from './sesame.js';
import { loadUi, requestedLanguage } from './i18n.js';
import { adoptStyles, applyDirection, h, present } from './ui.js';

class SesameAuth extends HTMLElement {
  #client;
  #caps = {
    webauthn: false, platformAuthenticator: false, conditionalMediation: false, conditionalCreate: false, hybrid: false,
  };
  #conditional = null; // AbortController of the autofill request
  #flowId = null;
  #email = '';
  #tokens = null;
  #root;
  #status;
  #ui;
  #upgrade = null; // AbortController of a waiting automatic passkey upgrade (conditional create)
  #modal = false; // a passkey request the person started is open: no autofill request beside it
  #started = false; // the person has begun (email sent or passkey asked): a late session check changes nothing

  async connectedCallback() {
    if (this.#root) return;
    this.#client = sesame(this.getAttribute('base-url') || undefined);
    this.#root = this.attachShadow({ mode: 'open' });
    adoptStyles(this.#root);
    this.#status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    try {
      this.#ui = await loadUi(this.#client.baseUrl, requestedLanguage(this));
    } catch {
      // Without its words the element has nothing to show; Sesame itself is unreachable.
      this.#render(h('p', { class: 'status error', role: 'alert' }, 'Could not reach the sign-in service.'));
      return;
    }
    adoptStyles(this.#root, this.#ui.brand);
    applyDirection(this, this.#ui);
    this.#email = this.getAttribute('email') || '';
    const prompt = (this.getAttribute('prompt') || '').split(' ');
    if (prompt.includes('none')) {
      // No sign-in form: back to the app with a code if this browser is signed in, else with login_required.
      this.#render(h('p', {}, this.#t('auth.checking')));
      this.#client.restore().catch(() => null).then(() => this.#finish());
      return;
    }
    // What the device can do decides the first form (a passkey button or not); it is drawn once, so nothing typed
    // into it is lost. A session found meanwhile replaces it only while nobody has started with it.
    this.#caps = await capabilities();
    this.#showStart();
    const fresh = prompt.includes('login') || prompt.includes('create');
    const user = fresh ? null : await this.#client.restore().catch(() => null);
    if (!this.#started) {
      if (user && this.getAttribute('request') && !prompt.includes('select_account')) {
        this.#finish(); // single sign-on: the app asked for no new sign-in
      } else if (user) {
        this.#showSignedIn(user);
      } else {
        this.#startAutofill();
      }
    }
    // Settled: the session is checked and passkey autofill (where the browser has it) is listening.
    this.toggleAttribute('data-ready', true);
    this.dispatchEvent(new CustomEvent('sesame:ready', { bubbles: true, composed: true }));
  }

  /** The language the element speaks (after connecting). */
  get language() {
    return this.#ui ? this.#ui.language : null;
  }

  #t(key, args) {
    return this.#ui.t(key, args);
  }

  // ---- already signed in (hosted pages keep a session): continue, or switch account ----

  #showSignedIn(user) {
    const next = h('button', { type: 'button', class: 'primary', id: 'continue', onclick: () => this.#finish() },
      this.#t('auth.continueAs', { email: user.email }));
    this.#render(
      h('h2', {}, this.#t('auth.welcomeBack')),
      this.#toApp(),
      h('p', {}, this.#ui.nodes('auth.signedInAs', { email: h('strong', { class: 'addr', dir: 'ltr' }, user.email) })),
      next,
      h('button', { type: 'button', class: 'link', id: 'switch-account', onclick: async () => {
        await this.#client.signOut().catch(() => {});
        this.#showStart();
        this.#startAutofill();
      } }, this.#t('auth.useAnotherAccount')));
    next.focus();
  }

  disconnectedCallback() {
    this.#stopAutofill();
  }

  #render(...nodes) {
    this.#root.replaceChildren(...present(this.#brandHeader(), ...nodes, this.#status));
  }

  /**
   * With the app-name attribute (the hosted sign-in page sets it): "to continue to Notes" right under the heading,
   * where the person reads what they are signing in for, not below the form.
   */
  #toApp() {
    const app = this.getAttribute('app-name');
    return app ? h('p', { class: 'muted to-app' }, this.#ui.nodes('auth.toApp', { app: h('strong', {}, h('bdi', {}, app)) }))
      : null;
  }

  /** With the show-brand attribute: the app's logo and name above the form (SESAME_LOGO_*, SESAME_RP_NAME). */
  #brandHeader() {
    if (!this.hasAttribute('show-brand') || !this.#ui) return '';
    const { name, logoUrl } = this.#ui.brand;
    return h('p', { class: 'brand' },
      logoUrl ? h('img', { class: 'logo', src: logoUrl, alt: '' }) : null,
      h('span', { class: 'name' }, name || ''));
  }

  #say(message, error = false) {
    this.#status.textContent = message || '';
    this.#status.className = error ? 'status error' : 'status';
    this.#status.setAttribute('role', error ? 'alert' : 'status');
  }

  #busy(form, busy) {
    for (const b of form.querySelectorAll('button')) b.disabled = busy;
  }

  // ---- step 1: email (with passkey autofill) or "Sign in with a passkey" ----

  #showStart() {
    const email = h('input', {
      id: 'email', name: 'email', type: 'email', required: true, value: this.#email, dir: 'ltr',
      autocomplete: 'username webauthn', autocapitalize: 'none', spellcheck: 'false', inputmode: 'email',
    });
    const form = h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); this.#startEmail(form, email); } },
      h('label', { for: 'email' }, this.#t('auth.email.label')),
      email,
      h('button', { type: 'submit', class: 'primary' }, this.#t('auth.email.submit')));
    // No passkey on this device but a phone can help (hybrid, WebAuthn L3 client capabilities): say so, and ask the
    // browser to offer the phone first.
    const phone = !this.#caps.platformAuthenticator && this.#caps.hybrid;
    const passkeyButton = h('button', { type: 'button', class: 'secondary', id: 'passkey',
      onclick: () => this.#passkeyButton(passkeyButton, phone ? ['hybrid'] : undefined) },
      this.#t(phone ? 'auth.passkey.phone' : 'auth.passkey.button'));
    const hasWebAuthn = this.#caps.webauthn;
    const create = (this.getAttribute('prompt') || '').split(' ').includes('create');
    this.#render(
      h('h2', {}, this.#t(create ? 'auth.heading.create' : 'auth.heading.signIn')),
      this.#toApp(),
      form,
      hasWebAuthn ? h('div', { class: 'divider', 'aria-hidden': 'true' }, this.#t('common.or')) : null,
      hasWebAuthn ? passkeyButton : null);
  }

  async #startEmail(form, input) {
    const email = input.value.trim();
    if (!email || !input.checkValidity()) {
      this.#say(this.#t('auth.email.missing'), true);
      input.focus();
      return;
    }
    this.#busy(form, true);
    this.#started = true;
    this.#say(this.#t('auth.email.sending'));
    try {
      const redirect = this.#redirect();
      // The email speaks this element's language.
      const started = await this.#client.startEmail(email, { ...(redirect || {}), language: this.#ui.language });
      this.#stopAutofill();
      this.#email = email;
      this.#flowId = started.flowId;
      this.#showCode(Math.round(started.expiresIn / 60));
    } catch (error) {
      this.#busy(form, false);
      this.#say(this.#message(error), true);
      input.focus();
    }
  }

  // ---- step 2: the 6-digit code from the email ----

  #showCode(minutes) {
    const code = h('input', {
      id: 'code', name: 'code', class: 'code', required: true, inputmode: 'numeric', autocomplete: 'one-time-code',
      dir: 'ltr',
      pattern: '[0-9]{6}', maxlength: '6', 'aria-describedby': 'code-help',
    });
    const form = h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); this.#verifyCode(form, code); } },
      h('label', { for: 'code' }, this.#t('auth.code.label')),
      code,
      h('button', { type: 'submit', class: 'primary' }, this.#t('common.signIn')));
    const resend = h('button', { type: 'button', class: 'link', id: 'resend', onclick: () => this.#resend(resend) },
      this.#t('auth.code.resend'));
    this.#render(
      h('h2', {}, this.#t('auth.code.heading')),
      h('p', { id: 'code-help' }, this.#ui.nodes('auth.code.help', { email: h('strong', { class: 'addr', dir: 'ltr' }, this.#email), minutes })),
      form,
      resend,
      h('button', { type: 'button', class: 'link', onclick: () => { this.#say(''); this.#showStart(); this.#startAutofill(); } },
        this.#t('auth.code.otherEmail')));
    this.#say('');
    code.focus();
    this.#watchFlow(this.#flowId, form);
  }

  /** Another email for the same address and request: a new code and link (the earlier ones keep working). */
  async #resend(button) {
    button.disabled = true;
    try {
      const redirect = this.#redirect();
      const started = await this.#client.startEmail(this.#email, { ...(redirect || {}), language: this.#ui.language });
      this.#flowId = started.flowId;
      this.#showCode(Math.round(started.expiresIn / 60));
      this.#say(this.#t('auth.code.resent', { email: this.#email }));
    } catch (error) {
      button.disabled = false;
      this.#say(this.#message(error), true);
    }
  }

  /**
   * While the code step shows, asks now and then whether its sign-in was finished elsewhere (the link opened on a
   * phone): then this page says so instead of waiting for a code that no longer works. It is not signed in by that:
   * whoever started a sign-in for someone else's address must not get their session.
   */
  #watchFlow(flowId, form) {
    const check = async () => {
      if (this.#flowId !== flowId || !form.isConnected) return; // another step, or a new email
      let status = 'pending';
      try {
        status = await this.#client.emailFlowStatus(flowId);
      } catch {
        status = 'pending'; // offline for a moment: ask again later
      }
      if (this.#flowId !== flowId || !form.isConnected) return;
      if (status === 'finished') {
        form.hidden = true; // the code no longer works, and "it expires in …" no longer matters
        const help = this.#root.getElementById('code-help');
        if (help) help.hidden = true;
        this.#say(this.#t('auth.code.finishedElsewhere'));
        return;
      }
      if (status === 'ended') return; // the code itself will say why when tried
      setTimeout(check, 4000);
    };
    setTimeout(check, 4000);
  }

  async #verifyCode(form, input) {
    const code = input.value.replace(/\D/g, '');
    if (code.length !== 6) {
      this.#say(this.#t('auth.code.invalid'), true);
      input.focus();
      return;
    }
    this.#busy(form, true);
    this.#say(this.#t('common.signingIn'));
    try {
      this.#tokens = await this.#client.verifyEmailCode(this.#flowId, code);
      await this.#afterEmailSignIn();
    } catch (error) {
      this.#busy(form, false);
      this.#say(this.#message(error), true);
      input.select();
      input.focus();
    }
  }

  // ---- step 3: offer a passkey after an email sign-in on a capable device ----

  async #afterEmailSignIn() {
    let offer = false;
    if (this.#caps.platformAuthenticator) {
      try {
        offer = (await this.#client.listPasskeys()).length === 0;
      } catch {
        offer = false;
      }
    }
    if (!offer) {
      await this.#finish();
      return;
    }
    if (this.#caps.conditionalCreate) {
      // The automatic upgrade: the browser makes the passkey without interrupting the person, when it decides to
      // (Chrome, for one, when its password manager took part in this sign-in). It may never answer: after a moment
      // the explicit offer shows, and a late automatic passkey still ends it.
      const upgrade = new AbortController();
      this.#upgrade = upgrade;
      const made = this.#client.addPasskey(undefined, { conditional: true, signal: upgrade.signal })
        .then(() => true, () => false);
      const quick = await Promise.race([made, new Promise((r) => { setTimeout(() => r(null), 1500); })]);
      if (quick === true) {
        this.#upgrade = null;
        this.#say(this.#t('auth.offer.created'));
        await this.#finish();
        return;
      }
      made.then((late) => {
        if (late && this.#upgrade === upgrade) {
          this.#upgrade = null;
          this.#say(this.#t('auth.offer.created'));
          this.#finish();
        }
      });
    }
    const authenticator = this.#t(`common.platformAuthenticator.${platformAuthenticator()}`);
    const create = h('button', { type: 'button', class: 'primary', id: 'create-passkey',
      onclick: () => this.#createPasskey(create, skip) }, this.#t('auth.offer.create', { authenticator }));
    const skip = h('button', { type: 'button', class: 'link', id: 'skip-passkey',
      onclick: () => { this.#stopUpgrade(); this.#finish(); } }, this.#t('auth.offer.skip'));
    this.#render(
      h('h2', {}, this.#t('auth.offer.heading')),
      h('p', {}, this.#t('auth.offer.lead', { authenticator })),
      create,
      skip);
    this.#say('');
    create.focus();
  }

  /** Ends a waiting automatic upgrade (a modal request can't run beside it). */
  #stopUpgrade() {
    if (this.#upgrade) {
      this.#upgrade.abort();
      this.#upgrade = null;
    }
  }

  async #createPasskey(create, skip) {
    this.#stopUpgrade();
    create.disabled = true;
    skip.disabled = true;
    this.#say(this.#t('common.devicePrompt'));
    try {
      await this.#client.addPasskey();
      this.#say(this.#t('auth.offer.created'));
      await this.#finish();
    } catch (error) {
      create.disabled = false;
      skip.disabled = false;
      this.#say(error.name === 'NotAllowedError' ? this.#t('auth.offer.cancelled') : this.#message(error), true);
    }
  }

  // ---- passkeys: button and autofill ----

  async #passkeyButton(button, hints) {
    this.#stopAutofill(); // a modal request can't run beside the autofill one
    this.#started = true;
    this.#modal = true;
    button.disabled = true;
    this.#say(this.#t('common.devicePrompt'));
    try {
      this.#tokens = await this.#client.signInWithPasskey({ hints });
      await this.#finish();
    } catch (error) {
      this.#modal = false;
      button.disabled = false;
      this.#say(error.name === 'NotAllowedError' ? this.#t('auth.passkey.cancelled') : this.#message(error), true);
      this.#startAutofill();
    }
  }

  #startAutofill() {
    if (!this.#caps.conditionalMediation || this.#conditional || this.#tokens || this.#modal) return;
    const controller = new AbortController();
    this.#conditional = controller;
    this.#client.signInWithPasskey({ conditional: true, signal: controller.signal })
      .then((tokens) => {
        this.#tokens = tokens;
        return this.#finish();
      })
      .catch((error) => {
        // An autofill request that ends without a pick is not news: leave whatever the status says.
        if (controller.signal.aborted || error.name === 'AbortError' || error.name === 'NotAllowedError') return;
        this.#say(this.#message(error), true);
      })
      .finally(() => {
        if (this.#conditional === controller) this.#conditional = null;
      });
  }

  #stopAutofill() {
    if (this.#conditional) {
      this.#conditional.abort();
      this.#conditional = null;
    }
  }

  // ---- signed in ----

  #redirect() {
    const request = this.getAttribute('request');
    if (request) return { request };
    const redirectTo = this.getAttribute('redirect-to');
    if (!redirectTo) return null;
    return {
      redirectTo,
      clientId: this.getAttribute('client-id') || undefined,
      state: this.getAttribute('state') || undefined,
      codeChallenge: this.getAttribute('code-challenge') || undefined,
      scope: this.getAttribute('scope') || undefined,
      nonce: this.getAttribute('nonce') || undefined,
    };
  }

  async #finish() {
    this.#stopAutofill();
    const tokens = this.#tokens;
    this.dispatchEvent(new CustomEvent('sesame:signed-in', { detail: tokens, bubbles: true, composed: true }));
    const redirect = this.#redirect();
    if (redirect) {
      this.#say(this.#t('auth.done.returning'));
      try {
        window.location.assign(await this.#client.authorize(redirect));
      } catch (error) {
        if (error instanceof SesameError && error.code === 'login_required') {
          // The app wants a newer sign-in than this browser's: sign in again here.
          this.#tokens = null;
          this.#showStart();
          this.#startAutofill();
        }
        this.#say(this.#message(error), true);
      }
      return;
    }
    const next = this.getAttribute('continue-to');
    if (next) {
      this.#say(this.#t('auth.done.signedIn'));
      window.location.assign(next);
      return;
    }
    const user = tokens ? tokens.user : this.#client.user;
    this.#render(h('h2', {}, this.#t('auth.done.heading')),
      h('p', {}, this.#ui.nodes('auth.done.as', { email: h('strong', { class: 'addr', dir: 'ltr' }, user ? user.email : '') })));
    this.#say('');
  }

  #message(error) {
    return describe(error, this.#ui);
  }
}

/**
 * What went wrong, in the person's language: the API's problem codes people can meet have their own message; any
 * other shows the server's own detail in English and a generic message elsewhere.
 */
export function describe(error, ui) {
  if (error && error.name === 'SecurityError') {
    // WebAuthn refuses a passkey when the page's domain is not the RP ID or under it (and not a related origin):
    // the site's set-up, not the person's connection. Say so to the developer; tell the person what still works.
    console.error(`Sesame: passkeys can't be used on ${window.location.origin}: its domain is not covered by the `
      + 'relying party ID Sesame uses (SESAME_RP_ID). Serve this page under that domain, set SESAME_RP_ID to a domain '
      + 'both share, or list this origin in SESAME_RELATED_ORIGINS (WebAuthn related origins).', error);
    return ui.t('error.passkey_origin');
  }
  if (error instanceof SesameError) {
    // A wrong code says how many tries are left before the email's code stops working.
    if (ui.has(`error.${error.code}`)) return ui.t(`error.${error.code}`, { count: error.problem.attemptsLeft ?? 0 });
    return ui.language === 'en' ? error.message : ui.t('error.generic');
  }
  if (error && error.name === 'NotAllowedError') return ui.t('error.cancelled');
  return ui.t('error.generic');
}

if (!customElements.get('sesame-auth')) {
  customElements.define('sesame-auth', SesameAuth);
}
