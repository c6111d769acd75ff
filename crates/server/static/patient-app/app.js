// The Social Monitoring app: the patient's phone (or a phone lent for the quarantine)
// reports its location while the app is open, answers check-ins with a photo, and shows
// the patient's flags with the officer's decisions and a form to appeal.
//
// Screens: loading → start (the code, or #code=… from the officer's link or QR code) →
// consent (what is collected, who sees it, how long, who decides, how to appeal — before
// anything is collected) → photo (the reference selfie) → home (status strip, check-ins,
// flags). A check-in opens the photo screen again, with a fresh fix. Nothing is stored on
// the phone before enrollment; when the server says the device has retired (the case
// ended, the loaner came back) the app erases its database, caches and service worker and
// shows the start screen again.

import { t, setLang, lang, locale, translatePage } from './i18n.js';

/** Check-ins, flags and settings are fetched this often while the app is open. */
const POLL_MS = 3 * 60 * 1000;
/** The status strip's "N minutes ago" is refreshed this often. */
const STATUS_MS = 60 * 1000;
/** A phone clock off by more than this is pointed out. */
const CLOCK_WARN_MS = 2 * 60 * 1000;
const DB_NAME = 'propusk-patient';
const CACHE_PREFIX = 'propusk-patient-';
// The case's enrollment code (12), or a lent phone's loaner key (16, its last a check symbol).
const CODE_PATTERN = /^([A-Z2-9]{12}|[0-9A-Z]{16})$/;

const state = {
  device: null, // {token, caseId, kind}
  config: null, // GET /api/v1/device/config
  offset: 0, // server clock − phone clock, ms
  code: null, // the enrollment code, in memory until enrollment
  terms: null,
  challenges: [],
  flags: [],
  photo: null, // {base64, url}
  photoFor: null, // 'enroll', or a check-in {id, …}
  wantedCheckin: null, // #checkin=ID from an SMS link
  locationProblem: null,
  uploadProblem: null,
  message: null, // {key, params} shown under the status
  timers: [],
  wakeLock: null,
};

// The modules needed past the start screen (storage, the API, reports, the camera) are
// loaded on demand — fetched as soon as the start screen shows — so that a first visit on a
// slow network shows it after loading little.
let db;
let api;
let ApiError;
let Offline;
let reporter;
let camera;
let fileToJpeg;
let loading = null;

function modules() {
  loading ??= Promise.all([
    import('./db.js'), import('./api.js'), import('./reports.js'), import('./camera.js'),
  ]).then(([dbModule, apiModule, reportsModule, cameraModule]) => {
    db = dbModule;
    ({ api, ApiError, Offline } = apiModule);
    ({ fileToJpeg } = cameraModule);
    camera = new cameraModule.Camera($('camera-video'));
    reporter = new reportsModule.Reporter({
      onStatus: (problem) => {
        state.uploadProblem = problem ?? null;
        renderStatus();
      },
      onRetired: (e) => retire(e),
      onChallenges: () => refreshChallenges(),
      onLocationProblem: (kind) => {
        if (state.locationProblem === kind) return;
        state.locationProblem = kind;
        renderLocationProblem();
      },
    });
  });
  return loading;
}

// ------------------------------------------------------------------ DOM helpers and times

// No framework: elements are built, never parsed from strings.

const $ = (id) => document.getElementById(id);

/** An element with properties (`class`, `text`, attributes, `on*` listeners) and children. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

const SCREENS = ['loading', 'start', 'consent', 'photo', 'home'];

/** Shows one screen and moves focus to its heading. */
function show(screen, { focus = true } = {}) {
  for (const name of SCREENS) $(`screen-${name}`).hidden = name !== screen;
  if (focus) {
    const heading = $(`screen-${screen}`).querySelector('h1');
    heading?.focus({ preventScroll: false });
  }
}

/** Says something to screen readers (cleared first, so that a repeat is said again). */
function announce(text) {
  $('announcer').textContent = '';
  Promise.resolve().then(() => {
    $('announcer').textContent = text;
  });
}

/** A message element: shown with text, hidden without. */
function say(el, text) {
  el.textContent = text ?? '';
  el.hidden = !text;
}

/** A moment (ms or ISO) on the case's clocks, e.g. "15 апр., 10:05". */
function formatTime(at, timeZone) {
  const options = { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
  const date = new Date(typeof at === 'string' ? Date.parse(at) : at);
  try {
    return new Intl.DateTimeFormat(locale(), { ...options, timeZone }).format(date);
  } catch {
    return new Intl.DateTimeFormat(locale(), options).format(date);
  }
}

/** "just now", "5 min ago", "2 h ago", "3 days ago". */
function ago(ms, now) {
  const minutes = Math.max(0, Math.floor((now - ms) / 60_000));
  if (minutes < 1) return t('justNow');
  if (minutes < 60) return t('minutesAgo', { n: minutes });
  if (minutes < 48 * 60) return t('hoursAgo', { n: Math.floor(minutes / 60) });
  return t('daysAgo', { n: Math.floor(minutes / 1440) });
}

/** Whole metres with the locale's grouping. */
const metres = (m) => new Intl.NumberFormat(locale()).format(Math.round(m));

/** A distance as a person says it: "350 м", "1,6 км". */
const distance = (m) => (m < 1000
  ? t('distM', { m: metres(m) })
  : t('distKm', { km: new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(m / 1000) }));

/** The string `key` in the plural form for `n` (`key_one`, `key_few`, … then `key_other`). */
function plural(key, n, params = {}) {
  const form = `${key}_${new Intl.PluralRules(locale()).select(n)}`;
  const text = t(form, { ...params, n });
  return text === form ? t(`${key}_other`, { ...params, n }) : text;
}

// ------------------------------------------------------------------ start-up

async function main() {
  bind();
  readFragment();
  // Opening the database would create it: look first, so a phone never enrolled (or wiped)
  // keeps nothing.
  if (await databaseExists()) {
    await modules();
    state.device = await db.get('device').catch(() => null);
  }
  if (state.device) {
    setLang((await db.get('lang')) ?? 'ru');
    translate();
    await resume();
  } else {
    setLang('ru');
    translate();
    showStart();
    modules();
  }
}

/** The page in the current language, and the button that switches to the other. */
function translate() {
  translatePage();
  const toggle = $('lang-toggle');
  toggle.textContent = t('langToggle');
  toggle.lang = lang() === 'ru' ? 'en' : 'ru';
}

async function databaseExists() {
  if (!indexedDB.databases) return true;
  const list = await indexedDB.databases().catch(() => null);
  return list === null || list.some((d) => d.name === DB_NAME);
}

/** `#code=…` (the officer's link) or `#checkin=…` (an SMS), then gone from the address bar. */
function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const code = params.get('code');
  const checkin = params.get('checkin');
  if (code) state.code = normalizeCode(code);
  if (checkin) state.wantedCheckin = checkin;
  if (code || checkin) history.replaceState(null, '', location.pathname);
}

function bind() {
  $('lang-toggle').addEventListener('click', toggleLang);
  $('code-form').addEventListener('submit', submitCode);
  $('consent-agree').addEventListener('click', agree);
  $('consent-decline').addEventListener('click', () => showStart());
  $('photo-take').addEventListener('click', takePhoto);
  $('photo-retake').addEventListener('click', retakePhoto);
  $('photo-file').addEventListener('change', chooseFile);
  $('photo-send').addEventListener('click', sendPhoto);
  $('photo-cancel').addEventListener('click', cancelPhoto);
  $('location-retry').addEventListener('click', () => reporter?.watchLocation());
  window.addEventListener('online', () => {
    if (state.device) {
      renderStatus();
      reporter.online();
      sendAnswers();
      refresh();
    }
  });
  window.addEventListener('offline', () => state.device && renderStatus());
  window.addEventListener('hashchange', () => {
    readFragment();
    if (state.device && state.wantedCheckin) openWantedCheckin();
    else if (!state.device && state.code) showStart();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.device) {
      refresh();
      holdWakeLock();
    }
  });
}

async function toggleLang() {
  setLang(lang() === 'ru' ? 'en' : 'ru');
  translate();
  if (state.device) await db.set('lang', lang()).catch(() => {});
  rerender();
}

/** Re-renders what is on screen in the current language. */
function rerender() {
  renderLoaner();
  if (!$('screen-consent').hidden) renderTerms();
  if (!$('screen-photo').hidden) renderPhotoTexts();
  if (state.device) {
    renderHome();
  }
  const notice = $('start-notice');
  if (notice.dataset.key) say(notice, t(notice.dataset.key));
}

// ------------------------------------------------------------------ enrollment

function normalizeCode(text) {
  return text.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

function showStart(noticeKey = null) {
  const notice = $('start-notice');
  notice.dataset.key = noticeKey ?? '';
  say(notice, noticeKey ? t(noticeKey) : null);
  $('code').value = state.code ? state.code.replace(/(.{4})(?=.)/g, '$1-') : '';
  show('start');
  if (state.code && !noticeKey) showConsent();
}

function submitCode(event) {
  event.preventDefault();
  const code = normalizeCode($('code').value);
  const error = $('code-error');
  if (!CODE_PATTERN.test(code)) {
    $('code').setAttribute('aria-invalid', 'true');
    say(error, code ? t('codeLength') : t('codeEmpty'));
    $('code').focus();
    return;
  }
  $('code').removeAttribute('aria-invalid');
  say(error, null);
  state.code = code;
  showConsent();
}

async function showConsent() {
  show('consent');
  await modules();
  say($('consent-error'), null);
  if (!state.terms) {
    try {
      state.terms = await api('/api/v1/device/terms', { lang: lang() });
    } catch {
      say($('consent-error'), t('termsOffline'));
    }
  }
  renderTerms();
}

function renderTerms() {
  const terms = state.terms;
  $('consent-location').textContent = t('consentLocation', {
    every: terms ? Math.round(terms.report_every_secs / 60) || 1 : 1,
  });
  $('consent-kept').textContent = terms ? t('consentKept', { days: terms.retention_days }) : t('consentKeptUnknown');
  $('consent-checkins').textContent = terms
    ? t('consentCheckins', {
      from: terms.checkin_hours.from,
      to: terms.checkin_hours.to,
      n: terms.checkins_per_day,
      mins: terms.checkin_deadline_mins,
    })
    : '';
}

function agree() {
  if (!state.terms) {
    showConsent();
    return;
  }
  openPhoto('enroll');
}

// ------------------------------------------------------------------ the photo screen

async function openPhoto(forWhat) {
  await modules();
  state.photoFor = forWhat;
  state.photo = null;
  $('photo-preview').hidden = true;
  $('camera-video').hidden = false;
  $('photo-take').hidden = false;
  $('photo-retake').hidden = true;
  $('photo-file').value = '';
  say($('photo-error'), null);
  $('photo-fix').textContent = '';
  renderPhotoTexts();
  show('photo');
  $('camera-status').textContent = t('cameraStarting');
  const started = await camera.start();
  $('camera-status').textContent = started === 'ok' ? t('cameraReady') : t(started === 'denied' ? 'cameraDenied' : 'cameraUnavailable');
  $('photo-file-field').hidden = started === 'ok';
  $('photo-take').hidden = started !== 'ok';
  if (forWhat !== 'enroll') locateForAnswer();
}

function renderPhotoTexts() {
  const checkin = state.photoFor !== 'enroll' ? state.photoFor : null;
  $('photo-title').textContent = checkin ? t('checkinTitle') : t('selfieTitle');
  $('photo-lead').textContent = checkin ? checkinText(checkin) : t('selfieLead');
  $('photo-send').textContent = checkin ? t('checkinSend') : t('enrollSend');
}

async function takePhoto() {
  try {
    setPhoto(await camera.capture());
  } catch {
    say($('photo-error'), t('photoFailed'));
  }
}

function setPhoto(photo) {
  state.photo = photo;
  camera.stop();
  const preview = $('photo-preview');
  preview.src = photo.url;
  preview.alt = t('photoPreview');
  preview.hidden = false;
  $('camera-video').hidden = true;
  $('photo-take').hidden = true;
  $('photo-retake').hidden = false;
  say($('photo-error'), null);
  $('camera-status').textContent = t('photoTaken');
}

async function retakePhoto() {
  await openPhoto(state.photoFor);
}

async function chooseFile() {
  const file = $('photo-file').files?.[0];
  if (!file) return;
  try {
    setPhoto(await fileToJpeg(file));
  } catch {
    say($('photo-error'), t('photoUnreadable'));
  }
}

function cancelPhoto() {
  camera?.stop();
  if (state.device) showHome();
  else showStart();
}

async function sendPhoto() {
  if (!state.photo) {
    say($('photo-error'), t('photoMissing'));
    return;
  }
  const button = $('photo-send');
  button.disabled = true;
  try {
    if (state.photoFor === 'enroll') await enroll();
    else await answer(state.photoFor);
  } finally {
    button.disabled = false;
  }
}

async function enroll() {
  let answer;
  try {
    answer = await api('/api/v1/device/enroll', {
      method: 'POST',
      lang: lang(),
      body: { enrollment_code: state.code, reference_photo: state.photo.base64 },
    });
  } catch (e) {
    if (e instanceof ApiError && e.code === 'enrollment_code_not_found') {
      state.code = null;
      camera.stop();
      showStart();
      $('code').setAttribute('aria-invalid', 'true');
      say($('code-error'), e.message);
      $('code').focus();
      return;
    }
    say($('photo-error'), e instanceof Offline ? t('enrollOffline') : t('failed', { detail: e.message }));
    return;
  }
  state.device = { token: answer.device_token, caseId: answer.case_id, kind: answer.kind };
  state.code = null;
  db.revive();
  await db.set('device', state.device);
  await db.set('lang', lang());
  camera.stop();
  await resume();
  announce(t('enrolled'));
}

/** The freshest fix for an answer, shown on the photo screen. */
async function locateForAnswer() {
  $('photo-fix').textContent = t('locating');
  try {
    const fix = await reporter.fresh();
    $('photo-fix').textContent = t('located', { accuracy: metres(fix.coords.accuracy) });
  } catch (e) {
    $('photo-fix').textContent = e?.code === 1 ? t('locationDeniedAnswer') : t('locationUnavailable');
  }
}

async function answer(checkin) {
  let fix;
  try {
    fix = await reporter.fresh();
  } catch (e) {
    say($('photo-error'), e?.code === 1 ? t('locationDeniedAnswer') : t('locationUnavailable'));
    return;
  }
  const body = {
    photo: state.photo.base64,
    lat: fix.coords.latitude,
    lon: fix.coords.longitude,
    accuracy_m: Math.round(fix.coords.accuracy * 10) / 10,
    taken_at: new Date(reporter.now()).toISOString(),
  };
  const sent = await sendAnswer(checkin.id, body);
  if (sent === 'offline') {
    try {
      await db.putAnswer({ id: checkin.id, body });
    } catch {
      say($('photo-error'), t('storageFull'));
      return;
    }
    state.message = { key: 'answerQueued' };
  } else if (sent === 'error') {
    return;
  } else {
    state.message = { key: sent };
  }
  state.challenges = state.challenges.filter((c) => c.id !== checkin.id);
  camera.stop();
  showHome();
  announce(t(state.message.key));
  refresh();
}

/**
 * Sends one answer: 'answerSent' | 'answerLate' when recorded, 'answerClosed' when it is no
 * longer wanted (answered already, not found), 'offline' to keep it, 'error' when shown.
 */
async function sendAnswer(id, body) {
  try {
    const r = await api(`/api/v1/device/challenges/${encodeURIComponent(id)}`, {
      method: 'POST', body, token: state.device.token, lang: lang(),
    });
    return r.late ? 'answerLate' : 'answerSent';
  } catch (e) {
    if (e instanceof Offline || (e instanceof ApiError && e.status >= 500)) return 'offline';
    if (e instanceof ApiError && (e.retired || e.unknownDevice)) {
      retire(e);
      return 'error';
    }
    if (e instanceof ApiError && (e.status === 409 || e.status === 404)) return 'answerClosed';
    if (!$('screen-photo').hidden) say($('photo-error'), e.message);
    return 'error';
  }
}

/** Answers taken offline, sent now with the time they were taken. */
async function sendAnswers() {
  if (!state.device) return;
  for (const { id, body } of await db.allAnswers().catch(() => [])) {
    const sent = await sendAnswer(id, body);
    if (sent === 'offline') return;
    if (!state.device) return;
    await db.deleteAnswer(id);
    state.message = { key: sent === 'error' ? 'answerRefused' : sent };
  }
  renderStatus();
}

// ------------------------------------------------------------------ home

async function resume() {
  state.config = await db.get('config').catch(() => null);
  state.offset = (await db.get('offset').catch(() => 0)) ?? 0;
  showHome();
  if (!(await refreshConfig())) {
    if (!state.device) return; // retired while starting
  }
  reporter.start(state.device, state.config ?? { report_every_secs: 60 }, state.offset);
  registerServiceWorker();
  for (const timer of state.timers) clearInterval(timer);
  state.timers = [setInterval(refresh, POLL_MS), setInterval(renderStatus, STATUS_MS)];
  holdWakeLock();
  await refresh();
  sendAnswers();
}

function showHome() {
  renderHome();
  show('home');
}

function renderHome() {
  renderLoaner();
  const until = state.config?.case_ends_at;
  $('home-until').textContent = until ? t('until', { time: formatTime(until, state.config.time_zone) }) : '';
  renderClock();
  renderLocationProblem();
  renderStatus();
  renderChallenges();
  renderFlags();
}

function renderLoaner() {
  const due = state.device?.kind === 'loaner' && state.config?.loaner_due_at;
  const banner = $('loaner');
  banner.hidden = !due;
  if (due) banner.textContent = t('loanerBanner', { date: formatTime(due, state.config.time_zone) });
}

function renderClock() {
  const off = state.offset;
  const warn = Math.abs(off) > CLOCK_WARN_MS;
  const minutes = Math.round(Math.abs(off) / 60_000);
  say($('clock-warning'), warn ? t(off > 0 ? 'clockBehind' : 'clockAhead', { n: minutes }) : null);
}

function renderLocationProblem() {
  const key = {
    denied: 'locationDenied',
    unavailable: 'locationUnavailable',
    storage: 'storageFull',
  }[state.locationProblem];
  say($('location-problem'), key ? t(key) : null);
  $('location-retry').hidden = state.locationProblem !== 'denied';
}

async function renderStatus() {
  if (!state.device) return;
  const status = (await db.get('status').catch(() => null)) ?? {};
  const waiting = await db.countFixes().catch(() => 0);
  const answers = (await db.allAnswers().catch(() => [])).length;
  const now = reporter.now();
  const tz = state.config?.time_zone;
  $('status-fix').textContent = status.lastFix
    ? t('fixLine', {
      time: formatTime(status.lastFix.at, tz),
      ago: ago(status.lastFix.at, now),
      accuracy: metres(status.lastFix.accuracy),
    })
    : t('never');
  $('status-upload').textContent = status.lastUpload
    ? t('uploadLine', { time: formatTime(status.lastUpload, tz), ago: ago(status.lastUpload, now) })
    : t('never');
  $('status-waiting').textContent = waiting || answers
    ? t('waitingLine', { n: waiting, answers })
    : t('waitingNone');
  let network = navigator.onLine ? t('online') : t('offline');
  if (state.uploadProblem === 'retrying') network = t('serverBusy');
  if (state.uploadProblem === 'offline') network = t('offline');
  $('status-network').textContent = network;
  const lines = [];
  if (status.refused) lines.push(t('refusedLine', { n: status.refused }));
  if (state.message) lines.push(t(state.message.key, state.message.params));
  $('status-message').textContent = lines.join(' ');
}

function checkinText(c) {
  const tz = state.config?.time_zone;
  const deadline = formatTime(c.deadline, tz);
  if (c.kind === 'immediate' && c.asked_for) {
    return t('checkinAsked', {
      time: formatTime(c.asked_for.ts, tz),
      distance: metres(c.asked_for.distance_m),
      deadline,
    });
  }
  return t('checkinScheduled', { deadline });
}

function renderChallenges() {
  const list = $('checkins');
  list.replaceChildren(...state.challenges.map((c) => h('li', { class: 'card', id: `checkin-${c.id}` },
    h('p', { text: checkinText(c) }),
    h('button', { type: 'button', class: 'btn btn--primary', text: t('answer'), onclick: () => openPhoto(c) }))));
  $('checkins-none').hidden = state.challenges.length > 0;
}

const STATE_KEYS = {
  open: 'stateOpen',
  notified: 'stateNotified',
  dismissed: 'stateDismissed',
  confirmed_with_sanction: 'stateConfirmed',
  appealed: 'stateAppealed',
  appeal_upheld: 'stateUpheld',
  appeal_rejected: 'stateRejected',
};

/** What a flag says, in plain words, from its map-free evidence. */
function flagWords(f) {
  const tz = state.config?.time_zone;
  const from = formatTime(f.from, tz);
  const to = formatTime(f.to, tz);
  const e = f.evidence ?? {};
  const words = [];
  if (f.kind === 'left_home') {
    if (e.outside > 0) {
      words.push(plural('evAway', e.outside, { from, to, far: distance(e.distance_m?.max ?? 0) }));
    }
    if (e.confirmed_by_checkin) {
      words.push(t('evConfirmed', {
        time: formatTime(e.confirmed_by_checkin.ts, tz), far: distance(e.confirmed_by_checkin.distance_m),
      }));
    }
    if (e.radius_m) words.push(t('evHome', { r: distance(e.radius_m) }));
  } else if (f.kind === 'no_signal') {
    words.push(t('evNoSignal', { from, to }));
  } else {
    words.push(t('evMissed', { issued: formatTime(e.issued_at ?? f.from, tz), deadline: formatTime(e.deadline ?? f.to, tz) }));
    words.push(e.answered_at ? t('evMissedLate', { time: formatTime(e.answered_at, tz) }) : t('evMissedNone'));
  }
  for (const c of f.checkins ?? []) {
    words.push(c.answered_at
      ? t('evAskedAnswered', { time: formatTime(c.issued_at, tz), answered: formatTime(c.answered_at, tz) })
      : t('evAskedUnanswered', { time: formatTime(c.issued_at, tz) }));
  }
  return words;
}

function sanctionText(s) {
  if (!s) return null;
  return s.type === 'fine' ? t('sanctionFine', { rub: s.amount_rub }) : t('sanctionWarning');
}

/** The officers' notes on a flag, newest last. */
function notes(f) {
  return (f.history ?? [])
    .filter((e) => e.note && ['dismissed', 'confirmed', 'appeal_upheld', 'appeal_rejected'].includes(e.event))
    .map((e) => t('officerNote', { note: e.note }));
}

function renderFlags() {
  const list = $('flags');
  list.replaceChildren(...state.flags.map((f) => {
    const title = t(`kind_${f.kind}`);
    const sanction = sanctionText(f.sanction);
    return h('li', { class: 'card', id: `flag-${f.id}` },
      h('h3', { text: title }),
      h('p', { class: `tag tag--${f.state}`, text: t(STATE_KEYS[f.state] ?? 'stateOpen') }),
      ...flagWords(f).map((w) => h('p', { text: w })),
      sanction ? h('p', { class: 'strong', text: t('sanctionLine', { sanction }) }) : null,
      ...notes(f).map((n) => h('p', { class: 'muted', text: n })),
      f.sanction?.type === 'fine' ? fineInfo() : null,
      f.statement ? statementShown(f) : null,
      f.state === 'open' || f.state === 'notified' ? explainForm(f) : null,
      f.state === 'confirmed_with_sanction' ? appealForm(f) : null);
  }));
  $('flags-none').hidden = state.flags.length > 0;
}

/** For a fine in force: how to pay it, and where to ask. */
function fineInfo() {
  return h('div', { class: 'panel' },
    h('h4', { text: t('fineTitle') }),
    h('p', { text: t('finePay') }),
    h('p', { text: t('fineAppeal') }),
    h('p', {}, t('fineContact'), ' ', h('a', { href: '/help', text: t('fineHelpLink') })));
}

/** What the patient wrote before the decision, and when. */
function statementShown(f) {
  const tz = state.config?.time_zone;
  return h('div', { class: 'statement', id: `statement-${f.id}` },
    h('h4', { text: t('explainYours') }),
    h('p', { class: 'hint', text: t('explainWritten', { time: formatTime(f.statement.written_at, tz) }) }),
    h('p', { class: 'statement-text', text: f.statement.text }));
}

/** The form to explain a flag before the decision (replaces an earlier explanation). */
function explainForm(f) {
  const id = `explain-${f.id}`;
  const error = h('p', { class: 'error', id: `${id}-error`, role: 'alert', hidden: true });
  const area = h('textarea', {
    id, name: 'statement', rows: 4, class: 'input', maxlength: 2000, 'aria-describedby': `${id}-hint ${id}-error`,
  });
  // Replacing starts from what was written, not from an empty box.
  area.value = f.statement?.text ?? '';
  const submit = async (event) => {
    event.preventDefault();
    const statement = area.value.trim();
    if (!statement) {
      say(error, t('explainEmpty'));
      area.setAttribute('aria-invalid', 'true');
      area.focus();
      return;
    }
    try {
      await api(`/api/v1/device/flags/${encodeURIComponent(f.id)}/statement`, {
        method: 'PUT', body: { statement }, token: state.device.token, lang: lang(),
      });
      announce(t('explainSent'));
      refresh();
    } catch (e) {
      if (e instanceof ApiError && (e.retired || e.unknownDevice)) retire(e);
      else {
        say(error, e instanceof Offline ? t('explainOffline') : e.message);
        area.setAttribute('aria-invalid', 'true');
        if (e instanceof ApiError && e.code === 'flag_decided') refresh();
      }
    }
  };
  return h('form', { class: 'form', novalidate: true, onsubmit: submit },
    h('label', { for: id, text: t(f.statement ? 'explainReplace' : 'explainLabel') }),
    h('p', { class: 'hint', id: `${id}-hint`, text: t('explainHint') }),
    error,
    area,
    h('button', { type: 'submit', class: 'btn btn--primary', text: t('explainSend') }));
}

function appealForm(f) {
  const id = `appeal-${f.id}`;
  const error = h('p', { class: 'error', id: `${id}-error`, role: 'alert', hidden: true });
  const area = h('textarea', {
    id, rows: 4, class: 'input', maxlength: 2000, 'aria-describedby': `${id}-hint ${id}-error`,
  });
  const submit = async (event) => {
    event.preventDefault();
    const statement = area.value.trim();
    if (!statement) {
      say(error, t('appealEmpty'));
      area.focus();
      return;
    }
    try {
      await api(`/api/v1/device/flags/${encodeURIComponent(f.id)}/appeal`, {
        method: 'POST', body: { statement }, token: state.device.token, lang: lang(),
      });
      announce(t('appealSent'));
      refresh();
    } catch (e) {
      if (e instanceof ApiError && (e.retired || e.unknownDevice)) retire(e);
      else say(error, e instanceof Offline ? t('appealOffline') : e.message);
    }
  };
  return h('form', { class: 'form', novalidate: true, onsubmit: submit },
    h('label', { for: id, text: t('appealLabel') }),
    h('p', { class: 'hint', id: `${id}-hint`, text: t('appealHint') }),
    area,
    error,
    h('button', { type: 'submit', class: 'btn btn--primary', text: t('appealSend') }));
}

// ------------------------------------------------------------------ talking to the server

/** Settings and the server's clock; false when offline or retired. */
async function refreshConfig() {
  if (!state.device) return false;
  const sentAt = Date.now();
  try {
    const config = await api('/api/v1/device/config', { token: state.device.token, lang: lang() });
    const receivedAt = Date.now();
    state.offset = Date.parse(config.server_time) - (sentAt + receivedAt) / 2;
    state.config = config;
    reporter.setOffset(state.offset);
    await db.set('config', config);
    await db.set('offset', state.offset);
    renderHome();
    return true;
  } catch (e) {
    if (e instanceof ApiError && (e.retired || e.unknownDevice)) retire(e);
    return false;
  }
}

// Lists are asked for by the poll and by upload answers at once; an answer that arrives
// after a newer request was made is stale (it may predate a check-in just issued) and is
// dropped.
const asked = { challenges: 0, flags: 0 };

async function refreshChallenges() {
  if (!state.device) return;
  const mine = ++asked.challenges;
  try {
    const r = await api('/api/v1/device/challenges', { token: state.device.token, lang: lang() });
    if (mine !== asked.challenges) return;
    state.challenges = r.challenges;
    renderChallenges();
    openWantedCheckin();
  } catch (e) {
    if (e instanceof ApiError && (e.retired || e.unknownDevice)) retire(e);
  }
}

async function refreshFlags() {
  if (!state.device) return;
  const mine = ++asked.flags;
  try {
    const r = await api('/api/v1/device/flags', { token: state.device.token, lang: lang() });
    if (mine !== asked.flags) return;
    state.flags = r.flags;
    renderFlags();
  } catch (e) {
    if (e instanceof ApiError && (e.retired || e.unknownDevice)) retire(e);
  }
}

async function refresh() {
  if (!state.device) return;
  await refreshConfig();
  await refreshChallenges();
  await refreshFlags();
}

/** The check-in an SMS link named, once the list is in. */
function openWantedCheckin() {
  const id = state.wantedCheckin;
  if (!id || $('screen-home').hidden) return;
  state.wantedCheckin = null;
  const checkin = state.challenges.find((c) => c.id === id);
  if (checkin) openPhoto(checkin);
  else {
    state.message = { key: 'checkinGone' };
    renderStatus();
  }
}

// ------------------------------------------------------------------ a loaner on its charger

async function holdWakeLock() {
  if (state.device?.kind !== 'loaner' || !('wakeLock' in navigator) || !navigator.getBattery) return;
  const battery = await navigator.getBattery().catch(() => null);
  if (!battery) return;
  const apply = async () => {
    if (battery.charging && document.visibilityState === 'visible' && !state.wakeLock) {
      state.wakeLock = await navigator.wakeLock.request('screen').catch(() => null);
      state.wakeLock?.addEventListener('release', () => {
        state.wakeLock = null;
        $('loaner').dataset.wakeLock = 'released';
      });
    } else if (!battery.charging && state.wakeLock) {
      await state.wakeLock.release().catch(() => {});
      state.wakeLock = null;
    }
    // Said on the banner's element, for the tests (and anyone inspecting the page).
    $('loaner').dataset.wakeLock = state.wakeLock ? 'held' : 'released';
  };
  battery.onchargingchange = apply;
  await apply();
}

// ------------------------------------------------------------------ the service worker

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => {});
}

// ------------------------------------------------------------------ a retired device

/** The device retired (or is unknown): erase everything this app keeps, start over. */
async function retire(error) {
  if (!state.device) return;
  state.device = null;
  reporter.stop();
  camera.stop();
  for (const timer of state.timers) clearInterval(timer);
  state.timers = [];
  await state.wakeLock?.release().catch(() => {});
  Object.assign(state, {
    config: null, offset: 0, challenges: [], flags: [], wakeLock: null, message: null,
    photo: null, photoFor: null, locationProblem: null, uploadProblem: null,
  });
  if ('serviceWorker' in navigator) {
    for (const registration of await navigator.serviceWorker.getRegistrations()) {
      if (new URL(registration.scope).pathname.startsWith(location.pathname)) await registration.unregister();
    }
  }
  if ('caches' in window) {
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX)) await caches.delete(name);
    }
  }
  await db.erase().catch(() => {});
  renderLoaner();
  showStart(error.retired ? 'retired' : 'unknownDevice');
}

main();
