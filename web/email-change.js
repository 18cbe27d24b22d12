// The page the link to a new address opens: only this button's POST makes the change (mail scanners open links).
// The notice to the old address goes out in this page's language.
import { loadUi } from './i18n.js';

const form = document.getElementById('change');
const status = document.getElementById('status');

if (form) {
  const language = document.documentElement.lang;
  const uiReady = loadUi(window.location.origin, language);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const ui = await uiReady;
    const button = form.querySelector('button');
    button.disabled = true;
    status.className = '';
    status.textContent = ui.t('change.confirming');
    try {
      const response = await fetch('/v1/email/change', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: form.dataset.token, language }),
        credentials: 'omit',
      });
      const body = await response.json();
      if (!response.ok) {
        throw new Error(ui.has(`error.${body.code}`) ? ui.t(`error.${body.code}`) : ui.t('change.failed'));
      }
      form.hidden = true;
      // Done: the expiry no longer matters, and the person gets a way onward.
      for (const hint of document.querySelectorAll('p.hint')) hint.hidden = true;
      status.textContent = ui.t('change.done', { email: body.email });
      const onward = document.createElement('p');
      const link = document.createElement('a');
      link.href = `/account?lang=${encodeURIComponent(language)}`;
      link.id = 'to-account';
      link.textContent = ui.t('change.toAccount');
      onward.append(link);
      status.after(onward);
    } catch (error) {
      status.className = 'error';
      status.setAttribute('role', 'alert');
      status.textContent = error.message;
      button.disabled = false;
    }
  });
}
