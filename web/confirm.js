// The email link's confirm page: only this button's POST consumes the link, so mail scanners that open links
// (GET/HEAD) can't use it up. After the sign-in it continues like /login: to the app with a code, or to /account.
import { sesame, SesameError } from './sesame.js';
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
      const spent = error instanceof SesameError && ['flow_expired', 'flow_used', 'flow_not_found', 'flow_locked']
        .includes(error.code);
      if (spent) {
        // The link itself can't be used any more: say so (not "this code"), drop the expiry, and lead back.
        status.textContent = ui.t('error.link_expired');
        form.hidden = true;
        for (const hint of document.querySelectorAll('p.hint')) hint.hidden = true;
        const back = document.createElement('p');
        const link = document.createElement('a');
        link.href = `/login?lang=${encodeURIComponent(document.documentElement.lang)}`;
        link.id = 'sign-in-again';
        link.textContent = ui.t('common.signIn');
        back.append(link);
        status.after(back);
        return;
      }
      status.textContent = describe(error, ui);
      button.disabled = false;
    }
  });
}
