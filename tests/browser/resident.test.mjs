// The resident portal in a real browser (Debian's Chromium driven by Playwright):
// a person with only a phone signs in, fills the profile, gets a pass and shows
// it — in Russian and in English, with JavaScript on and off — and every page
// passes an axe-core scan with no serious or critical violation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startServer, REPO } from './lib/server.mjs';
import { randomPhone } from './lib/api.mjs';
import { axeViolations, cspViolations, launchChromium, phoneContext, screenshot, watchCsp } from './lib/browser.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Fails with the list of serious/critical accessibility problems of the page. */
async function assertAccessible(page, what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
}

/** At 320 CSS px (a phone at 200 % zoom) nothing scrolls sideways. */
async function assertNoSidewaysScroll(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${what} scrolls sideways by ${overflow}px`);
}

async function signIn(page, phone, { check = true } = {}) {
  await page.goto(`${server.base}/`);
  if (check) await assertAccessible(page, 'start page');
  await page.getByRole('button', { name: /Начать|Start now/ }).click();
  await page.getByLabel(/номер мобильного|mobile phone/i).fill(phone);
  if (check) await assertAccessible(page, 'phone page');
  await page.getByRole('button', { name: /Продолжить|Continue/ }).click();
  const code = await server.codeFor(phone);
  await page.getByLabel(/код из SMS|code from the SMS/i).fill(code);
  if (check) await assertAccessible(page, 'code page');
  await page.getByRole('button', { name: /Продолжить|Continue/ }).click();
}

async function fillProfile(page, { check = true } = {}) {
  await page.waitForURL(/\/profile$/);
  if (check) await assertAccessible(page, 'profile page');
  await page.getByLabel(/Фамилия, имя и отчество|Full name/).fill('Иванова Мария Петровна');
  await page.getByLabel(/Серия и номер документа|Document number/).fill('4510 123456');
  await page.getByLabel(/Адрес, где вы живёте|Home address/).fill('Москва, ул. Тверская, д. 1');
  await page.getByLabel(/Широта|Latitude/).fill('55.7575');
  await page.getByLabel(/Долгота|Longitude/).fill('37.6130');
  await page.getByRole('button', { name: /Сохранить|Save/ }).click();
  await page.waitForURL(/\/passes$/);
}

async function getPass(page, purposeLabel, { check = true } = {}) {
  await page.getByRole('button', { name: /Получить пропуск|Get a pass/ }).click();
  if (check) await assertAccessible(page, 'purpose page');
  await page.getByLabel(purposeLabel).check();
  await page.getByRole('button', { name: /Продолжить|Continue/ }).click();
  if (check) await assertAccessible(page, 'details page');
  await page.getByRole('button', { name: /Получить пропуск|Get the pass/ }).click();
  await page.waitForURL(/\/passes\/[0-9a-f-]{36}$/);
}

test('a resident signs in, gets a pass and shows its QR code (Russian, JavaScript on)', async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  await watchCsp(page);
  await signIn(page, randomPhone());
  await fillProfile(page);
  await getPass(page, 'Поход в продуктовый магазин или аптеку');

  const qr = page.getByRole('img', { name: /QR-код пропуска/ });
  await qr.waitFor();
  const size = await qr.evaluate((img) => ({ natural: img.naturalWidth, shown: img.getBoundingClientRect().width }));
  assert.ok(size.natural > 0, 'the QR image loaded');
  assert.ok(size.shown >= 300, `the QR code is large enough to scan from a screen (${size.shown}px)`);
  const shortCode = await page.locator('.code.big').textContent();
  assert.match(shortCode, /^[0-9A-Y]{3}-[0-9A-Y]{3}-[0-9A-Y]{3}$/);
  await page.locator('.countdown').filter({ hasText: /Осталось: \d+:\d\d:\d\d/ }).waitFor();
  await assertAccessible(page, 'pass page');
  const shot = await screenshot(page, 'resident-pass', { fullPage: true });
  fs.mkdirSync(path.join(REPO, 'docs/screenshots'), { recursive: true });
  fs.copyFileSync(shot, path.join(REPO, 'docs/screenshots/resident-pass.png'));

  await page.getByRole('link', { name: 'Мои пропуска' }).click();
  await assertAccessible(page, 'passes list');
  await screenshot(page, 'resident-passes');

  // The second shopping pass is fine, the third is refused with the reason and the next date.
  await getPass(page, 'Поход в продуктовый магазин или аптеку', { check: false });
  await page.getByRole('link', { name: 'Мои пропуска' }).click();
  await page.getByRole('button', { name: 'Получить пропуск' }).click();
  await page.getByLabel('Поход в продуктовый магазин или аптеку').check();
  await page.getByRole('button', { name: 'Продолжить' }).click();
  await page.getByRole('button', { name: 'Получить пропуск' }).click();
  const summary = page.locator('.error-summary');
  await summary.waitFor();
  assert.match(await summary.textContent(), /не более 2|2 пропуск/i);
  assert.match(await page.locator('.notice').textContent(), /Следующий пропуск можно получить с \d\d\.\d\d\.\d{4}/);
  await assertAccessible(page, 'refusal');
  await screenshot(page, 'resident-refused');

  // Cancel a pass.
  await page.goto(`${server.base}/passes`);
  await page.locator('.card a').first().click();
  await page.getByRole('button', { name: 'Отменить пропуск' }).click();
  await page.locator('.tag-cancelled').waitFor();

  assert.deepEqual(await cspViolations(page), [], 'no Content-Security-Policy violation');
  await context.close();
});

test('the same in English, and at 200 % zoom nothing scrolls sideways', async () => {
  const context = await phoneContext(browser, { viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  await page.getByRole('link', { name: 'English' }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await signIn(page, randomPhone());
  await fillProfile(page);
  await assertNoSidewaysScroll(page, 'passes list');
  await getPass(page, 'Walking a pet');
  assert.match(await page.locator('h1').textContent(), /pet/i);
  await assertNoSidewaysScroll(page, 'pass page');
  await page.getByRole('img', { name: /QR code/ }).waitFor();
  await assertAccessible(page, 'pass page (en)');
  await screenshot(page, 'resident-pass-en', { fullPage: true });
  await context.close();
});

test('every resident page works with JavaScript disabled', async () => {
  const context = await phoneContext(browser, { javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, randomPhone(), { check: false });
  await fillProfile(page, { check: false });
  await getPass(page, 'Вынос мусора', { check: false });
  await page.getByRole('img', { name: /QR-код пропуска/ }).waitFor();
  assert.match(await page.locator('.code.big').textContent(), /^[0-9A-Y]{3}-[0-9A-Y]{3}-[0-9A-Y]{3}$/);
  await page.getByRole('link', { name: 'Распечатать' }).click();
  await page.getByRole('img', { name: /QR-код пропуска/ }).waitFor();
  await page.goBack();
  await page.getByRole('button', { name: 'Отменить пропуск' }).click();
  await page.locator('.tag-cancelled').waitFor();
  await page.getByRole('button', { name: 'Выйти' }).click();
  await page.waitForURL(`${server.base}/`);
  await context.close();
});
