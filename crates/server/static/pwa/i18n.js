// The language machinery the installable apps share: each app keeps its strings in
// strings.js ({ru: {…}, en: {…}}, `{name}` marking a parameter) and makes its translator here.
// Russian is the default; English is the other language.

export const LANGS = ['ru', 'en'];

/** `t`, `setLang`, `lang`, `locale` and `translatePage` over one app's strings. */
export function translator(strings) {
  let current = 'ru';

  const setLang = (lang) => {
    current = LANGS.includes(lang) ? lang : 'ru';
    return current;
  };

  const lang = () => current;

  /** The string `key` in the current language, with `{name}` parameters filled in. */
  const t = (key, params = {}) => {
    const text = strings[current][key] ?? strings.ru[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
  };

  /** A locale for Intl formatting. */
  const locale = () => (current === 'ru' ? 'ru-RU' : 'en-GB');

  /** Fills every element marked `data-i18n="key"` (and `data-i18n-label`) with its text. */
  const translatePage = (root = document) => {
    document.documentElement.lang = current;
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    document.title = t('appTitle');
  };

  return { t, setLang, lang, locale, translatePage };
}
