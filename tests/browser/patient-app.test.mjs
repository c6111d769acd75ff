// The Social Monitoring app (/patient/app/) in Debian's Chromium, against a real server
// started with its test clock (`propusk serve --test-clock`, loopback only).
//
// An officer opens a case on the officer's pages; the phone (a profile of its own, the
// camera a fake device playing a still picture, geolocation emulated) opens the link from
// the case page — the code in the URL fragment — consents, takes a selfie and enrolls. With
// the phone at home its reports reach the server; offline, its fixes queue on the phone and
// arrive exactly once when it is back (a batch whose answer is lost included). Walking away
// and staying there becomes a `left_home` flag seen in the app, time moved with Playwright's
// clock on the page and the test clock on the server, never by sleeping; the question the
// service asked on the way ("asking when in doubt") is answered with the fake camera and
// reaches the officer's queue with its photo. A loaner phone shows who it belongs to and
// until when; returning it, and ending a case, leave the app's origin storage empty
// (IndexedDB, Cache Storage, service workers) with the start screen shown. Every screen
// passes axe-core in Russian and English, nothing breaks the Content-Security-Policy, and
// the budgets hold (size compressed, first load under "Slow 4G", no timer under 30 s while
// idle, exactly one watchPosition). Screenshots go to docs/screenshots/.
//
//   cargo build -p propusk && cd tests/browser && node --test patient-app.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import jsQR from 'jsqr';

import { startServer, REPO } from './lib/server.mjs';
import { Api, randomPhone, signInStaff } from './lib/api.mjs';
import {
  axeViolations, cspViolations, launchChromium, launchPhone, screenshot, watchCsp,
} from './lib/browser.mjs';
import { decodePngGrey, writeY4m } from './lib/y4m.mjs';
import { STRINGS } from '../../crates/server/static/patient-app/strings.js';

const PASSWORD = 'ward-rounds-2020';
const HOME = { latitude: 55.7575, longitude: 37.613 };
const APP_DIR = path.join(REPO, 'crates/server/static/patient-app');
const DOCS = path.join(REPO, 'docs/screenshots');
const MINUTE = 60_000;
const WAIT_MS = 20_000;
// Chromium DevTools' "Slow 4G" preset (front_end/core/sdk/NetworkManager.ts).
const SLOW_4G = { offline: false, latency: 150 * 3.75, downloadThroughput: (1.6 * 1e6 / 8) * 0.9, uploadThroughput: (750 * 1e3 / 8) * 0.9 };

let server;
let api;
let officerToken;
let desk; // the officer's browser
let camera; // the fake camera's picture
const phones = [];

/** A point `north` metres north of home (and `east` east). */
function at(north, east = 0) {
  return {
    latitude: HOME.latitude + north / 111_320,
    longitude: HOME.longitude + east / (111_320 * Math.cos((HOME.latitude * Math.PI) / 180)),
    accuracy: 12,
  };
}

async function waitFor(what, check, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function serverNow() {
  return Date.parse((await api.get('/_test/clock')).json.now);
}

/** Moves the server's clock and every open phone's page clock forward together. */
async function advance(ms) {
  const r = await api.post('/_test/clock', { advance_secs: Math.round(ms / 1000) });
  assert.equal(r.status, 200, r.text);
  for (const phone of phones) await phone.page.clock.runFor(ms);
}

async function caseOf(id) {
  const r = await api.get(`/api/v1/cases/${id}`, officerToken);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function assertAccessible(page, what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
}

/** What the app's origin keeps: IndexedDB databases, Cache Storage, service workers. */
function originStorage(page) {
  return page.evaluate(async () => ({
    databases: (await indexedDB.databases()).map((d) => d.name),
    caches: await caches.keys(),
    workers: (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope),
  }));
}

before(async () => {
  server = await startServer({ extraArgs: ['--test-clock', '--checkins-per-day', '0'] });
  api = new Api(server.base);
  server.addStaff('health', 'dr.app', PASSWORD);
  // Days begin at 10:00 on the cases' clocks (Moscow), inside the check-in hours, whenever
  // the tests run.
  const now = await serverNow();
  const moscow = new Date(now + 3 * 3600_000);
  const target = Date.UTC(moscow.getUTCFullYear(), moscow.getUTCMonth(), moscow.getUTCDate(), 10 - 3, 0, 0);
  const ahead = target > now + MINUTE ? target - now : target + 24 * 3600_000 - now;
  await api.post('/_test/clock', { advance_secs: Math.round(ahead / 1000) });
  officerToken = await signInStaff(server, 'dr.app', PASSWORD);
  camera = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'propusk-camera-')), 'face.y4m');
  writeY4m(fs.readFileSync(path.join(APP_DIR, 'icons/icon-512.png')), camera);
  desk = await launchChromium();
});

after(async () => {
  for (const phone of phones) await phone.context.close().catch(() => {});
  await desk?.close();
  await server?.stop();
});

/** A phone with its own profile, the fake camera, geolocation at `where`, its clock the server's. */
async function newPhone(where = at(10)) {
  const context = await launchPhone({
    fakeVideo: camera,
    geolocation: where,
    permissions: ['geolocation', 'camera'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  // Playwright grants only the permissions it knows; a loaner on its charger also holds a
  // Screen Wake Lock.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Browser.grantPermissions', {
    origin: server.base, permissions: ['geolocation', 'videoCapture', 'wakeLockScreen'],
  });
  await watchCsp(page);
  // The page's clock runs from the server's time; the test moves both together. (It is not
  // paused: axe-core needs timers that run by themselves.)
  await page.clock.install({ time: await serverNow() });
  // Every report the phone ever sent, by its time, and how many times it was sent: the
  // server must count each distinct one exactly once.
  const sent = new Map();
  page.on('request', (request) => {
    if (request.method() !== 'POST' || !request.url().endsWith('/api/v1/device/locations')) return;
    for (const fix of JSON.parse(request.postData())) sent.set(fix.ts, (sent.get(fix.ts) ?? 0) + 1);
  });
  if (process.env.PROPUSK_DEBUG_APP) {
    page.on('console', (m) => console.log(`# console: ${m.text()}`));
    page.on('pageerror', (e) => console.log(`# page error: ${e.message}`));
    page.on('request', (r) => r.url().includes('/api/') && console.log(`# ${r.method()} ${r.url()} ${(r.postData() ?? '').slice(0, 120)}`));
    page.on('response', (r) => r.url().includes('/api/') && console.log(`# ${r.status()} ${r.url()}`));
  }
  const phone = { context, page, sent };
  phones.push(phone);
  return phone;
}

/** An officer's page, signed in, in the given language. */
async function officerPage(lang = 'ru') {
  const context = await desk.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ru-RU', timezoneId: 'Europe/Moscow' });
  const page = await context.newPage();
  await watchCsp(page);
  await page.goto(`${server.base}/health/sign-in`);
  if (lang === 'en') await page.getByRole('link', { name: 'English' }).click();
  await page.getByLabel(lang === 'en' ? 'Username' : 'Имя пользователя').fill('dr.app');
  await page.getByLabel(lang === 'en' ? 'Password' : 'Пароль').fill(PASSWORD);
  await page.getByRole('button', { name: lang === 'en' ? 'Sign in' : 'Войти' }).click();
  await page.waitForURL(/\/health\/queue$/);
  return page;
}

/** Opens a case on the officer's pages; returns {id, link} from the page shown once. */
async function openCaseOnPage(page, name = 'Сидорова Анна Павловна') {
  await page.goto(`${server.base}/health/cases/new`);
  await page.getByLabel('Фамилия, имя и отчество').fill(name);
  await page.getByLabel('Мобильный телефон пациента').fill(randomPhone());
  await page.getByLabel('Адрес карантина').fill('Москва, ул. Тверская, д. 1');
  await page.getByLabel('Широта').fill(String(HOME.latitude));
  await page.getByLabel('Долгота').fill(String(HOME.longitude));
  await page.getByLabel('Радиус дома, м').fill('50');
  await page.getByRole('button', { name: 'Открыть дело' }).click();
  const link = await page.locator('#enrollment-link').getAttribute('href');
  const href = await page.getByRole('link', { name: 'Перейти к делу' }).getAttribute('href');
  return { id: href.split('/').pop(), link };
}

/** The QR code on the officer's page, decoded. */
async function qrText(page) {
  const png = await page.locator('#enrollment-qr').screenshot();
  const { width, height, grey: pixels } = decodePngGrey(png);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set([pixels[i], pixels[i], pixels[i], 255], i * 4);
  }
  return jsQR(rgba, width, height)?.data ?? null;
}

/** Consent, selfie with the fake camera, enroll: the app's home screen. */
async function enroll(page, { check = false, lang = 'ru', shots = false } = {}) {
  const s = STRINGS[lang];
  await page.locator('#screen-consent:not([hidden])').waitFor();
  await page.locator('#consent-kept').filter({ hasText: '30' }).waitFor();
  if (check) await assertAccessible(page, `consent (${lang})`);
  if (shots) await screenshot(page, 'patient-app-consent', { fullPage: true });
  await page.getByRole('button', { name: s.consentAgree }).click();
  await page.locator('#screen-photo:not([hidden])').waitFor();
  await page.getByText(s.cameraReady).waitFor();
  if (check) await assertAccessible(page, `selfie (${lang})`);
  await page.getByRole('button', { name: s.photoTake }).click();
  await page.locator('#photo-preview:not([hidden])').waitFor();
  await page.getByRole('button', { name: s.enrollSend }).click();
  await page.locator('#screen-home:not([hidden])').waitFor();
}

const state = {};

test('the officer\'s link enrolls a phone; with the phone at home, reports reach the server', async () => {
  const officer = await officerPage();
  const { id, link } = await openCaseOnPage(officer);
  state.caseId = id;
  assert.match(link, new RegExp(`^${server.base}/patient/app/#code=[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$`));
  assert.equal(await qrText(officer), link, 'the QR code is the link');
  await assertAccessible(officer, 'case opened, with link and QR code');
  await screenshot(officer, 'health-case-created', { fullPage: true });

  const phone = await newPhone(at(10));
  state.phone = phone;
  const { page } = phone;
  await page.goto(link);
  // The one-time code leaves the address bar (and the history) at once.
  await page.waitForFunction(() => location.hash === '');
  await enroll(page, { check: true, shots: true });
  assert.equal(new URL(page.url()).hash, '');
  await assertAccessible(page, 'home');

  // Reports reach the server; the officer sees the app open and the last report.
  const received = await waitFor('the first report', async () => (await caseOf(id)).reports_received >= 1 && caseOf(id));
  assert.ok(received.last_report_at && received.app_last_seen_at, JSON.stringify(received));
  for (let i = 1; i <= 3; i++) {
    await phone.context.setGeolocation(at(10 + i * 3));
    await advance(MINUTE);
  }
  await waitFor('reports every minute', async () => (await caseOf(id)).reports_received >= 3);
  await page.locator('#status-waiting').filter({ hasText: STRINGS.ru.waitingNone }).waitFor();
  assert.equal((await caseOf(id)).reports_received, phone.sent.size, 'each report once');
  await officer.goto(`${server.base}/health/cases/${id}`);
  const facts = await officer.locator('dl.facts').textContent();
  assert.match(facts, /Получено геопозиций\s*([3-9]|\d\d)/);
  assert.match(facts, /Приложение\s*открыто/);
  await officer.context().close();

  // The token is in IndexedDB, never in a URL or in localStorage.
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.deepEqual((await originStorage(page)).databases, ['propusk-patient']);
  await screenshot(page, 'patient-app-home', { fullPage: true });
  fs.mkdirSync(DOCS, { recursive: true });
  fs.copyFileSync(await screenshot(page, 'patient-app-home'), path.join(DOCS, 'patient-app-home.png'));
});

test('offline for a while, then online: every fix taken offline arrives exactly once', async () => {
  const { page, context } = state.phone;
  const before = (await caseOf(state.caseId)).reports_received;
  await context.setOffline(true);
  for (let i = 1; i <= 5; i++) {
    await context.setGeolocation(at(5 + i * 2, i));
    await advance(MINUTE);
  }
  // About one a minute (the page's clock also runs by itself, so four to six).
  await page.locator('#status-waiting').filter({ hasText: /отметок: [4-6]/ }).waitFor();
  const queued = Number((await page.locator('#status-waiting').textContent()).match(/отметок: (\d+)/)[1]);
  assert.match(await page.locator('#status-network').textContent(), /нет/);
  await screenshot(page, 'patient-app-offline', { fullPage: true });
  assert.equal((await caseOf(state.caseId)).reports_received, before, 'nothing arrived while offline');

  // Back online, but the answer to the first upload is lost on the way back: the phone
  // sends the batch again and the server counts it once.
  let lost = 0;
  await page.route('**/api/v1/device/locations', async (route) => {
    if (lost === 0) {
      await route.fetch();
      await route.abort('connectionreset');
      lost += 1;
    } else {
      await route.continue();
    }
  });
  await context.setOffline(false);
  await waitFor('the lost answer', () => lost === 1);
  // The phone retries after its backoff: move time on until the queue is empty.
  const done = page.locator('#status-waiting').filter({ hasText: STRINGS.ru.waitingNone });
  for (let i = 0; i < 5 && !(await done.isVisible()); i++) {
    await advance(MINUTE);
    await done.waitFor({ timeout: 3000 }).catch(() => {});
  }
  await done.waitFor();
  await page.unroute('**/api/v1/device/locations');
  // Every fix, those taken offline and the batch sent twice included, counted once.
  const afterCount = (await caseOf(state.caseId)).reports_received;
  assert.ok(afterCount >= before + queued, `${before} + ${queued} → ${afterCount}`);
  assert.equal(afterCount, state.phone.sent.size);
  const resent = [...state.phone.sent.values()].filter((n) => n > 1).length;
  assert.ok(resent >= queued, `the batch whose answer was lost was sent again (${resent})`);
});

test('walking away and staying there becomes a left_home flag, seen in the app', async () => {
  const { page, context } = state.phone;
  // Out of the door and down the street, a fix a minute, then staying 1.2 km away.
  const walk = [200, 700, 1000, 1200, 1210, 1195, 1205, 1200, 1190];
  for (const [i, north] of walk.entries()) {
    const before = (await caseOf(state.caseId)).reports_received;
    await context.setGeolocation(at(north, i % 3));
    await advance(MINUTE);
    // Each fix is uploaded before the clock moves on, as on a phone whose minutes are real:
    // otherwise a sweep may see three fixes away before the first is judged on its own.
    await waitFor(`the fix ${north} m north`, async () =>
      (await caseOf(state.caseId)).reports_received > before);
  }
  // The service asked at once when a confident fix first placed the phone far from home.
  const asked = page.locator('#checkins li');
  await asked.first().waitFor();
  assert.match(await asked.first().textContent(), /далеко|м от дома/);
  const flag = await waitFor('the left_home flag', async () => {
    const c = await caseOf(state.caseId);
    return c.flags.find((f) => f.kind === 'left_home');
  });
  assert.ok(flag.evidence.outside >= 3, JSON.stringify(flag.evidence));
  // The app shows it at its next refresh (every three minutes while open).
  await advance(3 * MINUTE);
  await page.locator('#flags li').filter({ hasText: STRINGS.ru.kind_left_home }).waitFor();
  assert.match(await page.locator('#flags').textContent(), /не штраф|Ждёт решения врача|SMS/);
  // The evidence in plain words, not the officers' terms.
  const card = page.locator(`#flag-${flag.id}`);
  assert.match(await card.textContent(), /положени\S* телефона вне дома с .+, самое дальнее — в [\d,]+ (м|км) от дома/);
  assert.doesNotMatch(await card.textContent(), /медиана|повторы/);
  await assertAccessible(page, 'home with a flag and a check-in');
  await screenshot(page, 'patient-app-flag', { fullPage: true });

  // The patient explains it before the decision: an empty one is refused at the field, a
  // written one is stored with the flag and the officer reads it beside the evidence.
  await card.getByRole('button', { name: STRINGS.ru.explainSend }).click();
  await card.locator(`#explain-${flag.id}-error`).getByText(STRINGS.ru.explainEmpty).waitFor();
  await card.getByLabel(STRINGS.ru.explainLabel).fill('Выходила к врачу в поликлинику, справка есть');
  await card.getByRole('button', { name: STRINGS.ru.explainSend }).click();
  await page.locator(`#statement-${flag.id}`).getByText('Выходила к врачу в поликлинику, справка есть').waitFor();
  await page.locator(`#flag-${flag.id}`).getByLabel(STRINGS.ru.explainReplace).waitFor();
  await assertAccessible(page, 'home with an explanation');
  const officer = await officerPage();
  await officer.goto(`${server.base}/health/flags/${flag.id}`);
  assert.equal((await officer.locator('#patient-statement').textContent()).trim(), 'Выходила к врачу в поликлинику, справка есть');
  await officer.context().close();
});

test('a check-in answered with the fake camera reaches the officer\'s queue with its photo', async () => {
  const { page, context } = state.phone;
  // Where the phone is as the patient answers (a fresh position from the watch).
  await context.setGeolocation(at(1198, 3));
  await page.locator('#checkins li').first().getByRole('button', { name: STRINGS.ru.answer }).click();
  await page.locator('#screen-photo:not([hidden])').waitFor();
  await page.getByText(/Место определено/).waitFor();
  await page.getByRole('button', { name: STRINGS.ru.photoTake }).click();
  await page.locator('#photo-preview:not([hidden])').waitFor();
  await assertAccessible(page, 'check-in');
  await screenshot(page, 'patient-app-checkin', { fullPage: true });
  fs.copyFileSync(await screenshot(page, 'patient-app-checkin'), path.join(DOCS, 'patient-app-checkin.png'));
  await page.getByRole('button', { name: STRINGS.ru.checkinSend }).click();
  await page.locator('#screen-home:not([hidden])').waitFor();
  await page.locator('#status-message').getByText(STRINGS.ru.answerSent).waitFor();

  const officer = await officerPage();
  // The queue's card is a summary; the photo is with the full evidence on the flag's page.
  await waitFor('the flag with the photo', async () => {
    await officer.goto(`${server.base}/health/queue`);
    const card = officer.locator('.card h2 a').first();
    if (!(await card.count())) return false;
    await card.click();
    return (await officer.locator('img.checkin-photo').count()) > 0;
  });
  const photo = officer.locator('img.checkin-photo').first();
  assert.ok(await photo.evaluate((img) => img.complete && img.naturalWidth > 0), 'the photo loads');
  await assertAccessible(officer, 'flag with a check-in photo');
  await screenshot(officer, 'health-queue-asked', { fullPage: true });
  assert.deepEqual(await cspViolations(officer), []);
  await officer.context().close();
});

test('a loaner shows whose it is; returning it leaves the origin storage empty and the start screen', async () => {
  const officer = await officerPage();
  const { id } = await openCaseOnPage(officer, 'Петров Пётр Петрович');
  await officer.goto(`${server.base}/health/loaners`);
  await officer.getByLabel('Серийный номер').fill('SN-APP-1');
  await officer.getByRole('button', { name: 'Добавить телефон' }).click();
  const card = officer.locator('#loaner-SN-APP-1');
  await card.getByRole('combobox').selectOption(id);
  await card.getByRole('button', { name: 'Выдать' }).click();
  const link = await officer.locator('#enrollment-link').getAttribute('href');
  assert.equal(await qrText(officer), link);

  const phone = await newPhone(at(5));
  await phone.page.goto(link);
  await enroll(phone.page);
  const banner = phone.page.locator('#loaner');
  await banner.filter({ hasText: /принадлежит отделу здравоохранения — верните его до/ }).waitFor();
  await assertAccessible(phone.page, 'loaner home');
  fs.copyFileSync(await screenshot(phone.page, 'patient-app-loaner'), path.join(DOCS, 'patient-app-loaner.png'));
  // On the charger (headless Chromium reports a charging battery) it keeps the screen on.
  await phone.page.locator('#loaner[data-wake-lock="held"]').waitFor();
  await phone.page.evaluate(() => navigator.serviceWorker.ready);
  await waitFor('the app shell cached', async () => (await originStorage(phone.page)).caches.length === 1);

  // The officer records the return; at its next call the app erases itself.
  await officer.goto(`${server.base}/health/loaners`);
  await officer.locator('#loaner-SN-APP-1').getByRole('button', { name: 'Принять возврат' }).click();
  await advance(3 * MINUTE);
  await phone.page.locator('#screen-start:not([hidden])').waitFor();
  await phone.page.getByText(STRINGS.ru.retired).waitFor();
  assert.deepEqual(await originStorage(phone.page), { databases: [], caches: [], workers: [] });
  await assertAccessible(phone.page, 'start after a wipe');
  // A reload finds nothing and keeps nothing.
  await phone.page.reload();
  await phone.page.locator('#screen-start:not([hidden])').waitFor();
  assert.deepEqual(await originStorage(phone.page), { databases: [], caches: [], workers: [] });
  assert.deepEqual(await cspViolations(phone.page), []);
  await officer.context().close();
});

test('ending a case wipes the patient\'s own phone too', async () => {
  const { page } = state.phone;
  const officer = await officerPage();
  await officer.goto(`${server.base}/health/cases/${state.caseId}`);
  await officer.getByRole('button', { name: 'Прекратить наблюдение' }).click();
  await officer.getByText('Наблюдение окончено').first().waitFor();
  await advance(3 * MINUTE);
  await page.locator('#screen-start:not([hidden])').waitFor();
  assert.deepEqual(await originStorage(page), { databases: [], caches: [], workers: [] });
  assert.deepEqual(await cspViolations(page), [], 'the app keeps to its CSP');
  await officer.context().close();
});

test('every screen in English passes axe; both languages have the same strings', async () => {
  assert.deepEqual(Object.keys(STRINGS.en).sort(), Object.keys(STRINGS.ru).sort());
  const officer = await officerPage();
  const { link } = await openCaseOnPage(officer, 'Smith John');
  await officer.context().close();
  const phone = await newPhone(at(8));
  const { page } = phone;
  await page.goto(`${server.base}/patient/app/`);
  await page.locator('#screen-start:not([hidden])').waitFor();
  await assertAccessible(page, 'start (ru)');
  await page.getByRole('button', { name: 'English' }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await assertAccessible(page, 'start (en)');
  // A wrong code gets a clear message and a way forward.
  await page.getByLabel('Connection code').fill('ABC');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByText(STRINGS.en.codeLength).waitFor();
  await assertAccessible(page, 'start with an error (en)');
  await page.getByLabel('Connection code').fill('AAAA-BBBB-CCCC');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: STRINGS.en.consentAgree }).click();
  await page.getByRole('button', { name: STRINGS.en.photoTake }).click();
  await page.getByRole('button', { name: STRINGS.en.enrollSend }).click();
  await page.getByText('Enrollment code not found').waitFor();
  // The right code, from the link opened in the app (only its fragment changes).
  await page.goto(link);
  await enroll(page, { check: true, lang: 'en' });
  await page.getByRole('heading', { name: 'My quarantine' }).waitFor();
  await assertAccessible(page, 'home (en)');
  await screenshot(page, 'patient-app-home-en', { fullPage: true });
  assert.deepEqual(await cspViolations(page), []);
});

test('budgets: size, first load on Slow 4G, no timer under 30 s while idle, one watchPosition', async () => {
  // The app's own code and assets, compressed.
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(APP_DIR);
  walk(path.join(APP_DIR, '../pwa')); // what it shares with the inspector's app, served as pwa/…
  const gzipped = files.reduce((sum, f) => sum + zlib.gzipSync(fs.readFileSync(f), { level: 9 }).length, 0);
  const raw = files.reduce((sum, f) => sum + fs.statSync(f).size, 0);
  console.log(`# budget: ${files.length} files, ${raw} bytes, ${gzipped} bytes gzipped (budget 153600)`);
  assert.ok(gzipped <= 150 * 1024, `${gzipped} bytes compressed`);

  // First load, cold, under Chromium's "Slow 4G".
  const context = await desk.newContext({ viewport: { width: 320, height: 640 }, locale: 'ru-RU' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  const started = Date.now();
  await page.goto(`${server.base}/patient/app/`, { waitUntil: 'commit' });
  await page.locator('#screen-start:not([hidden])').waitFor({ timeout: 10_000 });
  const firstLoad = Date.now() - started;
  console.log(`# budget: first load on Slow 4G ${firstLoad} ms (budget 2000)`);
  assert.ok(firstLoad <= 2000, `first load took ${firstLoad} ms`);
  // It works on a 320 px screen: nothing wider than the screen.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320));
  await context.close();

  // Timers and watches, on an enrolled phone left alone for ten minutes.
  const officer = await officerPage();
  const { link } = await openCaseOnPage(officer, 'Кузнецова Ольга Ивановна');
  await officer.context().close();
  const phone = await newPhone(at(12));
  await phone.page.addInitScript(() => {
    const made = [];
    window.__timers = made;
    for (const name of ['setTimeout', 'setInterval']) {
      const original = window[name];
      window[name] = function (fn, delay, ...rest) {
        made.push({ name, delay: Number(delay) || 0, at: performance.now() });
        return original.call(this, fn, delay, ...rest);
      };
    }
    let active = 0;
    window.__watches = () => active;
    const geo = navigator.geolocation;
    const watch = geo.watchPosition.bind(geo);
    const clear = geo.clearWatch.bind(geo);
    geo.watchPosition = (...args) => {
      active += 1;
      return watch(...args);
    };
    geo.clearWatch = (id) => {
      active -= 1;
      clear(id);
    };
  });
  await phone.page.goto(link);
  await enroll(phone.page);
  await phone.page.locator('#status-waiting').filter({ hasText: STRINGS.ru.waitingNone }).waitFor();
  const settled = await phone.page.evaluate(() => window.__timers.length);
  await advance(10 * MINUTE);
  await phone.page.locator('#status-waiting').filter({ hasText: STRINGS.ru.waitingNone }).waitFor();
  const timers = await phone.page.evaluate(() => window.__timers);
  const intervals = timers.filter((t) => t.name === 'setInterval');
  const idle = timers.slice(settled);
  console.log(`# budget: ${intervals.length} intervals (${intervals.map((t) => t.delay).join(', ')} ms), ${idle.length} timers set while idle`);
  assert.deepEqual(intervals.filter((t) => t.delay < 30_000), [], 'no interval under 30 s');
  assert.deepEqual(idle.filter((t) => t.delay < 30_000), [], 'no timer under 30 s while idle');
  assert.equal(await phone.page.evaluate(() => window.__watches()), 1, 'exactly one watchPosition');
  // Still one after a check-in screen and back, and after asking for location again.
  await phone.page.locator('#location-retry').evaluate((b) => b.click());
  assert.equal(await phone.page.evaluate(() => window.__watches()), 1);
});
