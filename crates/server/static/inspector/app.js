// The inspector app: sign in, scan, verify on the phone, show the verdict.
//
// Screens: loading → sign-in → scan (camera, short code, list freshness) → verdict.
// A scanned QR code is verified here, with the cached trust list and revocation
// list (verify.js), so it works with no network; a typed short code is looked up
// by the server. Counts of checks (no pass ids) are reported when online.

import * as db from './db.js';
import { t, setLang, lang, locale, translatePage } from './i18n.js';
import { importTrustList, verifyToken } from './verify.js';
import { parseShortCode } from './shortcode.js';
import { Scanner } from './scanner.js';
import {
  api, HttpError, STALE_AFTER_MS, syncAll, countCheck, reportChecks, pendingTotal, loadRevoked,
} from './sync.js';

const SYNC_EVERY_MS = 5 * 60 * 1000;
const $ = (id) => document.getElementById(id);

const state = {
  session: null, // {token, role, username}
  trust: new Map(),
  revoked: new Set(), // then loadRevoked(): {size, has(passIdHex) → Promise<boolean>}
  revocationsSyncedAt: null,
  regimes: {},
  screen: 'loading',
  camera: null, // the last camera state, for re-rendering in another language
  verdict: null, // {result, decidedBy, listsTime}
  syncMessage: null, // {key, params}
};

// ------------------------------------------------------------------ cached lists in memory

async function loadCachedLists() {
  const keys = await db.get('keys');
  if (keys?.jwks) {
    try {
      state.trust = await importTrustList(keys.jwks);
    } catch {
      state.trust = new Map();
    }
  }
  const revocations = await db.get('revocations');
  state.revoked = await loadRevoked();
  state.revocationsSyncedAt = revocations?.syncedAt ?? null;
  state.regimes = (await db.get('regimes'))?.byId ?? {};
}

// ------------------------------------------------------------------ screens

function show(screen) {
  state.screen = screen;
  for (const name of ['loading', 'signin', 'scan', 'verdict']) $(`screen-${name}`).hidden = name !== screen;
  // The verdict covers the screen; what is under it is out of reach meanwhile.
  $('bar').inert = screen === 'verdict';
}

function showSignIn() {
  scanner.stop();
  show('signin');
  $('username').focus();
}

function showScan({ startCamera = true } = {}) {
  show('scan');
  $('signed-in-as').textContent = state.session ? t('signedInAs', { name: state.session.username }) : '';
  renderStatus();
  if (startCamera) scanner.start();
}

// ------------------------------------------------------------------ sign-in

async function signIn(event) {
  event.preventDefault();
  const username = $('username').value.trim();
  const password = $('password').value;
  const error = $('signin-error');
  error.hidden = true;
  if (!username || !password) {
    showError(error, t('signInMissing'));
    return;
  }
  if (!navigator.onLine) {
    showError(error, t('signInOffline'));
    return;
  }
  const button = $('signin-submit');
  button.disabled = true;
  button.textContent = t('signingIn');
  try {
    const answer = await api('/api/v1/auth/login', { method: 'POST', body: { username, password }, lang: lang() });
    if (answer.role !== 'inspector' && answer.role !== 'admin') {
      // Not for this app: end the session at once.
      api('/api/v1/auth/logout', { method: 'POST', token: answer.token }).catch(() => {});
      showError(error, t('signInNotInspector'));
      return;
    }
    state.session = { token: answer.token, role: answer.role, username, expiresAt: answer.expires_at };
    await db.set('session', state.session);
    $('password').value = '';
    sync();
    showScan();
  } catch (e) {
    showError(error, e instanceof HttpError ? e.message : t('signInOffline'));
  } finally {
    button.disabled = false;
    button.textContent = t('signIn');
  }
}

async function signOut() {
  const session = state.session;
  if (session) {
    await reportChecks(session.token).catch(() => {});
    api('/api/v1/auth/logout', { method: 'POST', token: session.token }).catch(() => {});
  }
  state.session = null;
  await db.del('session');
  showSignIn();
}

/** A staff call answered 401: the session ended on the server. */
async function sessionEnded() {
  state.session = null;
  await db.del('session');
  showSignIn();
}

function showError(element, text) {
  element.textContent = text;
  element.hidden = false;
}

// ------------------------------------------------------------------ camera

const scanner = new Scanner($('camera-video'), (text) => checkToken(text), (camera) => {
  state.camera = camera;
  renderCamera();
});

function renderCamera() {
  const key = {
    starting: 'cameraStarting',
    scanning: 'cameraScanning',
    stopped: 'cameraStopped',
    denied: 'cameraDenied',
    unavailable: 'cameraUnavailable',
  }[state.camera];
  $('camera-status').textContent = key ? t(key) : '';
  const toggle = $('camera-toggle');
  toggle.dataset.i18n = scanner.running || state.camera === 'starting' ? 'cameraStop' : 'cameraStart';
  toggle.textContent = t(toggle.dataset.i18n);
}

function toggleCamera() {
  if (scanner.running || state.camera === 'starting') scanner.stop();
  else scanner.start();
  renderCamera();
}

// ------------------------------------------------------------------ checks

async function checkToken(text) {
  // Right after sign-in the lists may still be on their way: wait for them a little.
  if (syncing) await Promise.race([syncing, new Promise((resolve) => setTimeout(resolve, 5000))]);
  const now = Math.floor(Date.now() / 1000);
  const result = await verifyToken(text, state.trust, state.revoked, now);
  showVerdict({ result, decidedBy: 'device', listsTime: state.revocationsSyncedAt });
  await countCheck('device', result.verdict).catch(() => {});
  report();
}

async function checkShortCode(event) {
  event.preventDefault();
  const input = $('short-code');
  const error = $('short-code-error');
  const parsed = parseShortCode(input.value);
  const fail = (text) => {
    input.setAttribute('aria-invalid', 'true');
    showError(error, text);
    input.focus();
  };
  input.removeAttribute('aria-invalid');
  error.hidden = true;
  if (!parsed.ok) {
    const key = { empty: 'codeErrEmpty', character: 'codeErrCharacter', length: 'codeErrLength', check: 'codeErrCheck' }[parsed.error];
    fail(t(key, { character: parsed.character }));
    return;
  }
  input.value = parsed.display;
  if (!navigator.onLine) {
    fail(t('codeNeedsNetwork'));
    return;
  }
  const button = $('code-submit');
  button.disabled = true;
  button.textContent = t('codeChecking');
  try {
    const answer = await api('/api/v1/verify', {
      method: 'POST', body: { short_code: parsed.code }, token: state.session?.token, lang: lang(),
    });
    const seconds = (iso) => (iso ? Math.floor(Date.parse(iso) / 1000) : null);
    const result = {
      verdict: answer.verdict,
      reason: answer.reason,
      kid: answer.kid,
      claims: answer.pass_id ? {
        passId: answer.pass_id,
        purpose: answer.purpose,
        regime: answer.regime,
        holder: answer.holder,
        nbf: seconds(answer.valid_from),
        exp: seconds(answer.valid_until),
        area: null,
        vehicle: null,
      } : null,
    };
    input.value = '';
    scanner.stop();
    showVerdict({ result, decidedBy: 'server', listsTime: null });
    await countCheck('server', result.verdict).catch(() => {});
    report();
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) {
      sessionEnded();
      return;
    }
    fail(e instanceof HttpError ? t('codeFailed', { detail: e.message }) : t('codeNeedsNetwork'));
  } finally {
    button.disabled = false;
    button.textContent = t('codeSubmit');
  }
}

// ------------------------------------------------------------------ the verdict

const TIME_OPTIONS = { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' };

/** A date-time formatter in the regime's time zone (the device's if that is unknown). */
function timeFormat(timeZone) {
  try {
    return new Intl.DateTimeFormat(locale(), { ...TIME_OPTIONS, timeZone });
  } catch {
    return new Intl.DateTimeFormat(locale(), TIME_OPTIONS);
  }
}

const toDate = (seconds) => new Date(Number(seconds) * 1000);

/** "29 нояб., 10:00 – 13:00 GMT+3": the date once when both ends share it. */
function formatWindow(from, until, timeZone) {
  const start = toDate(from);
  const end = toDate(until);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return `${from} – ${until}`;
  const format = timeFormat(timeZone);
  try {
    return format.formatRange(start, end);
  } catch {
    return `${format.format(start)} – ${format.format(end)}`;
  }
}

function purposeName(claims, regime) {
  const purpose = regime?.purposes?.find((p) => p.id === claims.purpose);
  return purpose?.name?.[lang()] ?? claims.purpose;
}

function showVerdict(verdict) {
  state.verdict = verdict;
  renderVerdict();
  show('verdict');
  $('verdict-title').focus();
  // Announced once, in the language shown.
  const { result } = verdict;
  const announcer = $('announcer');
  announcer.textContent = '';
  setTimeout(() => {
    announcer.textContent = result.verdict === 'valid'
      ? t('announceValid', { purpose: purposeName(result.claims, state.regimes[result.claims.regime]), holder: result.claims.holder })
      : t('announceInvalid', { reason: t(`reason_${result.verdict}`) });
  }, 50);
}

function renderVerdict() {
  const { result, decidedBy, listsTime } = state.verdict;
  const ok = result.verdict === 'valid';
  const screen = $('screen-verdict');
  screen.classList.toggle('verdict--ok', ok);
  screen.classList.toggle('verdict--bad', !ok);
  screen.dataset.verdict = result.verdict;
  $('verdict-icon').textContent = ok ? '✓' : '✕';
  $('verdict-title').textContent = t(ok ? 'verdictValid' : 'verdictInvalid');
  $('verdict-reason').textContent = ok ? '' : t(`reason_${result.verdict}`);
  $('verdict-reason').hidden = ok;

  // Claims are shown only when the signature held (or the server vouched for them).
  const claims = result.claims ?? null;
  const regime = claims ? state.regimes[claims.regime] : null;
  const rows = {
    holder: claims?.holder,
    purpose: claims && purposeName(claims, regime),
    window: claims && formatWindow(claims.nbf, claims.exp, regime?.time_zone),
    area: claims?.area,
    vehicle: claims?.vehicle,
    regime: claims && (regime?.name?.[lang()] ?? claims.regime),
    pass: claims?.passId,
    checked: decidedBy === 'server'
      ? t('checkedServer')
      : t('checkedDevice', { ago: listsTime ? ago(listsTime) : t('never') }),
  };
  for (const [name, value] of Object.entries(rows)) {
    $(`row-${name}`).hidden = !value;
    $(`verdict-${name}`).textContent = value ?? '';
  }
  let hint = '';
  if (result.verdict === 'unknown_key') hint = state.trust.size === 0 ? t('noKeys') : t('hint_unknown_key');
  if (result.verdict === 'malformed' && result.reason) hint = t('hint_malformed', { reason: result.reason });
  $('verdict-hint').textContent = hint;
  $('verdict-hint').hidden = !hint;
}

function nextCheck() {
  state.verdict = null;
  $('announcer').textContent = '';
  showScan();
  $('scan-title').focus?.();
}

// ------------------------------------------------------------------ lists and reports

function ago(ms) {
  const minutes = Math.floor((Date.now() - ms) / 60000);
  if (minutes < 1) return t('justNow');
  if (minutes < 60) return t('minutesAgo', { n: minutes });
  if (minutes < 48 * 60) return t('hoursAgo', { n: Math.floor(minutes / 60) });
  return t('daysAgo', { n: Math.floor(minutes / 1440) });
}

function setStatus(id, text, stale) {
  const element = $(id);
  element.textContent = stale ? `${text} — ${t('stale')}` : text;
  element.classList.toggle('is-stale', Boolean(stale));
}

async function renderStatus() {
  if (state.screen !== 'scan') return;
  const now = Date.now();
  const isStale = (time) => !time || now - time > STALE_AFTER_MS;
  setStatus('status-network', navigator.onLine ? t('online') : t('offline'), false);
  const keys = await db.get('keys');
  setStatus('status-keys', keys ? t('keysLine', { count: state.trust.size, ago: ago(keys.fetchedAt) }) : t('never'), isStale(keys?.fetchedAt));
  const revocations = await db.get('revocations');
  setStatus(
    'status-revocations',
    revocations
      ? t('revocationsLine', { count: state.revoked.size, sequence: revocations.sequence, ago: ago(revocations.syncedAt) })
      : t('never'),
    isStale(revocations?.syncedAt),
  );
  const regimes = await db.get('regimes');
  const current = regimes ? Object.values(regimes.byId).sort((a, b) => (a.effective_from < b.effective_from ? 1 : -1))[0] : null;
  setStatus(
    'status-regime',
    current ? t('regimeLine', { name: current.name?.[lang()] ?? current.id, ago: ago(regimes.fetchedAt) }) : t('never'),
    isStale(regimes?.fetchedAt),
  );
  const pending = pendingTotal(await db.get('checks'));
  $('status-checks').textContent = pending ? t('checksLine', { count: pending }) : t('checksNone');
  $('sync-message').textContent = state.syncMessage ? t(state.syncMessage.key, state.syncMessage.params) : '';
}

let syncing = null;

/** Refreshes the lists when online; one run at a time, and checks wait for a running one. */
function sync() {
  syncing ??= runSync().finally(() => {
    syncing = null;
  });
  return syncing;
}

async function runSync() {
  if (!navigator.onLine) {
    state.syncMessage = { key: 'syncOffline' };
    renderStatus();
    return;
  }
  state.syncMessage = { key: 'syncing' };
  renderStatus();
  const { trust, errors } = await syncAll(({ done, total }) => {
    state.syncMessage = { key: 'syncingRevocations', params: { percent: total ? Math.floor((100 * done) / total) : 100 } };
    renderStatus();
  });
  if (trust) state.trust = trust;
  await loadCachedLists();
  state.syncMessage = errors.length
    ? { key: 'syncFailed', params: { detail: errors.map((e) => e.message).join('; ') } }
    : { key: 'syncDone' };
  // Purpose names may have arrived for a verdict on screen.
  if (state.verdict) renderVerdict();
  await report();
  renderStatus();
}

async function report() {
  if (!state.session || !navigator.onLine) return;
  try {
    await reportChecks(state.session.token);
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) sessionEnded();
  }
  renderStatus();
}

// ------------------------------------------------------------------ language

async function toggleLanguage() {
  setLang(lang() === 'ru' ? 'en' : 'ru');
  applyLanguage();
  await db.set('lang', lang());
}

function applyLanguage() {
  translatePage();
  const toggle = $('lang-toggle');
  toggle.textContent = t('langToggle');
  toggle.lang = lang() === 'ru' ? 'en' : 'ru';
  if (state.session) $('signed-in-as').textContent = t('signedInAs', { name: state.session.username });
  renderCamera();
  renderStatus();
  if (state.verdict) renderVerdict();
}

// ------------------------------------------------------------------ start

async function start() {
  setLang((await db.get('lang').catch(() => null)) ?? 'ru');
  applyLanguage();

  $('signin-form').addEventListener('submit', signIn);
  $('code-form').addEventListener('submit', checkShortCode);
  $('sign-out').addEventListener('click', signOut);
  $('lang-toggle').addEventListener('click', toggleLanguage);
  $('camera-toggle').addEventListener('click', toggleCamera);
  $('sync-now').addEventListener('click', sync);
  $('verdict-next').addEventListener('click', nextCheck);
  window.addEventListener('online', sync);
  window.addEventListener('offline', renderStatus);
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) scanner.stop();
    else if (state.screen === 'scan') scanner.start();
  });
  setInterval(() => {
    if (state.session && navigator.onLine && !document.hidden) sync();
  }, SYNC_EVERY_MS);
  setInterval(renderStatus, 30 * 1000);

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js').catch(() => {});
  }

  await loadCachedLists();
  state.session = (await db.get('session')) ?? null;
  if (state.session) {
    sync();
    showScan();
  } else {
    showSignIn();
  }
  document.body.dataset.ready = 'true';
}

start().catch(() => {
  // Storage refused (a private window, a full disk): signing in still works for this visit.
  showSignIn();
});
