// The app's translator: its strings (strings.js) with the shared helpers (pwa/i18n.js).

import { STRINGS } from './strings.js';
import { translator } from './pwa/i18n.js';

export { STRINGS };
export { LANGS } from './pwa/i18n.js';
export const { t, setLang, lang, locale, translatePage } = translator(STRINGS);
