// The email link's confirm page: only this button's POST consumes the link, so mail scanners that open links
// (GET/HEAD) can't use it up. After the sign-in it continues like /login: to the app with a code, or to /account.
import { sesame } from './sesame.js';
import { describe } from './sesame-auth.js';
import { loadUi } from './i18n.js';

const form = document.getElementById('confirm');
const status = document.getElementById('status');
const client = sesame();

if (form) {
  const uiReady = loadUi(client.baseUrl, document.documentElement.lang);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const ui = await uiReady;
    const button = form.querySelector('button');
    button.disabled = true;
    status.className = '';
    status.textContent = ui.t('common.signingIn');
    try {
      const tokens = await client.verifyEmailLink(form.dataset.token);
      form.hidden = true;
      status.textContent = ui.t('auth.signedInAs', { email: tokens.user.email });
      window.location.assign(tokens.continue ? await client.authorize(tokens.continue) : '/account');
    } catch (error) {
      status.className = 'error';
      status.setAttribute('role', 'alert');
      status.textContent = describe(error, ui);
      button.disabled = false;
    }
  });
}
