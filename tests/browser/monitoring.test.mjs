// Quarantine monitoring's pages in a real browser (Debian's Chromium driven by Playwright):
// a health officer signs in at /health and opens a case, the patient connects a phone at
// /patient and answers a check-in with the camera and the phone's location; the officer
// compares the photos, confirms a flag with a fine, the patient appeals, and a second
// officer decides the appeal — the first may not. Every main page passes axe-core with no
// serious or critical violation (in Russian), one flow runs with JavaScript disabled, and
// no page breaks its Content-Security-Policy.
//
// The server's clock cannot be moved from outside, so the test does what time would have
// done straight in the SQLite file (the `sqlite3` command-line shell): it draws a check-in
// for now, and dates a case's monitoring two hours back so that the phone's buffered reports
// of a trip an hour ago are accepted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';

import { startServer, REPO } from './lib/server.mjs';
import { Api, randomPhone } from './lib/api.mjs';
import { axeViolations, cspViolations, launchChromium, phoneContext, screenshot, watchCsp } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
const HOME = { latitude: 55.7575, longitude: 37.613 };
// A real picture for the camera inputs (the pages decode every photo).
const PHOTO = path.join(REPO, 'crates/server/static/inspector/icons/icon-192.png');

let server;
let browser;

before(async () => {
  server = await startServer();
  server.addStaff('health', 'officer-a', PASSWORD);
  server.addStaff('health', 'officer-b', PASSWORD);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Runs SQL on the server's SQLite database (WAL: the running server does not mind). */
function sql(statement) {
  const db = path.join(server.dataDir, 'propusk.db');
  const result = spawnSync('sqlite3', ['-cmd', '.timeout 10000', db, statement], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sqlite3 failed: ${result.stderr}`);
  return result.stdout.trim();
}

async function assertAccessible(page, what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
}

/** A desk-sized context for an officer. */
function deskContext(options = {}) {
  return browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ru-RU', timezoneId: 'Europe/Moscow', ...options });
}

async function signInOfficer(page, username, { check = false } = {}) {
  await page.goto(`${server.base}/health`);
  await page.waitForURL(/\/health\/sign-in$/);
  if (check) await assertAccessible(page, 'officer sign-in');
  await page.getByLabel('Имя пользователя').fill(username);
  await page.getByLabel('Пароль').fill(PASSWORD);
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.waitForURL(/\/health\/queue$/);
}

/** Opens a case through the form; returns { id, code }. */
async function openCase(page, patientPhone, { check = false } = {}) {
  await page.getByRole('link', { name: 'Дела', exact: true }).click();
  if (check) await assertAccessible(page, 'cases list');
  await page.getByRole('button', { name: 'Открыть дело' }).click();
  if (check) await assertAccessible(page, 'new case form');
  await page.getByLabel('Фамилия, имя и отчество').fill('Сидорова Анна Павловна');
  await page.getByLabel('Мобильный телефон пациента').fill(patientPhone);
  await page.getByLabel('Адрес карантина').fill('Москва, ул. Тверская, д. 1');
  await page.getByLabel('Широта').fill(String(HOME.latitude));
  await page.getByLabel('Долгота').fill(String(HOME.longitude));
  await page.getByLabel('Радиус дома, м').fill('50');
  await page.getByRole('button', { name: 'Открыть дело' }).click();
  const code = (await page.locator('#enrollment-code').textContent()).trim();
  assert.match(code, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  if (check) await assertAccessible(page, 'case opened');
  const href = await page.getByRole('link', { name: 'Перейти к делу' }).getAttribute('href');
  return { id: href.split('/').pop(), code };
}

async function enrollPatient(page, code, { check = false } = {}) {
  await page.goto(`${server.base}/patient`);
  if (check) await assertAccessible(page, 'patient enrollment');
  await page.getByLabel('Код подключения').fill(code.toLowerCase());
  await page.getByLabel('Ваше фото').setInputFiles(PHOTO);
  await page.getByRole('button', { name: 'Подключить', exact: true }).click();
  await page.getByRole('heading', { name: 'Мой карантин' }).waitFor();
}

/** Draws a check-in for `caseId` that is open now (the scheduler would, in daytime). */
function drawCheckinNow(caseId) {
  const id = crypto.randomUUID();
  const now = Math.floor(Date.now() / 1000);
  sql(`INSERT INTO monitoring_challenges (id, case_id, issued_at, deadline) VALUES ('${id}', '${caseId}', ${now - 60}, ${now + 19 * 60})`);
  return id;
}

test('an officer opens a case; the patient connects and answers a check-in with camera and location', async () => {
  const desk = await deskContext();
  const officer = await desk.newPage();
  await watchCsp(officer);
  await signInOfficer(officer, 'officer-a', { check: true });
  await assertAccessible(officer, 'empty queue');
  const { id, code } = await openCase(officer, randomPhone(), { check: true });

  const phone = await phoneContext(browser, { geolocation: { ...HOME, accuracy: 15 }, permissions: ['geolocation'] });
  const patient = await phone.newPage();
  await watchCsp(patient);
  await enrollPatient(patient, code, { check: true });
  await assertAccessible(patient, 'patient home');
  const cookie = (await phone.cookies()).find((c) => c.name === 'propusk_device');
  assert.ok(cookie.httpOnly, 'the device token is out of reach of scripts');

  drawCheckinNow(id);
  await patient.reload();
  await patient.getByRole('button', { name: 'Ответить' }).click();
  await patient.getByRole('heading', { name: 'Проверка' }).waitFor();
  await assertAccessible(patient, 'check-in form');
  await patient.getByRole('button', { name: 'Определить местоположение' }).click();
  await patient.getByText('Место определено, точность ±15 м.').waitFor();
  assert.equal(await patient.getByLabel('Широта').inputValue(), '55.757500');
  await patient.getByLabel('Фото лица сейчас').setInputFiles(PHOTO);
  await screenshot(patient, 'patient-checkin', { fullPage: true });
  await patient.getByRole('button', { name: 'Отправить ответ' }).click();
  await patient.getByRole('heading', { name: 'Ответ принят' }).waitFor();
  await assertAccessible(patient, 'check-in answered');

  // The officer compares the answer with the enrollment photo, side by side.
  await officer.goto(`${server.base}/health/cases/${id}`);
  const photos = officer.locator('.compare img');
  await photos.first().waitFor();
  assert.equal(await photos.count(), 2);
  for (const img of await photos.all()) {
    assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth > 0), 'both photos load');
  }
  assert.match(await officer.locator('table.data').textContent(), /0 м от дома, точность ±15 м/);
  await assertAccessible(officer, 'case with check-ins');
  await screenshot(officer, 'health-case', { fullPage: true });

  // Loaner phones: add one and see it in stock.
  await officer.getByRole('link', { name: 'Телефоны' }).click();
  await officer.getByLabel('Серийный номер').fill('SN-0001');
  await officer.getByRole('button', { name: 'Добавить телефон' }).click();
  await officer.locator('#loaner-SN-0001').getByText('На складе').waitFor();
  await assertAccessible(officer, 'loaners');

  assert.deepEqual(await cspViolations(officer), [], 'officer pages keep to the CSP');
  assert.deepEqual(await cspViolations(patient), [], 'patient pages keep to the CSP');
  await desk.close();
  await phone.close();
});

/** What a phone that buffered its reports uploads: home, 40 minutes 600 m away, home. */
function tripAnHourAgo() {
  const now = Date.now();
  return Array.from({ length: 50 }, (_, i) => {
    const k = i + 1;
    const at = new Date(now - (102 - 2 * k) * 60_000);
    const jitter = (k % 5) * 7;
    const north = k >= 16 && k < 36 ? 600 + jitter : 10 - jitter;
    return {
      ts: at.toISOString(),
      lat: HOME.latitude + north / 111_320,
      lon: HOME.longitude,
      accuracy_m: k >= 16 && k < 36 ? 10 + (k % 3) : 20,
    };
  });
}

test('a flag is confirmed with a fine, appealed by the patient and decided by a second officer', async () => {
  const deskA = await deskContext();
  const first = await deskA.newPage();
  await watchCsp(first);
  await signInOfficer(first, 'officer-a');
  const { id, code } = await openCase(first, randomPhone());
  const phone = await phoneContext(browser);
  const patient = await phone.newPage();
  await enrollPatient(patient, code);

  // The phone uploads what it buffered (through the API, as the app would).
  sql(`UPDATE monitoring_cases SET starts_at = starts_at - 7200, monitoring_since = monitoring_since - 7200 WHERE id = '${id}'`);
  const token = (await phone.cookies()).find((c) => c.name === 'propusk_device').value;
  const upload = await new Api(server.base).post('/api/v1/device/locations', tripAnHourAgo(), token);
  assert.equal(upload.status, 202, upload.text);

  // Once the patient's SMS is out the flag is in the queue with its evidence.
  await first.goto(`${server.base}/health/queue`);
  await first.getByRole('link', { name: /Вне дома: Сидорова/ }).waitFor();
  for (let i = 0; i < 100 && !(await first.getByText('Ждёт решения врача').count()); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    await first.reload();
  }
  assert.match(await first.locator('.card').first().textContent(), /Геопозиций явно вне дома: 20/);
  await assertAccessible(first, 'queue with a flag');
  await screenshot(first, 'health-queue', { fullPage: true });
  await first.getByRole('link', { name: 'Открыть и решить' }).click();
  await assertAccessible(first, 'flag with decision forms');

  // A confirmation without its reason comes back with the message, then goes through.
  await first.getByLabel('Штраф', { exact: true }).check();
  await first.getByLabel('Сумма штрафа, ₽').fill('4000');
  await first.getByRole('button', { name: 'Подтвердить с мерой' }).click();
  await first.locator('.error-summary').getByText('Укажите основание: почему вы так решили.').waitFor();
  await assertAccessible(first, 'decision refused');
  await first.getByLabel('Основание', { exact: true }).fill('40 минут в 600 м, объяснений нет');
  await first.getByRole('button', { name: 'Подтвердить с мерой' }).click();
  await first.getByRole('heading', { name: 'Проверьте решение перед отправкой' }).waitFor();
  await first.getByRole('button', { name: 'Назначить меру и отправить SMS' }).click();
  await first.getByText('Подтверждён, назначена мера').first().waitFor();

  // The patient sees the fine and appeals.
  await patient.reload();
  await patient.getByText('Штраф 4000 ₽').waitFor();
  await assertAccessible(patient, 'patient with a fine');
  await patient.getByLabel('Обжаловать: ваше объяснение').fill('Возил ребёнка в травмпункт, справка есть');
  await patient.getByRole('button', { name: 'Отправить жалобу' }).click();
  await patient.getByText('Обжалована, ждёт решения другого врача').waitFor();

  // The first officer may not decide it: no form, the page says who decides instead.
  await first.getByRole('link', { name: 'Жалобы' }).click();
  await assertAccessible(first, 'appeals');
  await first.getByRole('link', { name: 'Открыть и решить' }).click();
  await first.getByText('Эту меру назначили вы, поэтому жалобу рассматривает другой врач').waitFor();
  assert.equal(await first.getByLabel(/Нет, отклонить/).count(), 0, 'no appeal form for the decider');
  await assertAccessible(first, 'appeal of my own sanction');

  const deskB = await deskContext();
  const second = await deskB.newPage();
  await signInOfficer(second, 'officer-b');
  await second.getByRole('link', { name: 'Жалобы' }).click();
  await second.getByRole('link', { name: 'Открыть и решить' }).click();
  await second.getByLabel(/Да, удовлетворить/).check();
  await second.getByLabel('Основание решения').fill('справка из травмпункта подтверждает');
  await second.getByRole('button', { name: 'Принять решение' }).click();
  await second.getByRole('button', { name: 'Принять решение по жалобе и отправить SMS' }).click();
  await second.getByText('Жалоба удовлетворена, мера отменена').first().waitFor();
  await patient.reload();
  await patient.getByText('Жалоба удовлетворена, мера отменена').waitFor();

  assert.deepEqual(await cspViolations(first), []);
  await deskA.close();
  await deskB.close();
  await phone.close();
});

test('with JavaScript disabled: open a case, connect, answer a check-in by typing the location', async () => {
  const desk = await deskContext({ javaScriptEnabled: false });
  const officer = await desk.newPage();
  await signInOfficer(officer, 'officer-b');
  const { id, code } = await openCase(officer, randomPhone());
  const phone = await phoneContext(browser, { javaScriptEnabled: false });
  const patient = await phone.newPage();
  await enrollPatient(patient, code);
  drawCheckinNow(id);
  await patient.reload();
  await patient.getByRole('button', { name: 'Ответить' }).click();
  assert.equal(await patient.getByRole('button', { name: 'Определить местоположение' }).count(), 0, 'no locate button without JS');

  // Sending without a photo and a place is refused with both problems named.
  await patient.getByRole('button', { name: 'Отправить ответ' }).click();
  const summary = patient.locator('.error-summary');
  await summary.waitFor();
  assert.match(await summary.textContent(), /Сделайте фото/);
  assert.match(await summary.textContent(), /Укажите место/);
  await patient.getByLabel('Фото лица сейчас').setInputFiles(PHOTO);
  await patient.getByLabel('Широта').fill('55,7575');
  await patient.getByLabel('Долгота').fill('37.6130');
  await patient.getByRole('button', { name: 'Отправить ответ' }).click();
  await patient.getByRole('heading', { name: 'Ответ принят' }).waitFor();

  // A typed location counts as imprecise for the officer.
  await officer.goto(`${server.base}/health/cases/${id}`);
  assert.match(await officer.locator('table.data').textContent(), /точность ±1000 м/);
  await officer.getByRole('button', { name: 'Прекратить наблюдение' }).click();
  await officer.getByText('Наблюдение окончено').first().waitFor();
  await officer.getByRole('button', { name: 'Выйти' }).click();
  await officer.waitForURL(/\/health\/sign-in$/);
  await desk.close();
  await phone.close();
});

test('the officer and patient pages in English', async () => {
  const context = await deskContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/health/sign-in`);
  await page.getByRole('link', { name: 'English' }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.getByLabel('Username').fill('officer-a');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Flags to decide' }).waitFor();
  await page.getByRole('link', { name: 'Cases', exact: true }).click();
  await page.getByRole('heading', { name: 'Cases' }).waitFor();
  await assertAccessible(page, 'cases (en)');
  await page.goto(`${server.base}/patient`);
  await page.getByRole('heading', { name: 'Connect your phone' }).waitFor();
  await assertAccessible(page, 'patient enrollment (en)');
  await context.close();
});
