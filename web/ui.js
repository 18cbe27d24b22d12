// Shared pieces of Sesame's elements: styles (a constructed stylesheet, so a strict CSP without 'unsafe-inline'
// still applies them) and a tiny element builder. Theme with CSS custom properties on the page, e.g.
//   sesame-auth { --sesame-accent: #7c3aed; --sesame-radius: 16px; }
// Dark: the elements follow the page's color-scheme (`<meta name="color-scheme" content="light dark">` or
// `:root { color-scheme: light dark }` makes them follow the system).

const css = `
:host {
  /* Tokens: the page may set any --sesame-* property; otherwise the brand's accent and Sesame's own light and dark
     sets apply, following the page's color-scheme (light unless the page declares dark or "light dark"). */
  --_accent: var(--sesame-accent, light-dark(var(--_brand-accent, #0b57d0), var(--_brand-accent-dark, #8ab4f8)));
  --_accent-text: var(--sesame-accent-text,
    light-dark(var(--_brand-accent-text, #ffffff), var(--_brand-accent-dark-text, #000000)));
  --_text: var(--sesame-text, light-dark(#1d1d1f, #f5f5f7));
  --_muted: var(--sesame-muted, light-dark(#6e6e73, #a1a1a6));
  --_border: var(--sesame-border, light-dark(#c7c7cc, #48484a));
  --_input-bg: var(--sesame-input-bg, light-dark(#ffffff, #1c1c1e));
  --_error: var(--sesame-error, light-dark(#b3261e, #f2b8b5));
  --_badge-bg: var(--sesame-badge-bg, light-dark(#e8f0fe, #1f3a5f));
  --_badge-text: var(--sesame-badge-text, light-dark(#0b57d0, #d3e3fd));
  display: block;
  font-family: var(--sesame-font, -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", "Noto Sans Arabic", "Noto Sans CJK JP", "Noto Sans CJK SC", sans-serif);
  color: var(--_text);
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
  border: 1px solid var(--_border);
  border-radius: 8px;
  background: var(--_input-bg);
  color: inherit;
  width: 100%;
  box-sizing: border-box;
}
input:focus-visible, button:focus-visible {
  outline: 3px solid var(--sesame-focus, color-mix(in srgb, var(--_accent) 40%, transparent));
  outline-offset: 1px;
}
input.code { font-size: 24px; letter-spacing: 8px; text-align: center; font-variant-numeric: tabular-nums; }
/* An address inside a sentence of any direction: set apart left to right, and moved to the next line whole rather
   than broken at its hyphen (only an address longer than the line breaks). */
.addr { unicode-bidi: isolate; display: inline-block; max-width: 100%; overflow-wrap: anywhere; }
button {
  font: inherit;
  font-weight: 600;
  min-height: 44px;
  padding: 10px 16px;
  border-radius: 8px;
  cursor: pointer;
  width: 100%;
}
button.primary { background: var(--_accent); color: var(--_accent-text); border: 0; }
button.secondary {
  background: transparent;
  color: var(--_accent);
  border: 1px solid var(--_accent);
}
button.link {
  background: none; border: 0; color: var(--_accent); width: auto; padding: 10px 4px;
  text-decoration: underline; font-weight: 500;
}
button[disabled] { opacity: .6; cursor: progress; }
.divider { display: flex; align-items: center; gap: 12px; color: var(--_muted); margin: 8px 0 16px; font-size: 14px; }
.divider::before, .divider::after { content: ""; flex: 1; border-top: 1px solid var(--_border); }
.muted { color: var(--_muted); font-size: 14px; }
.status { min-height: 1.5em; margin: 8px 0 0; }
.status.error { color: var(--_error); }
h2.section { margin-top: 32px; }
ul.passkeys, ul.sessions { list-style: none; padding: 0; margin: 0 0 16px; display: grid; gap: 12px; }
ul.passkeys li, ul.sessions li { border: 1px solid var(--_border); border-radius: var(--sesame-radius, 12px);
  padding: 12px; }
.row { display: flex; gap: 8px; flex-wrap: wrap; margin-top: 8px; }
.row button { width: auto; flex: 1 1 120px; }
.brand { display: flex; align-items: center; gap: 8px; margin: 0 0 16px; font-weight: 600; color: var(--_muted); }
.brand .logo { height: 28px; width: auto; max-width: 140px; object-fit: contain; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 999px;
  background: var(--_badge-bg); color: var(--_badge-text); }
`;

let sheet;

/**
 * Applies the shared styles to a shadow root, and the brand's accent (from GET /v1/ui) when given: the page's own
 * --sesame-accent still wins over it.
 */
export function adoptStyles(root, brand) {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  }
  root.adoptedStyleSheets = brand ? [sheet, brandSheet(brand)] : [sheet];
}

const brandSheets = new Map();
const COLOR = /^#[0-9a-f]{6}$/;

function brandSheet(brand) {
  const colors = [brand.accent, brand.accentText, brand.accentDark, brand.accentDarkText];
  const key = colors.join();
  if (!brandSheets.has(key)) {
    const [accent, accentText, dark, darkText] = colors.map((c) => (COLOR.test(c || '') ? c : 'initial'));
    const brandCss = new CSSStyleSheet();
    brandCss.replaceSync(`:host { --_brand-accent: ${accent}; --_brand-accent-text: ${accentText}; `
      + `--_brand-accent-dark: ${dark}; --_brand-accent-dark-text: ${darkText}; }`);
    brandSheets.set(key, brandCss);
  }
  return brandSheets.get(key);
}

/**
 * Sets the element's direction to its language's when the page's differs (an Arabic element on an English page,
 * or the other way round).
 */
export function applyDirection(element, ui) {
  if (getComputedStyle(element).direction !== ui.dir) element.setAttribute('dir', ui.dir);
}

/** h('button', { class: 'primary', onclick }, 'Sign in') */
/** The nodes that are there: null, undefined and false (an optional part left out) dropped, arrays flattened. */
export function present(...nodes) {
  return nodes.flat().filter((n) => n !== null && n !== undefined && n !== false);
}

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

