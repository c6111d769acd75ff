// Short codes (docs/token-format.md, section 12): what people type, normalised and
// checked on the phone, so that a typo is caught before asking the server.

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXY';

// Look-alikes and keyboard-layout slips, mapped to the alphabet.
const MAP = new Map(Object.entries({
  O: '0', o: '0', 'О': '0', 'о': '0',
  I: '1', i: '1', L: '1', l: '1',
  Z: '2', z: '2', 'З': '2', 'з': '2',
  U: 'V', u: 'V',
  'А': 'A', 'а': 'A', 'В': 'B', 'в': 'B', 'Е': 'E', 'е': 'E', 'К': 'K', 'к': 'K',
  'М': 'M', 'м': 'M', 'Н': 'H', 'н': 'H', 'Р': 'P', 'р': 'P', 'С': 'C', 'с': 'C',
  'Т': 'T', 'т': 'T', 'Х': 'X', 'х': 'X', 'У': 'Y', 'у': 'Y',
}));

const SEPARATORS = new Set(['-', '*', '#', '.', '_']);

/**
 * Normalises typed text. Returns {ok: true, code, display} or {ok: false, error}
 * with error one of 'empty', 'character' (with `character`), 'length', 'check'.
 */
export function parseShortCode(input) {
  let compact = '';
  for (const ch of String(input)) {
    if (/\s/u.test(ch) || SEPARATORS.has(ch)) continue;
    const mapped = MAP.get(ch) ?? ch.toUpperCase();
    if (!ALPHABET.includes(mapped) || mapped.length !== 1) return { ok: false, error: 'character', character: ch };
    compact += mapped;
  }
  if (compact.length === 0) return { ok: false, error: 'empty' };
  if (compact.length !== 9) return { ok: false, error: 'length' };
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (i + 1) * ALPHABET.indexOf(compact[i]);
  if (sum % 31 !== 0) return { ok: false, error: 'check' };
  return { ok: true, code: compact, display: `${compact.slice(0, 3)}-${compact.slice(3, 6)}-${compact.slice(6)}` };
}
