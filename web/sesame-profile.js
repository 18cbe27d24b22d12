// <sesame-profile>: the account view of the signed-in person: email, passkeys (provider, created, last used,
// synced or not; rename, remove, add another) and sign out. Signed out, it shows <sesame-auth> instead.
//
//   <script type="module" src="https://login.example.com/assets/sesame-profile.js"></script>
//   <sesame-profile></sesame-profile>

import './sesame-auth.js';
import { sesame, SesameError } from './sesame.js';
import { adoptStyles, formatDate, h } from './ui.js';

class SesameProfile extends HTMLElement {
  #client;
  #root;
  #status;

  async connectedCallback() {
    if (this.#root) return;
    this.#client = sesame(this.getAttribute('base-url') || undefined);
    this.#root = this.attachShadow({ mode: 'open' });
    adoptStyles(this.#root);
    this.#status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this.#root.replaceChildren(h('p', { class: 'muted' }, 'Loading your account…'), this.#status);
    this.#client.addEventListener('signed-out', () => this.#showSignIn());
    this.#client.addEventListener('session-expired', () => this.#showSignIn('Your session has ended. Sign in again.'));
    try {
      const user = await this.#client.restore();
      if (user) {
        await this.#show();
      } else {
        this.#showSignIn();
      }
    } catch (error) {
      this.#say(message(error), true);
    }
  }

  #say(text, error = false) {
    this.#status.textContent = text || '';
    this.#status.className = error ? 'status error' : 'status';
    this.#status.setAttribute('role', error ? 'alert' : 'status');
  }

  #showSignIn(notice) {
    const auth = h('sesame-auth', { 'continue-to': window.location.pathname });
    const base = this.getAttribute('base-url');
    if (base) auth.setAttribute('base-url', base);
    this.#root.replaceChildren(auth, this.#status);
    this.#say(notice || '');
  }

  async #show(focusId) {
    const me = await this.#client.me();
    const passkeys = await this.#client.listPasskeys();
    const list = h('ul', { class: 'passkeys', 'aria-label': 'Your passkeys' },
      passkeys.map((p) => this.#item(p)));
    this.#root.replaceChildren(
      h('h2', {}, 'Your account'),
      h('p', {}, 'Signed in as ', h('strong', { id: 'email' }, me.email)),
      h('h2', {}, 'Passkeys'),
      passkeys.length ? list : h('p', { class: 'muted', id: 'no-passkeys' },
        'No passkeys yet. Add one to sign in with Face ID, Touch ID or Windows Hello instead of email codes.'),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'primary', id: 'add-passkey', onclick: (e) => this.#add(e.target) },
          'Add a passkey'),
        h('button', { type: 'button', class: 'secondary', id: 'sign-out', onclick: (e) => this.#signOut(e.target) },
          'Sign out')),
      this.#status);
    if (focusId) {
      const target = this.#root.getElementById(focusId);
      if (target) target.focus();
    }
  }

  #item(p) {
    const item = h('li', { 'data-passkey-id': p.id },
      h('div', {}, h('strong', { class: 'name' }, p.name), ' ',
        h('span', { class: 'badge' }, p.backedUp ? 'Synced' : 'This device only')),
      p.provider !== p.name ? h('div', { class: 'muted provider' }, p.provider) : null,
      h('div', { class: 'muted' }, `Created ${formatDate(p.createdAt)} · Last used ${formatDate(p.lastUsedAt)}`),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'secondary', 'aria-label': `Rename ${p.name}`,
          onclick: () => this.#rename(item, p) }, 'Rename'),
        h('button', { type: 'button', class: 'secondary', 'aria-label': `Remove ${p.name}`,
          onclick: () => this.#confirmRemove(item, p) }, 'Remove')));
    return item;
  }

  #rename(item, p) {
    const input = h('input', { id: `name-${p.id}`, value: p.name, maxlength: '64', required: true });
    const form = h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await this.#client.renamePasskey(p.id, input.value);
          this.#say('Passkey renamed.');
          await this.#show('add-passkey');
        } catch (error) {
          this.#say(message(error), true);
          input.focus();
        }
      },
    },
    h('label', { for: `name-${p.id}` }, 'Passkey name'),
    input,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
      h('button', { type: 'button', class: 'secondary', onclick: () => this.#show() }, 'Cancel')));
    item.replaceChildren(form);
    input.select();
    input.focus();
  }

  #confirmRemove(item, p) {
    const yes = h('button', { type: 'button', class: 'primary', onclick: async () => {
      try {
        await this.#client.removePasskey(p.id);
        this.#say(`Removed ${p.name}.`);
        await this.#show('add-passkey');
      } catch (error) {
        this.#say(message(error), true);
      }
    } }, 'Remove');
    item.replaceChildren(
      h('p', {}, 'Remove ', h('strong', {}, p.name), '? You won’t be able to sign in with it any more.'),
      h('div', { class: 'row' }, yes,
        h('button', { type: 'button', class: 'secondary', onclick: () => this.#show() }, 'Keep it')));
    yes.focus();
  }

  async #add(button) {
    button.disabled = true;
    this.#say('Follow your device’s prompt…');
    try {
      const passkey = await this.#client.addPasskey();
      this.#say(`Added ${passkey.name}.`);
      await this.#show('add-passkey');
    } catch (error) {
      button.disabled = false;
      this.#say(error.name === 'NotAllowedError' ? 'No passkey was added.'
        : error.name === 'InvalidStateError' ? 'This device already has a passkey for your account.' : message(error), true);
    }
  }

  async #signOut(button) {
    button.disabled = true;
    try {
      await this.#client.signOut();
    } catch (error) {
      this.#say(message(error), true);
    }
  }
}

function message(error) {
  if (error instanceof SesameError) return error.message;
  return 'Something went wrong. Check your connection and try again.';
}

if (!customElements.get('sesame-profile')) {
  customElements.define('sesame-profile', SesameProfile);
}
