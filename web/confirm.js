// The email link's confirm page: only this button's POST consumes the link, so mail scanners that open links
// (GET/HEAD) can't use it up.
const form = document.getElementById('confirm');
const status = document.getElementById('status');

if (form) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    status.className = '';
    status.textContent = 'Signing in…';
    try {
      const response = await fetch('/v1/email/verify', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: form.dataset.token }),
        credentials: 'same-origin',
      });
      const body = await response.json();
      if (!response.ok) {
        throw new Error(body.detail || 'Sign-in failed.');
      }
      form.hidden = true;
      status.textContent = `You're signed in as ${body.user.email}. You can close this tab.`;
      document.dispatchEvent(new CustomEvent('sesame:signed-in', { detail: body }));
    } catch (error) {
      status.className = 'error';
      status.textContent = error.message;
      button.disabled = false;
    }
  });
}
