// The page the link to a new address opens: only this button's POST makes the change (mail scanners open links).
const form = document.getElementById('change');
const status = document.getElementById('status');

if (form) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    status.className = '';
    status.textContent = 'Confirming…';
    try {
      const response = await fetch('/v1/email/change', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: form.dataset.token }),
        credentials: 'omit',
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || 'The address could not be changed.');
      form.hidden = true;
      status.textContent = `Done: you now sign in with ${body.email}.`;
    } catch (error) {
      status.className = 'error';
      status.setAttribute('role', 'alert');
      status.textContent = error.message;
      button.disabled = false;
    }
  });
}
