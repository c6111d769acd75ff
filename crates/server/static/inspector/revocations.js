// The revocation list on the phone, in the compact form (docs/token-format.md, "Compact
// revocation pages"): each entry is 8 bytes of SHA-256 over a revoked pass id and the
// pass's end, 12 bytes in all, so 900,000 live revocations take about 11 MB.
//
// Pages are stored as they arrive (sync.js); lookups go through an index built from them:
// every key still valid, sorted, in one BigUint64Array searched by bisection. Entries whose
// pass has ended are dropped from the index and from the stored pages (prune), so the cache
// never holds more than the server's list of live revocations.
//
// Self-contained (no imports): the Node tests load it as it is.

const MAGIC = [0x50, 0x52, 0x4c, 0x31]; // "PRL1"

/**
 * Reads a compact page. Returns {sequence, latest, next, keys: Uint8Array (8 bytes an
 * entry), until: Uint32Array}; throws on anything that is not one.
 */
export function parsePage(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 26 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('not a compact revocation page');
  const sequence = Number(view.getBigUint64(4));
  const latest = Number(view.getBigUint64(12));
  const cursorLength = view.getUint16(20);
  const countAt = 22 + cursorLength;
  if (bytes.length < countAt + 4) throw new Error('truncated revocation page');
  const next = cursorLength ? new TextDecoder().decode(bytes.subarray(22, countAt)) : null;
  const count = view.getUint32(countAt);
  const body = countAt + 4;
  if (bytes.length !== body + 12 * count) throw new Error('truncated revocation page');
  const keys = new Uint8Array(8 * count);
  const until = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    keys.set(bytes.subarray(body + 12 * i, body + 12 * i + 8), 8 * i);
    until[i] = view.getUint32(body + 12 * i + 8);
  }
  return { sequence, latest, next, keys, until };
}

/** A page with the entries ended by `nowSec` left out (the same object if none was). */
export function prunePage(page, nowSec) {
  let live = 0;
  for (const u of page.until) if (u > nowSec) live++;
  if (live === page.until.length) return page;
  const keys = new Uint8Array(8 * live);
  const until = new Uint32Array(live);
  let j = 0;
  for (let i = 0; i < page.until.length; i++) {
    if (page.until[i] <= nowSec) continue;
    keys.set(page.keys.subarray(8 * i, 8 * i + 8), 8 * j);
    until[j++] = page.until[i];
  }
  return { ...page, keys, until };
}

/** The lookup index over stored pages: every key still valid at `nowSec`, sorted. */
export function buildIndex(pages, nowSec) {
  let total = 0;
  for (const page of pages) for (const u of page.until) if (u > nowSec) total++;
  const keys = new BigUint64Array(total);
  let j = 0;
  for (const page of pages) {
    const view = new DataView(page.keys.buffer, page.keys.byteOffset, page.keys.byteLength);
    for (let i = 0; i < page.until.length; i++) {
      if (page.until[i] > nowSec) keys[j++] = view.getBigUint64(8 * i);
    }
  }
  keys.sort();
  return keys;
}

/** Whether the sorted index holds `key` (a BigInt). */
export function indexHas(index, key) {
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (index[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < index.length && index[lo] === key;
}

/** The compact key of a pass id (32 hex digits): the first 8 bytes of SHA-256 over its 16 bytes. */
export async function keyOf(passIdHex) {
  const id = new Uint8Array(16);
  for (let i = 0; i < 16; i++) id[i] = parseInt(passIdHex.slice(2 * i, 2 * i + 2), 16);
  const digest = await crypto.subtle.digest('SHA-256', id);
  return new DataView(digest).getBigUint64(0);
}

/** What verifyToken asks: has(pass id in hex) → Promise<boolean>. */
export function revokedSet(index) {
  return {
    size: index.length,
    has: async (passIdHex) => Boolean(passIdHex) && indexHas(index, await keyOf(passIdHex)),
  };
}
