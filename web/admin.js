// Sesame's admin console (/admin): a page with no build step. It signs an administrator in with a passkey (cookie
// session, CSRF header on changes) and calls the admin API, /admin/v1/…. Everything it shows is built with DOM
// calls (never innerHTML), so names and addresses from the database cannot inject markup; charts are inline SVG.

import { sesame, SesameError } from './sesame.js';
import { h } from './ui.js';

const client = sesame(window.location.origin);
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const toast = document.getElementById('toast');

// ---- the API -------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body.detail || `The server answered ${status}.`);
    this.status = status;
    this.code = body.code;
    this.body = body;
  }
}

async function api(method, path, body) {
  const call = () => fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(method === 'GET' ? {} : { 'X-Sesame-CSRF': '1' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let response = await call();
  if (response.status === 401) {
    try {
      await client.refresh(); // the access cookie expired: the refresh cookie renews it
      response = await call();
    } catch {
      // answered below
    }
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// ---- small pieces ---------------------------------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
  return el;
}

function when(iso, fallback = 'never') {
  if (!iso) return fallback;
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function number(n) {
  return Number(n || 0).toLocaleString();
}

function percent(part, whole) {
  return whole ? `${Math.round((100 * part) / whole)}%` : '–';
}

let toastTimer;
function say(text, error = false) {
  clearTimeout(toastTimer);
  toast.replaceChildren(h('p', { class: error ? 'error' : '' }, text));
  toast.setAttribute('role', error ? 'alert' : 'status');
  toastTimer = setTimeout(() => toast.replaceChildren(), error ? 8000 : 4000);
}

function page(title, ...children) {
  document.title = `${title} · Admin`;
  main.replaceChildren(h('h1', {}, title), ...children.flat().filter((c) => c !== null && c !== undefined));
  main.focus({ preventScroll: true });
}

function table(headers, rows, label) {
  return h('div', { class: 'table-wrap' }, h('table', { 'aria-label': label },
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, 'Nothing here.')))));
}

/** Runs an action from a button: disabled while it runs, errors shown, then `after`. */
function action(button, run, after) {
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const done = await run();
      if (done !== false && after) await after(done);
    } catch (error) {
      say(error.message, true);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/**
 * A modal dialog (keyboard: Tab stays inside, Esc cancels). Resolves to the form's values, or null when cancelled.
 * With `typeToConfirm`, the confirm button works only once that text is typed.
 */
function ask({ title, text, fields = [], confirm = 'OK', danger = false, typeToConfirm }) {
  return new Promise((resolve) => {
    const confirmButton = h('button', { type: 'submit', value: 'ok', class: danger ? 'danger primary' : 'primary' }, confirm);
    const inputs = fields.map((f) => {
      if (f.type === 'checkbox') {
        return h('label', { class: 'check' }, h('input', { type: 'checkbox', name: f.name, value: 'yes' }), ' ', f.label);
      }
      if (f.options) {
        return h('label', {}, f.label, h('select', { name: f.name }, f.options.map(([v, text]) => h('option', { value: v }, text))));
      }
      return h('label', {}, f.label, f.type === 'textarea'
        ? h('textarea', { name: f.name, required: f.required })
        : h('input', { name: f.name, type: f.type || 'text', required: f.required, autocomplete: 'off' }));
    });
    let typed;
    if (typeToConfirm) {
      typed = h('input', { name: '_confirm', autocomplete: 'off', 'aria-describedby': 'type-hint' });
      confirmButton.disabled = true;
      typed.addEventListener('input', () => { confirmButton.disabled = typed.value.trim() !== typeToConfirm; });
    }
    const form = h('form', { method: 'dialog' },
      h('h2', {}, title),
      text ? h('p', {}, text) : null,
      inputs,
      typeToConfirm ? h('label', {}, h('span', { id: 'type-hint' }, `Type ${typeToConfirm} to confirm`), typed) : null,
      h('div', { class: 'actions' }, confirmButton,
        h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel')));
    const dialog = h('dialog', { 'aria-label': title }, form);
    document.body.append(dialog);
    dialog.addEventListener('close', () => {
      const values = dialog.returnValue === 'ok' ? Object.fromEntries(new FormData(form)) : null;
      dialog.remove();
      resolve(values);
    });
    dialog.showModal();
  });
}

// ---- signing in -----------------------------------------------------------------------------------------------

function showSignIn(notice) {
  nav.hidden = true;
  who.replaceChildren();
  const button = h('button', { class: 'primary', type: 'button', id: 'passkey-sign-in' }, 'Sign in with a passkey');
  action(button, async () => {
    await client.signInWithPasskey();
  }, start);
  main.replaceChildren(h('section', { class: 'card narrow' },
    h('h1', {}, 'Admin console'),
    h('p', {}, notice || 'Sign in with the passkey of an administrator account.'),
    button,
    h('p', { class: 'muted small' }, 'An account becomes an administrator with: java -jar sesame.jar admin grant EMAIL. ',
      'It needs a passkey: sign in once on the account page (/account) and add one.')));
  button.focus();
}

async function signOut() {
  await client.signOut().catch(() => {});
  showSignIn('You have signed out.');
}

async function start() {
  let me;
  try {
    me = await api('GET', '/v1/me');
  } catch (error) {
    if (error.status === 401) return showSignIn();
    throw error;
  }
  try {
    settings = await api('GET', '/admin/v1/settings');
  } catch (error) {
    if (error.code === 'admin_required') {
      showSignIn(`${me.email} is not an administrator. Sign in with another account.`);
      await client.signOut().catch(() => {});
      return undefined;
    }
    if (error.code === 'passkey_required') {
      return showSignIn(`You are signed in as ${me.email} by email; the console needs a passkey.`);
    }
    throw error;
  }
  nav.hidden = false;
  who.replaceChildren(h('span', { id: 'admin-email' }, me.email),
    action(h('button', { type: 'button' }, 'Sign out'), signOut));
  window.addEventListener('hashchange', route);
  return route();
}

let settings = {};

// ---- routes ---------------------------------------------------------------------------------------------------

async function route() {
  const hash = window.location.hash || '#/dashboard';
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  for (const link of nav.querySelectorAll('a')) {
    const current = path.startsWith(link.getAttribute('href').slice(1));
    if (current) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  try {
    if (path.startsWith('/users/')) return await userPage(decodeURIComponent(path.slice('/users/'.length)));
    if (path === '/users') return await usersPage(params);
    if (path === '/audit') return await auditPage(params);
    if (path === '/clients') return await clientsPage();
    if (path.startsWith('/webhooks/')) return await deliveriesPage(decodeURIComponent(path.slice('/webhooks/'.length)));
    if (path === '/webhooks') return await webhooksPage();
    if (path === '/settings') return settingsPage();
    if (path === '/emails') return await emailsPage(params);
    return await dashboardPage();
  } catch (error) {
    if (error.status === 401) return showSignIn('Your session has ended. Sign in again.');
    page('Something went wrong', h('p', { role: 'alert' }, error.message));
  }
  return undefined;
}

// ---- dashboard ------------------------------------------------------------------------------------------------

const METHODS = [
  ['passkey', 'Passkey', 's1'],
  ['email_code', 'Email code', 's2'],
  ['email_link', 'Email link', 's3'],
  ['email_link_other_device', 'Link on another device', 's4'],
];

/** Bars per day (stacked when several series), drawn as SVG with a title per bar and the numbers in a table. */
function barChart(title, days, series) {
  const width = 600;
  const height = 200;
  const left = 36;
  const bottom = 22;
  const totals = days.map((_, i) => series.reduce((sum, x) => sum + (x.values[i] || 0), 0));
  const max = Math.max(1, ...totals);
  const step = (width - left) / days.length;
  const barWidth = Math.max(2, step * 0.7);
  const y = (v) => ((height - bottom) * v) / max;
  const bars = [];
  days.forEach((day, i) => {
    let base = 0;
    for (const x of series) {
      const v = x.values[i] || 0;
      if (v > 0) {
        bars.push(s('rect', { x: (left + i * step).toFixed(1), y: (height - bottom - y(base + v)).toFixed(1),
          width: barWidth.toFixed(1), height: Math.max(1, y(v)).toFixed(1), class: x.cls },
        s('title', {}, `${day}: ${number(v)} ${x.label.toLowerCase()}`)));
      }
      base += v;
    }
  });
  const ticks = days.map((day, i) => (i % Math.ceil(days.length / 6) === 0
    ? s('text', { x: (left + i * step).toFixed(1), y: height - 6, class: 'tick' }, day.slice(5)) : null));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `${title}: ${number(totals.reduce((a, b) => a + b, 0))} over ${days.length} days` },
  s('line', { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: 'axis' }),
  s('text', { x: 0, y: 12, class: 'tick' }, number(max)),
  s('text', { x: 0, y: height - bottom, class: 'tick' }, '0'),
  bars, ticks);
  const data = h('details', {}, h('summary', {}, 'Numbers'),
    table(['Day', ...series.map((x) => x.label)], days.map((day, i) => h('tr', {}, h('td', {}, day),
      series.map((x) => h('td', { class: 'num' }, number(x.values[i]))))), title));
  return h('section', { class: 'card chart' }, h('h2', {}, title), svg,
    series.length > 1 ? h('ul', { class: 'legend' }, series.map((x) => h('li', { class: x.cls }, x.label))) : null,
    data);
}

function barRows(title, entries, label) {
  const max = Math.max(1, ...entries.map(([, v]) => v));
  return h('section', { class: 'card chart' }, h('h2', {}, title),
    entries.length ? entries.map(([name, v], i) => h('div', { class: 'bar-row' },
      h('span', {}, name),
      h('div', { class: 'track' }, s('svg', { viewBox: '0 0 100 12', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
        s('rect', { x: 0, y: 0, height: 12, width: ((100 * v) / max).toFixed(1), class: `s${(i % 5) + 1}` }))),
      h('span', { class: 'num' }, `${number(v)} ${label}`)))
      : h('p', { class: 'muted' }, 'None yet.'));
}

async function dashboardPage() {
  const stats = await api('GET', '/admin/v1/stats?days=30');
  const t = stats.totals;
  const days = stats.days.map((d) => d.day);
  const signIns = Object.values(stats.signIns).reduce((a, b) => a + b, 0);
  const figure = (value, label, id) => h('div', { class: 'card figure' },
    h('p', { class: 'value', id }, value), h('p', { class: 'label' }, label));
  page('Dashboard',
    h('div', { class: 'figures' },
      figure(number(t.users), 'people', 'total-users'),
      figure(percent(t.withPasskey, t.users), `have a passkey (${number(t.withPasskey)}); ${number(t.emailOnly)} email only`,
        'passkey-share'),
      figure(number(t.monthlyActive), 'signed in in the last 30 days'),
      figure(percent(t.passkeysAutomatic || 0, t.passkeys),
        `of passkeys made by the automatic upgrade (${number(t.passkeysAutomatic || 0)})`, 'automatic-share'),
      figure(number(signIns), 'sign-ins in 30 days'),
      figure(percent(stats.passkeyOfferAccepted, stats.passkeyOfferShown),
        `accepted the passkey offer (${number(stats.passkeyOfferAccepted)} of ${number(stats.passkeyOfferShown)})`)),
    h('div', { class: 'charts' },
      barChart('Sign-ins per day', days, METHODS.map(([key, label, cls]) =>
        ({ label, cls, values: stats.days.map((d) => d.signIns[key] || 0) }))),
      barChart('New people per day', days, [{ label: 'New people', cls: 's3', values: stats.days.map((d) => d.newUsers) }]),
      barChart('Active people per day', days, [{ label: 'Active', cls: 's2', values: stats.days.map((d) => d.activeUsers) }]),
      barRows('Passkeys by provider', Object.entries(t.passkeysByProvider), 'passkeys'),
      barRows('Failed sign-ins by reason (30 days)', Object.entries(stats.failures).sort((a, b) => b[1] - a[1]), '')),
    h('p', { class: 'muted small' }, `Days are UTC. Totals counted ${when(t.asOf)}.`));
}

// ---- users ----------------------------------------------------------------------------------------------------

let userCursors = [];

async function usersPage(params) {
  const query = new URLSearchParams({ limit: '25' });
  for (const k of ['email', 'has_passkey', 'disabled', 'cursor']) if (params.get(k)) query.set(k, params.get(k));
  const result = await api('GET', `/admin/v1/users?${query}`);
  const email = h('input', { type: 'search', name: 'email', id: 'user-search', value: params.get('email') || '',
    placeholder: 'Email starts with…', 'aria-label': 'Email starts with' });
  const passkey = h('select', { name: 'has_passkey' },
    h('option', { value: '' }, 'Any'), h('option', { value: 'true' }, 'With a passkey'),
    h('option', { value: 'false' }, 'Email only'));
  passkey.value = params.get('has_passkey') || '';
  const status = h('select', { name: 'disabled' }, h('option', { value: '' }, 'Any'),
    h('option', { value: 'false' }, 'Active'), h('option', { value: 'true' }, 'Disabled'));
  status.value = params.get('disabled') || '';
  const form = h('form', { class: 'toolbar', role: 'search' },
    h('label', {}, 'Email', email), h('label', {}, 'Passkeys', passkey), h('label', {}, 'Status', status),
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    userCursors = [];
    const next = new URLSearchParams();
    if (email.value.trim()) next.set('email', email.value.trim());
    if (passkey.value) next.set('has_passkey', passkey.value);
    if (status.value) next.set('disabled', status.value);
    window.location.hash = `#/users?${next}`;
  });
  const create = action(h('button', { type: 'button' }, 'New user'), async () => {
    const values = await ask({ title: 'New user', confirm: 'Create',
      fields: [{ name: 'email', label: 'Email', type: 'email', required: true },
        { name: 'invite', label: 'Send them a sign-in email now', type: 'checkbox' }] });
    if (!values) return false;
    const user = await api('POST', '/admin/v1/users', { email: values.email, invite: values.invite === 'yes' });
    say(`Created ${user.email}.`);
    window.location.hash = `#/users/${user.id}`;
    return true;
  });
  const rows = result.users.map((u) => h('tr', {},
    h('td', {}, h('a', { href: `#/users/${u.id}` }, u.email)),
    h('td', { class: 'hide-small' }, when(u.createdAt)),
    h('td', {}, when(u.lastSignInAt)),
    h('td', { class: 'num' }, String(u.passkeys)),
    h('td', {}, u.disabledAt ? h('span', { class: 'badge off' }, 'Disabled') : h('span', { class: 'badge ok' }, 'Active'))));
  const pager = h('div', { class: 'pager' });
  const base = new URLSearchParams(params);
  base.delete('cursor');
  if (params.get('cursor')) {
    pager.append(h('button', { type: 'button', id: 'previous-page', onclick: () => {
      userCursors.pop();
      const previous = userCursors[userCursors.length - 1];
      const p = new URLSearchParams(base);
      if (previous) p.set('cursor', previous);
      window.location.hash = `#/users?${p}`;
    } }, 'Previous'));
  }
  if (result.next) {
    pager.append(h('button', { type: 'button', id: 'next-page', onclick: () => {
      userCursors.push(result.next);
      const p = new URLSearchParams(base);
      p.set('cursor', result.next);
      window.location.hash = `#/users?${p}`;
    } }, 'Next'));
  }
  page('Users', h('div', { class: 'actions' }, create), form,
    table(['Email', h('span', { class: 'hide-small' }, 'Created'), 'Last sign-in', 'Passkeys', 'Status'], rows, 'Users'),
    pager);
}

async function userPage(id) {
  const detail = await api('GET', `/admin/v1/users/${encodeURIComponent(id)}`);
  const u = detail.user;
  const reload = () => userPage(id);
  const path = `/admin/v1/users/${encodeURIComponent(id)}`;
  const buttons = [
    action(h('button', { type: 'button', id: 'send-sign-in' }, 'Send a sign-in email'), async () => {
      await api('POST', `${path}/sign-in-email`);
      say(`A sign-in email is on its way to ${u.email}.`);
    }),
    action(h('button', { type: 'button', id: 'revoke-sessions' }, 'Sign out everywhere'), async () => {
      if (!await ask({ title: 'Sign out everywhere?', text: `Every session of ${u.email} ends, in every app.`,
        confirm: 'Sign out everywhere', danger: true })) return false;
      await api('POST', `${path}/sessions/revoke`);
      say('Signed out everywhere.');
      return true;
    }, reload),
    u.disabledAt
      ? action(h('button', { type: 'button', id: 'enable' }, 'Enable'), async () => {
        await api('POST', `${path}/enable`);
        say(`${u.email} can sign in again.`);
      }, reload)
      : action(h('button', { type: 'button', id: 'disable', class: 'danger' }, 'Disable'), async () => {
        if (!await ask({ title: `Disable ${u.email}?`, text: 'Their sessions end now and they cannot sign in until '
          + 'the account is enabled again. Passkeys and data are kept.', confirm: 'Disable', danger: true })) return false;
        await api('POST', `${path}/disable`);
        say(`${u.email} is disabled.`);
        return true;
      }, reload),
    action(h('button', { type: 'button', id: 'change-email' }, 'Change email'), async () => {
      const values = await ask({ title: 'Change email', confirm: 'Send confirmation',
        text: 'A link goes to the new address; the change is made when it is confirmed there.',
        fields: [{ name: 'email', label: 'New email', type: 'email', required: true }] });
      if (!values) return false;
      const sent = await api('POST', `${path}/email`, { email: values.email });
      say(`A confirmation link was sent to ${sent.pendingEmail}.`);
      return true;
    }),
    action(h('button', { type: 'button', id: 'delete-user', class: 'danger primary' }, 'Delete'), async () => {
      if (!await ask({ title: `Delete ${u.email}?`, danger: true, confirm: 'Delete for good', typeToConfirm: u.email,
        text: 'This erases the account: passkeys, sessions (apps are told), sign-in emails and metadata. Audit '
          + 'events keep only the random user id. It cannot be undone.' })) return false;
      await api('DELETE', path);
      say(`${u.email} was deleted.`);
      window.location.hash = '#/users';
      return false;
    }),
  ];
  const passkeys = detail.passkeys.map((p) => h('tr', {},
    h('td', {}, p.name), h('td', {}, p.provider),
    h('td', {}, p.backedUp ? 'Synced' : 'This device only'),
    h('td', { class: 'hide-small' }, when(p.createdAt)), h('td', {}, when(p.lastUsedAt)),
    h('td', {}, action(h('button', { type: 'button', class: 'danger', 'aria-label': `Remove passkey ${p.name}` }, 'Remove'),
      async () => {
        if (!await ask({ title: `Remove the passkey "${p.name}"?`, danger: true, confirm: 'Remove',
          text: 'It stops working here at once. Their sessions stay; sign them out everywhere too if the device may be '
            + 'in other hands.' })) return false;
        await api('DELETE', `${path}/passkeys/${encodeURIComponent(p.id)}`);
        say('Passkey removed.');
        return true;
      }, reload))));
  const sessions = detail.sessions.map((x) => h('tr', {},
    h('td', {}, x.device || 'Unknown device'), h('td', {}, x.ip || ''), h('td', {}, x.authMethod),
    h('td', { class: 'hide-small' }, when(x.createdAt)), h('td', {}, when(x.lastUsedAt))));
  const events = detail.events.map((e) => h('tr', {},
    h('td', {}, when(e.occurredAt)), h('td', {}, e.type), h('td', {}, e.actor || ''),
    h('td', { class: 'hide-small' }, e.ip || '')));
  const publicMetadata = h('textarea', { id: 'public-metadata', 'aria-label': 'Public metadata (JSON)' });
  publicMetadata.value = JSON.stringify(u.publicMetadata, null, 2);
  const privateMetadata = h('textarea', { id: 'private-metadata', 'aria-label': 'Private metadata (JSON)' });
  privateMetadata.value = JSON.stringify(u.privateMetadata, null, 2);
  const saveMetadata = action(h('button', { type: 'button', id: 'save-metadata' }, 'Save metadata'), async () => {
    let body;
    try {
      body = { publicMetadata: JSON.parse(publicMetadata.value), privateMetadata: JSON.parse(privateMetadata.value) };
    } catch {
      throw new Error('The metadata must be JSON objects.');
    }
    await api('PATCH', path, body);
    say('Metadata saved.');
  });
  page(u.email,
    h('p', {}, u.disabledAt ? h('span', { class: 'badge off' }, `Disabled ${when(u.disabledAt)}`)
      : h('span', { class: 'badge ok' }, 'Active'), ' ', u.roles.includes('admin') ? h('span', { class: 'badge' }, 'Administrator') : ''),
    h('dl', { class: 'facts card' },
      h('dt', {}, 'User id'), h('dd', {}, u.id),
      h('dt', {}, 'Created'), h('dd', {}, when(u.createdAt)),
      h('dt', {}, 'Last sign-in'), h('dd', {}, when(u.lastSignInAt)),
      h('dt', {}, 'Email verified'), h('dd', {}, u.emailVerified ? 'Yes' : 'Not yet')),
    h('div', { class: 'actions' }, buttons),
    h('h2', {}, `Passkeys (${detail.passkeys.length})`),
    table(['Name', 'Provider', 'Kind', h('span', { class: 'hide-small' }, 'Created'), 'Last used', ''], passkeys, 'Passkeys'),
    h('h2', {}, `Sessions (${detail.sessions.length})`),
    table(['Device', 'Address', 'Signed in by', h('span', { class: 'hide-small' }, 'Started'), 'Last used'], sessions, 'Sessions'),
    h('h2', {}, 'Metadata'),
    h('p', { class: 'muted small' }, 'Public metadata reaches apps that ask for the metadata scope (ID token, UserInfo); '
      + 'private metadata stays here. At most 4 KiB of JSON each.'),
    h('label', {}, 'Public', publicMetadata), h('label', {}, 'Private', privateMetadata),
    h('div', { class: 'actions' }, saveMetadata),
    h('h2', {}, 'Recent events'),
    table(['When', 'Event', 'By', h('span', { class: 'hide-small' }, 'Address')], events, 'Recent events'),
    h('p', {}, h('a', { href: `#/audit?user_id=${u.id}` }, 'All events of this person')));
}

// ---- audit log ------------------------------------------------------------------------------------------------

async function auditPage(params) {
  const query = new URLSearchParams({ limit: '50' });
  for (const k of ['user_id', 'type', 'ip', 'from', 'to', 'cursor']) if (params.get(k)) query.set(k, params.get(k));
  const result = await api('GET', `/admin/v1/audit?${query}`);
  const field = (name, label, type = 'text') => {
    const input = h('input', { name, type, value: params.get(name) || '' });
    return h('label', {}, label, input);
  };
  const form = h('form', { class: 'toolbar', role: 'search' },
    field('user_id', 'User id'), field('type', 'Event type'), field('ip', 'Address'),
    field('from', 'From (ISO time)'), field('to', 'To (ISO time)'),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim()) next.set(k, String(v).trim());
    window.location.hash = `#/audit?${next}`;
  });
  const rows = result.events.map((e) => h('tr', {},
    h('td', {}, when(e.occurredAt)), h('td', {}, e.type),
    h('td', {}, e.userId ? h('a', { href: `#/users/${e.userId}` }, e.userId.slice(0, 8)) : ''),
    h('td', {}, e.actor || ''), h('td', { class: 'hide-small' }, e.ip || ''),
    h('td', { class: 'hide-small small' }, Object.keys(e.details || {}).length ? JSON.stringify(e.details) : '')));
  const pager = h('div', { class: 'pager' });
  if (result.next) {
    pager.append(h('button', { type: 'button', onclick: () => {
      const p = new URLSearchParams(params);
      p.set('cursor', result.next);
      window.location.hash = `#/audit?${p}`;
    } }, 'Older'));
  }
  page('Audit log', form, table(['When', 'Event', 'Person', 'By',
    h('span', { class: 'hide-small' }, 'Address'), h('span', { class: 'hide-small' }, 'Details')], rows, 'Audit events'),
  pager, h('p', { class: 'muted small' }, `Events are kept for ${settings.auditRetention || 'the retention period'}.`));
}

// ---- clients --------------------------------------------------------------------------------------------------

function secretNote(clientId, secret) {
  return h('section', { class: 'card', role: 'alert' },
    h('p', {}, `The secret of ${clientId}. It is shown this once (Sesame keeps only a hash): put it in the app's `
      + 'configuration now.'),
    h('p', { class: 'secret', id: 'client-secret' }, secret));
}

async function clientsPage() {
  const { clients } = await api('GET', '/admin/v1/clients');
  const reload = () => clientsPage();
  const create = action(h('button', { type: 'button', id: 'new-client', class: 'primary' }, 'New client'), async () => {
    const values = await ask({ title: 'New OpenID Connect client', confirm: 'Create',
      fields: [{ name: 'client_name', label: 'Name', required: true },
        { name: 'redirect_uris', label: 'Redirect URIs (one per line)', type: 'textarea', required: true },
        { name: 'kind', label: 'Type', options: [['confidential', 'A server-side app (with a secret)'],
          ['public', 'A single-page or mobile app (PKCE, no secret)']] }] });
    if (!values) return false;
    const created = await api('POST', '/admin/v1/clients', {
      client_name: values.client_name,
      redirect_uris: values.redirect_uris.split(/\s+/).filter(Boolean),
      token_endpoint_auth_method: values.kind === 'public' ? 'none' : 'client_secret_basic',
    });
    say(`Created ${created.client_id}.`);
    return created;
  }, async (created) => {
    await reload();
    if (created.client_secret) main.append(secretNote(created.client_id, created.client_secret));
  });
  const rows = clients.map((c) => h('tr', {},
    h('td', {}, h('strong', {}, c.client_id), h('br'), h('span', { class: 'muted small' }, c.client_name || '')),
    h('td', {}, c.token_endpoint_auth_method === 'none' ? 'Public' : 'Confidential'),
    h('td', { class: 'small' }, (c.redirect_uris || []).join('\n')),
    h('td', { class: 'hide-small' }, c.source),
    h('td', {}, h('div', { class: 'actions' },
      c.token_endpoint_auth_method !== 'none' && c.source !== 'file'
        ? action(h('button', { type: 'button' }, 'New secret'), async () => {
          if (!await ask({ title: `New secret for ${c.client_id}?`, danger: true, confirm: 'Replace the secret',
            text: 'The current secret stops working at once.' })) return false;
          const rotated = await api('POST', `/admin/v1/clients/${encodeURIComponent(c.client_id)}/secret`);
          main.append(secretNote(c.client_id, rotated.client_secret));
          return false;
        }) : null,
      c.source !== 'file' ? action(h('button', { type: 'button', class: 'danger' }, 'Delete'), async () => {
        if (!await ask({ title: `Delete ${c.client_id}?`, danger: true, confirm: 'Delete',
          text: 'People can no longer sign in to this app through Sesame.' })) return false;
        await api('DELETE', `/admin/v1/clients/${encodeURIComponent(c.client_id)}`);
        say(`Deleted ${c.client_id}.`);
        return true;
      }, reload) : null))));
  page('Clients', h('div', { class: 'actions' }, create),
    table(['Client', 'Type', 'Redirect URIs', h('span', { class: 'hide-small' }, 'Source'), ''], rows, 'Clients'));
}

// ---- webhooks -------------------------------------------------------------------------------------------------

const EVENTS = ['user.created', 'user.updated', 'user.deleted', 'user.disabled', 'signin.succeeded', 'signin.failed',
  'passkey.added', 'passkey.removed', 'session.revoked', 'email.delivery_failed'];

function webhookSecretNote(id, secret) {
  return h('section', { class: 'card', role: 'alert' },
    h('p', {}, 'The signing secret of this endpoint. It is shown this once: give it to the receiver now.'),
    h('p', { class: 'secret', id: 'webhook-secret' }, secret));
}

async function webhooksPage() {
  const { webhooks } = await api('GET', '/admin/v1/webhooks');
  const reload = () => webhooksPage();
  const create = action(h('button', { type: 'button', id: 'new-webhook', class: 'primary' }, 'New endpoint'), async () => {
    const values = await ask({ title: 'New webhook endpoint', confirm: 'Create',
      text: 'https (http only to this machine). Leave the events empty for all of them.',
      fields: [{ name: 'url', label: 'URL', type: 'url', required: true },
        { name: 'events', label: `Events, comma-separated (${EVENTS.join(', ')})` }] });
    if (!values) return false;
    const events = (values.events || '').split(',').map((e) => e.trim()).filter(Boolean);
    const created = await api('POST', '/admin/v1/webhooks', { url: values.url, events });
    say('Endpoint created.');
    return created;
  }, async (created) => {
    await reload();
    main.append(webhookSecretNote(created.webhook.id, created.secret));
  });
  const rows = webhooks.map((w) => h('tr', {},
    h('td', {}, h('a', { href: `#/webhooks/${w.id}` }, w.url)),
    h('td', { class: 'small' }, w.events.length ? w.events.join(', ') : 'all events'),
    h('td', {}, w.enabled ? h('span', { class: 'badge ok' }, 'Enabled')
      : h('span', { class: 'badge off', title: w.disabledReason || '' }, w.disabledReason ? 'Disabled by Sesame' : 'Disabled')),
    h('td', {}, h('div', { class: 'actions' },
      action(h('button', { type: 'button' }, w.enabled ? 'Disable' : 'Enable'), async () => {
        await api('POST', `/admin/v1/webhooks/${w.id}/${w.enabled ? 'disable' : 'enable'}`);
      }, reload),
      action(h('button', { type: 'button' }, 'New secret'), async () => {
        if (!await ask({ title: 'New signing secret?', confirm: 'Make a new secret',
          text: 'For 24 hours deliveries are signed with both, so the receiver can switch without missing one.' })) {
          return false;
        }
        const rotated = await api('POST', `/admin/v1/webhooks/${w.id}/secret`);
        main.append(webhookSecretNote(w.id, rotated.secret));
        return false;
      }),
      action(h('button', { type: 'button', class: 'danger' }, 'Delete'), async () => {
        if (!await ask({ title: 'Delete this endpoint?', danger: true, confirm: 'Delete',
          text: `${w.url} gets no more events; deliveries still waiting are dropped.` })) return false;
        await api('DELETE', `/admin/v1/webhooks/${w.id}`);
        say('Endpoint deleted.');
        return true;
      }, reload)))));
  page('Webhooks', h('div', { class: 'actions' }, create),
    table(['URL', 'Events', 'Status', ''], rows, 'Webhook endpoints'));
}

async function deliveriesPage(id) {
  const { deliveries } = await api('GET', `/admin/v1/webhooks/${encodeURIComponent(id)}/deliveries?limit=100`);
  const rows = deliveries.map((d) => h('tr', {},
    h('td', {}, when(d.createdAt)), h('td', {}, d.eventType),
    h('td', {}, d.status === 'delivered' ? h('span', { class: 'badge ok' }, 'Delivered')
      : d.status === 'failed' ? h('span', { class: 'badge off' }, 'Gave up') : h('span', { class: 'badge' }, 'Pending')),
    h('td', { class: 'num' }, String(d.attempts)),
    h('td', {}, d.lastStatus ? String(d.lastStatus) : ''),
    h('td', { class: 'small hide-small' }, d.lastError || ''),
    h('td', {}, action(h('button', { type: 'button', 'aria-label': `Send ${d.messageId} again` }, 'Send again'),
      async () => {
        await api('POST', `/admin/v1/webhooks/${encodeURIComponent(id)}/deliveries/${d.id}/resend`);
        say('Queued to be sent again.');
      }, () => deliveriesPage(id)))));
  page('Webhook deliveries', h('p', {}, h('a', { href: '#/webhooks' }, 'All endpoints')),
    table(['When', 'Event', 'Status', 'Attempts', 'Answer', h('span', { class: 'hide-small' }, 'Error'), ''], rows,
      'Deliveries'));
}

// ---- emails ---------------------------------------------------------------------------------------------------

/** Every email in every offered language, rendered with sample values as it would go out. */
async function emailsPage(params) {
  const index = await api('GET', '/admin/v1/email-previews');
  const template = index.templates.includes(params.get('template')) ? params.get('template') : index.templates[0];
  const language = index.languages.includes(params.get('language')) ? params.get('language') : index.defaultLanguage;
  const preview = await api('GET', `/admin/v1/email-previews/${encodeURIComponent(template)}/${encodeURIComponent(language)}`);
  const go = (t, l) => { window.location.hash = `#/emails?template=${encodeURIComponent(t)}&language=${encodeURIComponent(l)}`; };
  const pickTemplate = h('select', { id: 'email-template', onchange: (e) => go(e.target.value, language) },
    index.templates.map((t) => h('option', { value: t, selected: t === template }, t)));
  const pickLanguage = h('select', { id: 'email-language', onchange: (e) => go(template, e.target.value) },
    index.languages.map((l) => h('option', { value: l, selected: l === language }, l)));
  page('Emails',
    h('p', { class: 'muted' }, 'Each email as it goes out, with sample values: the branding settings and, where it '
      + 'holds a file, SESAME_TEMPLATES_DIR (see the README). The CLI renders one to a file: '
      + 'java -jar sesame.jar email preview TEMPLATE LANGUAGE --out FILE.'),
    h('div', { class: 'toolbar' },
      h('label', { for: 'email-template' }, 'Template'), pickTemplate,
      h('label', { for: 'email-language' }, 'Language'), pickLanguage),
    h('h2', {}, 'Subject'),
    h('p', { id: 'email-subject', lang: language }, preview.subject),
    h('h2', {}, 'HTML part'),
    h('iframe', { id: 'email-html', class: 'email-frame', src: preview.htmlUrl, title: `HTML part (${language})` }),
    h('h2', {}, 'Plain-text part'),
    h('pre', { id: 'email-text', class: 'card email-text', lang: language }, preview.text));
}

// ---- settings -------------------------------------------------------------------------------------------------

function settingsPage() {
  page('Settings',
    h('p', { class: 'muted' }, 'The settings this server started with (SESAME_* environment variables; see the README), '
      + 'branding and languages among them; change them there and restart. Secrets are never shown.'),
    h('dl', { class: 'facts card', id: 'settings' }, Object.entries(settings).flatMap(([k, v]) => [
      h('dt', {}, k), h('dd', {}, Array.isArray(v) ? v.join(', ') || '–' : String(v))])));
}

start().catch((error) => {
  main.replaceChildren(h('p', { role: 'alert' }, error instanceof SesameError || error instanceof ApiError
    ? error.message : 'The console could not start. Reload the page.'));
});
