// Keeping the phone's lists fresh, and reporting how many checks were made.
//
// Cached in IndexedDB (db.js), all public data:
//   'keys'        {jwks, fetchedAt}                    the trust list, /.well-known/propusk/keys
//   'revocations' {format: 2, sequence, count, syncedAt} where the revocation list's sync got to
//   'rl:<seq>'    {keys, until}                        its compact pages (revocations.js), by the
//                                                      sequence each ends at
//   'regimes'     {byId: {id: regime}, fetchedAt}       purpose names, the time zone
//   'checks'      {device: {verdict: n}, server: {…}}   counts not yet reported (no pass ids)

import * as db from './db.js';
import { importTrustList } from './verify.js';
import { parsePage, prunePage, buildIndex, revokedSet } from './revocations.js';

/** Lists older than this are shown as out of date. */
export const STALE_AFTER_MS = 12 * 3600 * 1000;

export class HttpError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

/** fetch, JSON in and out; a problem+json answer becomes an HttpError with its detail. */
export async function api(path, { method = 'GET', body, token, lang } = {}) {
  const headers = { accept: 'application/json' };
  if (lang) headers['accept-language'] = lang;
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) throw new HttpError(response.status, json?.detail);
  return json;
}

export async function syncKeys() {
  const jwks = await api('/.well-known/propusk/keys');
  // A set that does not import as a whole is not cached: the old one stays in use.
  const trust = await importTrustList(jwks);
  await db.set('keys', { jwks, fetchedAt: Date.now() });
  return trust;
}

/** Stored pages are keyed by the sequence they end at, zero-padded so keys sort by it. */
const PAGE = 'rl:';
const pageKey = (sequence) => `${PAGE}${String(sequence).padStart(16, '0')}`;
const EMPTY = { format: 2, sequence: 0, count: 0, syncedAt: null };

async function fetchPage(query) {
  // no-cache: the browser revalidates with the page's ETag (a 304 while nothing changed).
  const response = await fetch(`/api/v1/revocations?${query}&format=compact`, { cache: 'no-cache' });
  if (!response.ok) {
    let detail = null;
    try {
      detail = (await response.json())?.detail;
    } catch {
      detail = null;
    }
    throw new HttpError(response.status, detail);
  }
  return parsePage(await response.arrayBuffer());
}

const nowSec = () => Math.floor(Date.now() / 1000);

/**
 * Syncs the revocation list page by page from where the last sync ended. Each page is
 * stored with the sequence it brings the copy to, in one transaction, so an interrupted
 * sync resumes with nothing missed or repeated. `onProgress({done, total})` follows the
 * sequence numbers. Ended passes are pruned from the stored pages.
 */
export async function syncRevocations(onProgress = () => {}) {
  let meta = await db.get('revocations');
  // A copy from an earlier version of the app (a different layout) is replaced.
  if (meta?.format !== 2) {
    meta = { ...EMPTY };
    await db.write({ put: [['revocations', meta]], clear: [PAGE] });
  }
  let start = meta.sequence;
  let query = `since=${start}`;
  for (;;) {
    const page = await fetchPage(query);
    if (query.startsWith('since') && page.sequence < meta.sequence) {
      // The server's numbering went back (a new database): take the whole list again.
      meta = { ...EMPTY };
      await db.write({ put: [['revocations', meta]], clear: [PAGE] });
      start = 0;
      query = 'since=0';
      continue;
    }
    meta = { ...meta, sequence: page.sequence };
    const puts = [['revocations', meta]];
    if (page.until.length) puts.push([pageKey(page.sequence), { keys: page.keys, until: page.until }]);
    await db.write({ put: puts });
    onProgress({ done: page.sequence - start, total: page.latest - start });
    if (!page.next) break;
    query = `next=${page.next}`;
  }
  const count = await prune();
  meta = { ...meta, count, syncedAt: Date.now() };
  await db.set('revocations', meta);
  return meta;
}

/** Drops ended passes from the stored pages; returns how many entries are left. */
async function prune() {
  const now = nowSec();
  const put = [];
  const remove = [];
  let count = 0;
  for (const [key, page] of await db.entries(PAGE)) {
    const live = prunePage(page, now);
    count += live.until.length;
    if (live === page) continue;
    if (live.until.length) put.push([key, { keys: live.keys, until: live.until }]);
    else remove.push(key);
  }
  if (put.length || remove.length) await db.write({ put, remove });
  return count;
}

/** The cached list as verifyToken wants it: {size, has(passIdHex) → Promise<boolean>}. */
export async function loadRevoked() {
  const pages = (await db.entries(PAGE)).map(([, page]) => page);
  return revokedSet(buildIndex(pages, nowSec()));
}

export async function syncRegime() {
  const regime = await api('/api/v1/regime');
  return db.update('regimes', (old) => ({
    byId: { ...(old?.byId ?? {}), [regime.id]: regime },
    fetchedAt: Date.now(),
  }));
}

let running = null;

/**
 * Refreshes all three lists (one run at a time); `onProgress` follows the revocation
 * list's pages. Resolves to {trust, errors}:
 * `trust` is the freshly imported trust list or null, `errors` the failures.
 */
export function syncAll(onProgress) {
  running ??= (async () => {
    try {
      const [keys, revocations, regime] = await Promise.allSettled([syncKeys(), syncRevocations(onProgress), syncRegime()]);
      const errors = [keys, revocations, regime].filter((r) => r.status === 'rejected').map((r) => r.reason);
      return { trust: keys.status === 'fulfilled' ? keys.value : null, errors };
    } finally {
      running = null;
    }
  })();
  return running;
}

/** Counts one check locally; `decidedBy` is 'device' or 'server'. */
export function countCheck(decidedBy, verdict) {
  return db.update('checks', (old) => {
    const checks = old ?? { device: {}, server: {} };
    checks[decidedBy][verdict] = (checks[decidedBy][verdict] ?? 0) + 1;
    return checks;
  });
}

export function pendingTotal(checks) {
  if (!checks) return 0;
  return [checks.device, checks.server].flatMap((m) => Object.values(m ?? {})).reduce((a, b) => a + b, 0);
}

/**
 * Sends the counts made since the last report (aggregates only) and subtracts
 * what the server accepted; checks made meanwhile stay for the next report.
 */
export async function reportChecks(token) {
  const pending = await db.get('checks');
  const total = pendingTotal(pending);
  if (total === 0) return 0;
  await api('/api/v1/inspector/checks', { method: 'POST', token, body: pending });
  await db.update('checks', (now) => {
    const left = { device: {}, server: {} };
    for (const side of ['device', 'server']) {
      for (const [verdict, n] of Object.entries(now?.[side] ?? {})) {
        const rest = n - (pending[side]?.[verdict] ?? 0);
        if (rest > 0) left[side][verdict] = rest;
      }
    }
    return left;
  });
  return total;
}
