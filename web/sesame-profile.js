// <sesame-profile>: the account view of the signed-in person: email, passkeys (provider, created, last used,
// synced or not; rename, remove, add another) and sign out. Signed out, it shows <sesame-auth> instead.
//
//   <script type="module" src="https://login.example.com/assets/sesame-profile.js"></script>
//   <sesame-profile></sesame-profile>

import { describe } from './sesame-auth.js';
import { platformAuthenticator, sesame } from './sesame.js';
import { loadUi, requestedLanguage } from './i18n.js';
import { adoptStyles, applyDirection, h, present } from './ui.js';

class SesameProfile extends HTMLElement {
  #client;
  #root;
  #status;
  #ui;

  async connectedCallback() {
    if (this.#root) return;
    this.#client = sesame(this.getAttribute('base-url') || undefined);
    this.#root = this.attachShadow({ mode: 'open' });
    adoptStyles(this.#root);
    this.#status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    try {
      this.#ui = await loadUi(this.#client.baseUrl, requestedLanguage(this));
    } catch {
      this.#root.replaceChildren(h('p', { class: 'status error', role: 'alert' }, 'Could not reach the sign-in service.'));
      return;
    }
    adoptStyles(this.#root, this.#ui.brand);
    applyDirection(this, this.#ui);
    this.#root.replaceChildren(h('p', { class: 'muted' }, this.#t('profile.loading')), this.#status);
    this.#client.addEventListener('signed-out', () => this.#showSignIn());
    this.#client.addEventListener('session-expired', () => this.#showSignIn(this.#t('profile.sessionEnded')));
    try {
      const user = await this.#client.restore();
      if (user) {
        await this.#show();
      } else {
        this.#showSignIn();
      }
    } catch (error) {
      this.#say(this.#message(error), true);
    }
  }

  #t(key, args) {
    return this.#ui.t(key, args);
  }

  #message(error) {
    return describe(error, this.#ui);
  }

  #say(text, error = false) {
    this.#status.textContent = text || '';
    this.#status.className = error ? 'status error' : 'status';
    this.#status.setAttribute('role', error ? 'alert' : 'status');
  }

  #showSignIn(notice) {
    // The sign-in inside speaks this element's language (its shadow root hides the page's lang from it).
    const auth = h('sesame-auth', { 'continue-to': window.location.pathname, lang: this.#ui.language });
    const base = this.getAttribute('base-url');
    if (base) auth.setAttribute('base-url', base);
    this.#root.replaceChildren(auth, this.#status);
    this.#say(notice || '');
  }

  async #show(focusId) {
    const me = await this.#client.me();
    const passkeys = await this.#client.listPasskeys();
    const names = await this.#client.profile();
    const sessions = await this.#client.listSessions();
    const list = h('ul', { class: 'passkeys', 'aria-label': this.#t('profile.passkeys.label') },
      passkeys.map((p) => this.#item(p)));
    // replaceChildren() would print a null as the text "null": the optional parts go through present().
    this.#root.replaceChildren(...present(
      h('h2', {}, this.#t('profile.heading')),
      h('p', {}, this.#ui.nodes('profile.signedInAs', { email: h('strong', { id: 'email', class: 'addr', dir: 'ltr' }, me.email) })),
      this.#nameForm(names),
      h('h2', {}, this.#t('profile.passkeys.heading')),
      passkeys.length ? h('p', { class: 'muted', id: 'passkey-count' },
        this.#t('profile.passkeys.count', { count: passkeys.length })) : null,
      passkeys.length ? list : h('p', { class: 'muted', id: 'no-passkeys' }, this.#t('profile.passkeys.none',
        { authenticator: this.#t(`common.platformAuthenticator.${platformAuthenticator()}`) })),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'primary', id: 'add-passkey', onclick: (e) => this.#add(e.target) },
          this.#t('profile.add')),
        h('button', { type: 'button', class: 'secondary', id: 'sign-out', onclick: (e) => this.#signOut(e.target) },
          this.#t('profile.signOut'))),
      this.#sessionList(sessions),
      this.#status));
    if (focusId) {
      const target = this.#root.getElementById(focusId);
      if (target) target.focus();
    }
  }

  /** Where the person is signed in, with a way to end any other session, or all of them. */
  #sessionList(sessions) {
    const items = sessions.map((session) => h('li', { 'data-session-id': session.id },
      h('div', {}, h('strong', {}, session.device || this.#t('profile.sessions.unknownDevice')), ' ',
        session.current ? h('span', { class: 'badge' }, this.#t('profile.sessions.current')) : null),
      h('div', { class: 'muted' }, this.#t('profile.sessions.lastUsed', { lastUsed: this.#ui.date(session.lastUsedAt) })),
      session.current ? null : h('button', { type: 'button', class: 'link end-session', onclick: async (e) => {
        e.target.disabled = true;
        try {
          await this.#client.endSession(session.id);
          await this.#show();
          this.#say(this.#t('profile.sessions.ended'));
        } catch (error) {
          e.target.disabled = false;
          this.#say(this.#message(error), true);
        }
      } }, this.#t('profile.sessions.end'))));
    return [
      h('h2', { class: 'section' }, this.#t('profile.sessions.heading')),
      h('ul', { class: 'sessions', 'aria-label': this.#t('profile.sessions.heading') }, items),
      h('button', { type: 'button', class: 'secondary', id: 'sign-out-everywhere', onclick: async (e) => {
        e.target.disabled = true;
        try {
          await this.#client.signOutEverywhere();
        } catch (error) {
          e.target.disabled = false;
          this.#say(this.#message(error), true);
        }
      } }, this.#t('profile.sessions.everywhere')),
    ];
  }

  /** The person's name: apps they allow to see their profile receive it (OpenID Connect given_name, family_name). */
  #nameForm(names) {
    const given = h('input', { id: 'given-name', name: 'givenName', autocomplete: 'given-name', maxlength: '100',
      value: names.givenName || '' });
    const family = h('input', { id: 'family-name', name: 'familyName', autocomplete: 'family-name', maxlength: '100',
      value: names.familyName || '' });
    const form = h('form', { id: 'name-form', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const button = form.querySelector('button');
      button.disabled = true;
      try {
        await this.#client.saveProfile({ givenName: given.value, familyName: family.value });
        this.#say(this.#t('profile.name.saved'));
      } catch (error) {
        this.#say(this.#message(error), true);
      } finally {
        button.disabled = false;
      }
    } },
    h('h2', {}, this.#t('profile.name.heading')),
    h('p', { class: 'muted' }, this.#t('profile.name.lead')),
    h('label', { for: 'given-name' }, this.#t('profile.name.given')), given,
    h('label', { for: 'family-name' }, this.#t('profile.name.family')), family,
    h('button', { type: 'submit', class: 'secondary', id: 'save-name' }, this.#t('profile.name.save')));
    return form;
  }

  #item(p) {
    const item = h('li', { 'data-passkey-id': p.id },
      h('div', {}, h('strong', { class: 'name' }, p.name), ' ',
        h('span', { class: 'badge' }, this.#t(p.backedUp ? 'profile.passkey.synced' : 'profile.passkey.deviceOnly'))),
      p.provider !== p.name ? h('div', { class: 'muted provider' }, p.provider) : null,
      h('div', { class: 'muted' }, this.#t('profile.passkey.dates',
        { created: this.#ui.date(p.createdAt), lastUsed: this.#ui.date(p.lastUsedAt) })),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'secondary', 'aria-label': this.#t('profile.passkey.renameLabel', { name: p.name }),
          onclick: () => this.#rename(item, p) }, this.#t('profile.passkey.rename')),
        h('button', { type: 'button', class: 'secondary', 'aria-label': this.#t('profile.passkey.removeLabel', { name: p.name }),
          onclick: () => this.#confirmRemove(item, p) }, this.#t('profile.passkey.remove'))));
    return item;
  }

  #rename(item, p) {
    const input = h('input', { id: `name-${p.id}`, value: p.name, maxlength: '64', required: true });
    const form = h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await this.#client.renamePasskey(p.id, input.value);
          this.#say(this.#t('profile.passkey.renamed'));
          await this.#show('add-passkey');
        } catch (error) {
          this.#say(this.#message(error), true);
          input.focus();
        }
      },
    },
    h('label', { for: `name-${p.id}` }, this.#t('profile.passkey.nameLabel')),
    input,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, this.#t('common.save')),
      h('button', { type: 'button', class: 'secondary', onclick: () => this.#show() }, this.#t('common.cancel'))));
    item.replaceChildren(form);
    input.select();
    input.focus();
  }

  #confirmRemove(item, p) {
    const yes = h('button', { type: 'button', class: 'primary', onclick: async () => {
      try {
        await this.#client.removePasskey(p.id);
        this.#say(this.#t('profile.passkey.removed', { name: p.name }));
        await this.#show('add-passkey');
      } catch (error) {
        this.#say(this.#message(error), true);
      }
    } }, this.#t('profile.passkey.remove'));
    item.replaceChildren(
      h('p', {}, this.#ui.nodes('profile.passkey.removeConfirm', { name: h('strong', {}, p.name) })),
      h('div', { class: 'row' }, yes,
        h('button', { type: 'button', class: 'secondary', onclick: () => this.#show() }, this.#t('profile.passkey.keep'))));
    yes.focus();
  }

  async #add(button) {
    button.disabled = true;
    this.#say(this.#t('common.devicePrompt'));
    try {
      const passkey = await this.#client.addPasskey();
      this.#say(this.#t('profile.added', { name: passkey.name }));
      await this.#show('add-passkey');
    } catch (error) {
      button.disabled = false;
      this.#say(error.name === 'NotAllowedError' ? this.#t('profile.addCancelled')
        : error.name === 'InvalidStateError' ? this.#t('profile.addExists') : this.#message(error), true);
    }
  }

  async #signOut(button) {
    button.disabled = true;
    try {
      await this.#client.signOut();
    } catch (error) {
      this.#say(this.#message(error), true);
    }
  }
}

if (!customElements.get('sesame-profile')) {
  customElements.define('sesame-profile', SesameProfile);
}
