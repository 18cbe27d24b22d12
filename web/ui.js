// Shared pieces of Sesame's elements: styles (a constructed stylesheet, so a strict CSP without 'unsafe-inline'
// still applies them) and a tiny element builder. Theme with CSS custom properties on the page, e.g.
//   sesame-auth { --sesame-accent: #7c3aed; --sesame-radius: 16px; }

const css = `
:host {
  display: block;
  font-family: var(--sesame-font, -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif);
  color: var(--sesame-text, #1d1d1f);
  font-size: 16px;
  line-height: 1.5;
  max-width: 400px;
}
[hidden] { display: none !important; }
h2 { font-size: 20px; line-height: 1.3; margin: 0 0 8px; }
p { margin: 0 0 16px; overflow-wrap: anywhere; }
form { display: grid; gap: 8px; margin: 0 0 16px; }
label { font-weight: 600; font-size: 14px; }
input {
  font: inherit;
  min-height: 44px;
  padding: 10px 12px;
  border: 1px solid var(--sesame-border, #c7c7cc);
  border-radius: 8px;
  background: var(--sesame-input-bg, #fff);
  color: inherit;
  width: 100%;
  box-sizing: border-box;
}
input:focus-visible, button:focus-visible {
  outline: 3px solid var(--sesame-focus, color-mix(in srgb, var(--sesame-accent, #0b57d0) 40%, transparent));
  outline-offset: 1px;
}
input.code { font-size: 24px; letter-spacing: 8px; text-align: center; font-variant-numeric: tabular-nums; }
button {
  font: inherit;
  font-weight: 600;
  min-height: 44px;
  padding: 10px 16px;
  border-radius: 8px;
  cursor: pointer;
  width: 100%;
}
button.primary { background: var(--sesame-accent, #0b57d0); color: var(--sesame-accent-text, #fff); border: 0; }
button.secondary {
  background: transparent;
  color: var(--sesame-accent, #0b57d0);
  border: 1px solid var(--sesame-accent, #0b57d0);
}
button.link {
  background: none; border: 0; color: var(--sesame-accent, #0b57d0); width: auto; padding: 10px 4px;
  text-decoration: underline; font-weight: 500;
}
button[disabled] { opacity: .6; cursor: progress; }
.divider { display: flex; align-items: center; gap: 12px; color: var(--sesame-muted, #6e6e73); margin: 8px 0 16px; font-size: 14px; }
.divider::before, .divider::after { content: ""; flex: 1; border-top: 1px solid var(--sesame-border, #e5e5ea); }
.muted { color: var(--sesame-muted, #6e6e73); font-size: 14px; }
.status { min-height: 1.5em; margin: 8px 0 0; }
.status.error { color: var(--sesame-error, #b3261e); }
ul.passkeys { list-style: none; padding: 0; margin: 0 0 16px; display: grid; gap: 12px; }
ul.passkeys li { border: 1px solid var(--sesame-border, #e5e5ea); border-radius: var(--sesame-radius, 12px); padding: 12px; }
.row { display: flex; gap: 8px; flex-wrap: wrap; margin-top: 8px; }
.row button { width: auto; flex: 1 1 120px; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 999px;
  background: var(--sesame-badge-bg, #e8f0fe); color: var(--sesame-badge-text, #0b57d0); }
`;

let sheet;

/** Applies the shared styles to a shadow root. */
export function adoptStyles(root) {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  }
  root.adoptedStyleSheets = [sheet];
}

/** h('button', { class: 'primary', onclick }, 'Sign in') */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

/** A readable date, or a fallback for null. */
export function formatDate(iso, fallback = 'never') {
  if (!iso) return fallback;
  return new Date(iso).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}
