// The inspector app (/inspector/) in Debian's Chromium, against a real server.
//
// A resident gets passes through the JSON API (sign-in code read from the server
// log); an inspector signs in to the app; the camera — Chromium's fake device
// playing a Y4M made from the pass's QR PNG — is shown the pass, and the app says
// VALID. With the network cut, a second pass still verifies, the app reloads from
// its service worker, and a pass cancelled after the last sync shows REVOKED. A
// typed short code is checked online. axe-core finds no serious or critical
// violation on any screen, the page never breaks its Content-Security-Policy, the
// check counts reach /metrics, and Chromium finds the app installable. A revocation
// list of 25,000 entries (written straight into the server's SQLite file) syncs in pages
// with progress, and the phone keeps only the live entries.
//
//   cargo build -p propusk && cd tests/browser && node --test inspector.test.mjs
// Screenshots (390×844) go to tests/browser/screenshots/; the verdict one is also
// copied to docs/screenshots/inspector-verdict.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, REPO } from './lib/server.mjs';
import { Api, residentWithProfile, issuePass, signInStaff, randomPhone } from './lib/api.mjs';
import {
  launchPhone, watchCsp, cspViolations, axeViolations, screenshot,
} from './lib/browser.mjs';
import { writeY4m, writeBlankY4m } from './lib/y4m.mjs';
import { buildCorpus } from './lib/corpus.mjs';

const INSPECTOR = { username: 'officer.petrov', password: 'patrol-shift-2020' };
const HEALTH = { username: 'dr.sidorova', password: 'ward-rounds-2020' };
const VERDICT_TIMEOUT = 30000;

let server;
let api;
let context;
let page;
let camera;
let resident;
const passes = {};

async function qrPng(pass) {
  const r = await api.get(`/api/v1/passes/${pass.id}/qr.png`, resident);
  assert.equal(r.status, 200, r.text);
  return r.buffer;
}

async function showToCamera(pass) {
  writeY4m(await qrPng(pass), camera);
}

async function expectVerdict(expected) {
  await page.locator('#screen-verdict:not([hidden])').waitFor({ timeout: VERDICT_TIMEOUT });
  const verdict = await page.getAttribute('#screen-verdict', 'data-verdict');
  const hint = await page.textContent('#verdict-hint');
  assert.equal(verdict, expected, `verdict screen: ${verdict} (${hint})`);
}

async function nextCheck() {
  await page.click('#verdict-next');
  await page.locator('#screen-scan:not([hidden])').waitFor();
}

async function expectNoAxeViolations(what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
}

async function metric(decidedBy, verdict) {
  const text = (await api.get('/metrics')).text;
  const match = text.match(new RegExp(`propusk_inspector_checks_total\\{decided_by="${decidedBy}",verdict="${verdict}"\\} (\\d+)`));
  return match ? Number(match[1]) : null;
}

async function waitForMetric(decidedBy, verdict, atLeast) {
  const deadline = Date.now() + 15000;
  let value = null;
  while (Date.now() < deadline) {
    value = await metric(decidedBy, verdict);
    if (value >= atLeast) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`propusk_inspector_checks_total{${decidedBy},${verdict}} is ${value}, expected at least ${atLeast}`);
}

before(async () => {
  server = await startServer();
  api = new Api(server.base);
  server.addStaff('inspector', INSPECTOR.username, INSPECTOR.password);
  server.addStaff('health', HEALTH.username, HEALTH.password);
  resident = await residentWithProfile(server, {
    phone: randomPhone(), name: 'Иванова Мария Петровна', passport: '4510 123456',
  });
  passes.first = await issuePass(server, resident, { purpose: 'shopping' });
  passes.second = await issuePass(server, resident, { purpose: 'shopping' });
  passes.revoked = await issuePass(server, resident, { purpose: 'pet' });
  camera = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'propusk-camera-')), 'camera.y4m');
  await showToCamera(passes.first);
  context = await launchPhone({ fakeVideo: camera });
  page = context.pages()[0] ?? (await context.newPage());
  await watchCsp(page);
});

after(async () => {
  await context?.close();
  if (camera) fs.rmSync(path.dirname(camera), { recursive: true, force: true });
  const code = await server?.stop();
  assert.equal(code, 0, 'the server stops cleanly');
});

test('the app is served with its security policy, content types and cache validators', async () => {
  const redirect = await api.get('/inspector');
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.get('location'), '/inspector/');
  const page0 = await api.get('/inspector/');
  assert.equal(page0.status, 200);
  assert.match(page0.headers.get('content-type'), /^text\/html/);
  const csp = page0.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /style-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page0.headers.get('cache-control'), 'no-cache');
  const etag = page0.headers.get('etag');
  assert.equal((await api.get('/inspector/', undefined, { headers: { 'if-none-match': etag } })).status, 304);
  for (const [file, type] of [
    ['app.js', /^text\/javascript/], ['app.css', /^text\/css/], ['manifest.webmanifest', /^application\/manifest\+json/],
    ['icons/icon-192.png', /^image\/png/], ['vendor/jsQR.js', /^text\/javascript/], ['sw.js', /^text\/javascript/],
  ]) {
    const r = await api.get(`/inspector/${file}`);
    assert.equal(r.status, 200, file);
    assert.match(r.headers.get('content-type'), type, file);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', file);
  }
  const sw = (await api.get('/inspector/sw.js')).text;
  assert.match(sw, /const VERSION = '[0-9a-f]{16}'/);
  assert.equal((await api.get('/inspector/nothing-here.js')).status, 404);
});

test('sign-in screen: Russian by default, accessible, no inline code', async () => {
  await page.goto(`${server.base}/inspector/`);
  await page.locator('#screen-signin:not([hidden])').waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'ru');
  assert.equal(await page.textContent('#signin-title'), 'Вход для инспектора');
  assert.equal(await page.textContent('#lang-toggle'), 'English');
  await expectNoAxeViolations('sign-in');
  await screenshot(page, 'inspector-sign-in');
});

test('a wrong password and a non-inspector account are refused with a reason', async () => {
  await page.fill('#username', INSPECTOR.username);
  await page.fill('#password', 'not the password');
  await page.click('#signin-submit');
  await page.locator('#signin-error:not([hidden])').waitFor();
  assert.match(await page.textContent('#signin-error'), /Неверное имя или пароль/);
  await page.fill('#username', HEALTH.username);
  await page.fill('#password', HEALTH.password);
  await page.click('#signin-submit');
  await page.waitForFunction(() => /роли инспектора/.test(document.getElementById('signin-error').textContent));
  await expectNoAxeViolations('sign-in with an error');
});

test('the inspector signs in and the camera reads a pass: VALID, with purpose, window and holder', async () => {
  await page.fill('#username', INSPECTOR.username);
  await page.fill('#password', INSPECTOR.password);
  await page.click('#signin-submit');
  await expectVerdict('valid');
  assert.equal(await page.textContent('#verdict-title'), 'Действителен');
  assert.equal(await page.textContent('#verdict-holder'), 'И.М. 3456');
  assert.equal(await page.textContent('#verdict-pass'), passes.first.id);
  // Names come from the cached regime.
  await page.waitForFunction(
    () => document.getElementById('verdict-purpose').textContent === 'Поход в продуктовый магазин или аптеку',
  );
  assert.match(await page.textContent('#verdict-window'), /\d\d:\d\d.+\d\d:\d\d/);
  assert.match(await page.textContent('#verdict-checked'), /на телефоне/);
  // The verdict is announced to screen readers and has the focus.
  await page.waitForFunction(() => /Пропуск действителен/.test(document.getElementById('announcer').textContent));
  assert.equal(await page.getAttribute('#announcer', 'aria-live'), 'assertive');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'verdict-title');
  await expectNoAxeViolations('verdict: valid');
  const shot = await screenshot(page, 'inspector-verdict');
  fs.mkdirSync(path.join(REPO, 'docs/screenshots'), { recursive: true });
  fs.copyFileSync(shot, path.join(REPO, 'docs/screenshots/inspector-verdict.png'));
  await waitForMetric('device', 'valid', 1);
});

test('the scan screen shows how fresh the cached lists are', async () => {
  await writeBlankY4m(camera);
  await nextCheck();
  await page.waitForFunction(() => /обновлены/.test(document.getElementById('status-keys').textContent));
  assert.match(await page.textContent('#status-keys'), /ключей: 1, обновлены (только что|1 мин назад)/);
  assert.match(await page.textContent('#status-revocations'), /версия списка № \d+/);
  assert.match(await page.textContent('#status-regime'), /Москва/);
  assert.equal(await page.textContent('#status-network'), 'есть');
  await expectNoAxeViolations('scan screen');
  await screenshot(page, 'inspector-scan', { fullPage: true });
});

test('offline: a second pass still verifies VALID on the phone', async () => {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await context.setOffline(true);
  await page.waitForFunction(() => /нет/.test(document.getElementById('status-network').textContent));
  // Restart the camera on the second pass.
  await page.click('#camera-toggle');
  await showToCamera(passes.second);
  await page.click('#camera-toggle');
  await expectVerdict('valid');
  assert.equal(await page.textContent('#verdict-pass'), passes.second.id);
  assert.match(await page.textContent('#verdict-checked'), /на телефоне; списки обновлены/);
});

test('a pass cancelled after a sync shows REVOKED offline, after a reload from the service worker', async () => {
  await writeBlankY4m(camera);
  await nextCheck();
  await context.setOffline(false);
  const before = await page.textContent('#status-revocations');
  const cancel = await api.delete(`/api/v1/passes/${passes.revoked.id}`, resident);
  assert.ok(cancel.status === 200 || cancel.status === 204, cancel.text);
  await page.click('#sync-now');
  await page.waitForFunction(() => /отозвано: 1,/.test(document.getElementById('status-revocations').textContent));
  assert.notEqual(await page.textContent('#status-revocations'), before);
  // Both offline checks were reported once the network came back.
  await waitForMetric('device', 'valid', 2);

  await context.setOffline(true);
  await showToCamera(passes.revoked);
  await page.reload();
  await expectVerdict('revoked');
  assert.equal(await page.textContent('#verdict-title'), 'Недействителен');
  assert.equal(await page.textContent('#verdict-reason'), 'Пропуск отозван');
  assert.equal(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), true, 'served by the service worker');
  await page.waitForFunction(() => /недействителен: Пропуск отозван/.test(document.getElementById('announcer').textContent));
  await expectNoAxeViolations('verdict: revoked');
  await screenshot(page, 'inspector-verdict-revoked');
});

test('a short code: refused offline, a typo caught on the phone, a good one verified online', async () => {
  await writeBlankY4m(camera);
  await nextCheck();
  const code = passes.first.short_code;
  await page.fill('#short-code', code);
  await page.click('#code-submit');
  await page.locator('#short-code-error:not([hidden])').waitFor();
  assert.match(await page.textContent('#short-code-error'), /Нет сети/);
  await screenshot(page, 'inspector-scan-offline');

  await context.setOffline(false);
  const typo = code.slice(0, 2) + (code[2] === '7' ? '8' : '7') + code.slice(3);
  await page.fill('#short-code', typo);
  await page.click('#code-submit');
  await page.waitForFunction(() => /ошибкой/.test(document.getElementById('short-code-error').textContent));
  assert.equal(await page.getAttribute('#short-code', 'aria-invalid'), 'true');
  await expectNoAxeViolations('short code error');

  // Typed as people do: lower case, spaces instead of dashes.
  await page.fill('#short-code', code.toLowerCase().replace(/-/g, ' '));
  await page.click('#code-submit');
  await expectVerdict('valid');
  assert.equal(await page.textContent('#verdict-pass'), passes.first.id);
  assert.match(await page.textContent('#verdict-checked'), /на сервере по короткому коду/);
  await waitForMetric('server', 'valid', 1);
  await waitForMetric('device', 'revoked', 1);
});

test('English: every screen switches, and the verdict reads in English', async () => {
  await nextCheck();
  await page.click('#lang-toggle');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal(await page.textContent('#scan-title'), 'Check a pass');
  assert.equal(await page.textContent('#lang-toggle'), 'Русский');
  assert.match(await page.textContent('#status-network'), /online/);
  await page.fill('#short-code', passes.second.short_code);
  await page.click('#code-submit');
  await expectVerdict('valid');
  assert.equal(await page.textContent('#verdict-title'), 'Valid');
  assert.equal(await page.textContent('#verdict-purpose'), 'Trip to a grocery store or pharmacy');
  assert.match(await page.textContent('#verdict-window'), /\d\d:\d\d.+\d\d:\d\d/);
  await expectNoAxeViolations('verdict in English');
  await screenshot(page, 'inspector-verdict-en');
  // The choice is remembered.
  await page.reload();
  await page.locator('#screen-scan:not([hidden])').waitFor();
  assert.equal(await page.textContent('#scan-title'), 'Check a pass');
  await page.click('#lang-toggle');
  assert.equal(await page.textContent('#scan-title'), 'Проверка пропуска');
});

test('a city-size list: 25,000 revocations sync in pages of 10,000 with progress, and ended passes are left out', async () => {
  // On the scan screen, in Russian, where the English test left the app.
  // 25,050 more revocations straight in the server's database: the first 50 of passes that
  // have ended, the rest of passes valid for 12 more hours.
  const id = (i) => `deadbeef-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  const rows = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25050)`;
  const id_sql = "printf('deadbeef-0000-4000-8000-%012x', i)";
  const until = 'CASE WHEN i <= 50 THEN unixepoch() - 60 ELSE unixepoch() + 43200 END';
  server.sql(`BEGIN;
    ${rows} INSERT INTO passes (id, resident_id, regime_id, purpose, short_code, token, valid_from, valid_until, issued_at, channel, fields, cancelled_at, cancelled_by)
      SELECT ${id_sql}, (SELECT id FROM residents LIMIT 1), 'moscow-2020', 'trash', printf('T%08d', i), 'PR1:test',
             unixepoch() - 3600, ${until}, unixepoch() - 3600, 'api', '{}', unixepoch(), 'staff:test' FROM n;
    ${rows} INSERT INTO revocations (seq, pass_id, revoked_at, reason, valid_until)
      SELECT (SELECT value FROM counters WHERE name = 'revocation') + i, ${id_sql}, unixepoch(), 'test', ${until} FROM n;
    UPDATE counters SET value = value + 25050 WHERE name = 'revocation';
    COMMIT;`);
  let requests = 0;
  const countRequests = (request) => {
    if (request.url().includes('/api/v1/revocations')) requests += 1;
  };
  page.on('request', countRequests);
  // Every message the sync shows, as it shows it.
  await page.evaluate(() => {
    window.syncMessages = [];
    new MutationObserver(() => window.syncMessages.push(document.getElementById('sync-message').textContent))
      .observe(document.getElementById('sync-message'), { childList: true, characterData: true, subtree: true });
  });
  await page.click('#sync-now');
  await page.waitForFunction(() => /отозвано: 25001,/.test(document.getElementById('status-revocations').textContent));
  page.off('request', countRequests);
  assert.ok(requests >= 3, `${requests} page requests`);
  const messages = await page.evaluate(() => window.syncMessages);
  assert.ok(messages.some((m) => /Загружаем список отзыва: \d+ %/.test(m)), messages.join(' | '));

  // A pass from the middle page is found, an ended one is not kept, the real one is still there.
  const found = await page.evaluate(async ({ middle, ended, real }) => {
    const { loadRevoked } = await import('/inspector/sync.js');
    const revoked = await loadRevoked();
    const hex = (uuid) => uuid.replace(/-/g, '');
    return [await revoked.has(hex(middle)), await revoked.has(hex(ended)), await revoked.has(hex(real)), revoked.size];
  }, { middle: id(15000), ended: id(10), real: passes.revoked.id });
  assert.deepEqual(found, [true, false, true, 25001]);
  // The stored pages hold the live entries only: 12 bytes each.
  const stored = await page.evaluate(async () => {
    const db = await import('/inspector/db.js');
    let entries = 0;
    for (const [, p] of await db.entries('rl:')) entries += p.until.length;
    return entries;
  });
  assert.equal(stored, 25001);
});

test('the verifier agrees with the reference implementation inside Chromium too', async () => {
  const corpus = buildCorpus({ mutationCount: 400, seed: 7 });
  const verdicts = await page.evaluate(async ({ jwks, revoked, at, texts }) => {
    const v = await import('/inspector/verify.js');
    const trust = await v.importTrustList(jwks);
    const set = new Set(revoked.map(v.normalizePassId));
    const out = [];
    for (const text of texts) out.push((await v.verifyToken(text, trust, set, at)).verdict);
    return out;
  }, { jwks: corpus.jwks, revoked: corpus.revoked, at: corpus.at, texts: corpus.items.map((i) => i.text) });
  const disagreements = corpus.items
    .map((item, i) => (verdicts[i] === corpus.expected[i] ? null : `${item.name}: ${corpus.expected[i]} vs ${verdicts[i]}`))
    .filter(Boolean);
  assert.deepEqual(disagreements, []);
});

test('check reports: staff only, known verdicts only, no personal data', async () => {
  const inspector = await signInStaff(server, INSPECTOR.username, INSPECTOR.password);
  assert.equal((await api.post('/api/v1/inspector/checks', { device: { valid: 1 } })).status, 401);
  assert.equal((await api.post('/api/v1/inspector/checks', { device: { valid: 1 } }, resident)).status, 403);
  const health = await signInStaff(server, HEALTH.username, HEALTH.password);
  assert.equal((await api.post('/api/v1/inspector/checks', { device: { valid: 1 } }, health)).status, 403);
  const unknown = await api.post('/api/v1/inspector/checks', { device: { maybe: 1 } }, inspector);
  assert.equal(unknown.status, 422);
  assert.equal(unknown.json.field, 'device.maybe');
  const extra = await api.post('/api/v1/inspector/checks', { device: { valid: 1 }, pass_id: 'x' }, inspector);
  assert.equal(extra.status, 400);
  const before = await metric('device', 'expired');
  const ok = await api.post('/api/v1/inspector/checks', { device: { expired: 2 }, server: { malformed: 1 } }, inspector);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json, { recorded: 3 });
  assert.equal(await metric('device', 'expired'), before + 2);
});

test('installable: Chromium finds no installability error; the page never broke its CSP', async () => {
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors, []);
  const manifest = (await api.get('/inspector/manifest.webmanifest')).json;
  assert.equal(manifest.start_url, '/inspector/');
  assert.equal(manifest.display, 'standalone');
  for (const icon of manifest.icons) {
    assert.equal((await api.get(`/inspector/${icon.src}`)).status, 200, icon.src);
  }
  assert.deepEqual(await cspViolations(page), []);
});
