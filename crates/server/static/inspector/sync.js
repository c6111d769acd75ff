// Keeping the phone's lists fresh, and reporting how many checks were made.
//
// Cached in IndexedDB (db.js), all public data:
//   'keys'        {jwks, fetchedAt}                    the trust list, /.well-known/propusk/keys
//   'revocations' {sequence, ids: {hex: until}, syncedAt} delta-synced with ?since=sequence
//   'regimes'     {byId: {id: regime}, fetchedAt}       purpose names, the time zone
//   'checks'      {device: {verdict: n}, server: {…}}   counts not yet reported (no pass ids)

import * as db from './db.js';
import { importTrustList, normalizePassId } from './verify.js';

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

export async function syncRevocations() {
  const current = (await db.get('revocations')) ?? { sequence: 0, ids: {}, syncedAt: null };
  let body = await api(`/api/v1/revocations?since=${current.sequence}`);
  let ids = { ...current.ids };
  if (!Number.isInteger(body?.sequence) || body.sequence < current.sequence) {
    // The server's numbering went back (a new database): take the whole list again.
    body = await api('/api/v1/revocations?since=0');
    ids = {};
  }
  for (const entry of body.revoked ?? []) {
    const id = normalizePassId(entry.pass_id);
    if (id) ids[id] = entry.valid_until ?? null;
  }
  const next = { sequence: body.sequence, ids, syncedAt: Date.now() };
  await db.set('revocations', next);
  return next;
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
 * Refreshes all three lists (one run at a time). Resolves to {trust, errors}:
 * `trust` is the freshly imported trust list or null, `errors` the failures.
 */
export function syncAll() {
  running ??= (async () => {
    try {
      const [keys, revocations, regime] = await Promise.allSettled([syncKeys(), syncRevocations(), syncRegime()]);
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
