// Sesame's words in the person's language. GET /v1/ui?lang= answers with the language the server chose (the
// element's or page's lang, else the browser's Accept-Language, else SESAME_DEFAULT_LANGUAGE), its direction, its
// messages and the brand. The messages are ICU message format, parsed on the server into parts; plurals are picked
// here with the browser's own CLDR rules (Intl.PluralRules), numbers and dates with Intl too.

const loaded = new Map();

/** The language an element asks for: its own lang attribute, else the nearest ancestor's, else the page's. */
export function requestedLanguage(element) {
  const tagged = element.closest('[lang]');
  return ((tagged && tagged.getAttribute('lang')) || document.documentElement.lang || '').trim();
}

/** The words and brand for `lang` from the Sesame at `baseUrl` (one request per page and language). */
export function loadUi(baseUrl, lang) {
  const key = `${baseUrl}|${lang}`;
  if (!loaded.has(key)) {
    const url = new URL(`${baseUrl.replace(/\/+$/, '')}/v1/ui`);
    if (lang) url.searchParams.set('lang', lang);
    const pending = fetch(url, { credentials: 'omit' })
      .then((response) => {
        if (!response.ok) throw new Error(`GET /v1/ui: ${response.status}`);
        return response.json();
      })
      .then((ui) => new Ui(ui))
      .catch((error) => {
        loaded.delete(key); // try again next time
        throw error;
      });
    loaded.set(key, pending);
  }
  return loaded.get(key);
}

export class Ui {
  constructor({ language, dir, messages, brand }) {
    this.language = language;
    this.dir = dir;
    this.brand = brand || {};
    this.messages = messages || {};
    this.plurals = new Intl.PluralRules(language);
    this.numbers = new Intl.NumberFormat(language);
    this.dates = new Intl.DateTimeFormat(language, { year: 'numeric', month: 'short', day: 'numeric' });
  }

  has(key) {
    return Object.prototype.hasOwnProperty.call(this.messages, key);
  }

  /** The message as text. */
  t(key, args = {}) {
    return this.nodes(key, args).join('');
  }

  /** The message as a list of strings and whatever nodes were passed as arguments (to set one in <strong>). */
  nodes(key, args = {}) {
    if (!this.has(key)) {
      console.warn(`sesame: no message ${key}`);
      return [key];
    }
    return run(this.messages[key], args, this, 0);
  }

  /** A localized date, or the "never" text for none. */
  date(iso) {
    return iso ? this.dates.format(new Date(iso)) : this.t('profile.passkey.never');
  }
}

function run(message, args, ui, number) {
  if (typeof message === 'string') return [message];
  const out = [];
  for (const part of message) {
    if (typeof part === 'string') {
      out.push(part);
    } else if (part['#']) {
      out.push(ui.numbers.format(number));
    } else if (part.p) {
      const value = Number(args[part.a]);
      const offset = part.o || 0;
      const chosen = part.p[`=${value}`] || part.p[ui.plurals.select(value - offset)] || part.p.other;
      out.push(...run(chosen, args, ui, value - offset));
    } else if (part.s) {
      out.push(...run(part.s[args[part.a]] || part.s.other, args, ui, number));
    } else if (part.t === 'number') {
      out.push(ui.numbers.format(Number(args[part.a])));
    } else {
      const value = args[part.a];
      out.push(value === undefined || value === null ? '' : value);
    }
  }
  return out;
}
