// The resident portal in a real browser (Debian's Chromium driven by Playwright):
// a person with only a phone signs in, fills the profile, sees how many passes are
// left, gets a pass after checking the answers, cancels one after a check, and is
// refused once with the time of the next possible pass — in Russian and English,
// with JavaScript on and off. Every page passes an axe-core scan with no serious or
// critical violation (axe runs where JavaScript does).
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

/** What each language says, as the pages word it. */
const WORDS = {
  ru: {
    start: 'Начать', continue: 'Продолжить', save: 'Сохранить', getPass: 'Получить пропуск',
    shopping: 'Поход в продуктовый магазин или аптеку', work: 'Поездка на работу', trash: 'Вынос мусора',
    now: 'Сейчас', later: 'В другое время', day: 'День', month: 'Месяц', year: 'Год', time: 'Время',
    inn: /ИНН работодателя/, checkTitle: /Проверьте/, confirm: 'Получить пропуск', issued: 'Пропуск получен',
    left: (n) => `можно ещё ${n} из 2`, cancel: 'Отменить пропуск', cancelConfirm: 'Да, отменить пропуск',
    notCounted: /не засчитан в лимит/, willNotCount: /не будет засчитан в лимит/, cancelled: 'Пропуск отменён', next: /Следующий пропуск с этой целью можно будет получить: [а-я]+, \d+ [а-я]+, \d\d:\d\d/,
    list: 'Мои пропуска', print: 'Распечатать', saveImage: 'Сохранить как картинку', signOut: 'Выйти', qr: /QR-код пропуска/,
  },
  en: {
    start: 'Start now', continue: 'Continue', save: 'Save', getPass: 'Get a pass',
    shopping: 'Trip to a grocery store or pharmacy', work: 'Travel to work', trash: 'Taking out the trash',
    now: 'Now', later: 'At another time', day: 'Day', month: 'Month', year: 'Year', time: 'Time',
    inn: /Employer.s INN/, checkTitle: /Check before/, confirm: 'Get the pass', issued: 'Your pass is ready',
    left: (n) => `${n} of 2 left`, cancel: 'Cancel this pass', cancelConfirm: 'Yes, cancel the pass',
    notCounted: /does not count against your limit/, willNotCount: /will not count against your limit/, cancelled: 'The pass is cancelled', next: /The next pass for this purpose will be possible: [A-Z][a-z]+ \d+ [A-Z][a-z]+, \d\d:\d\d/,
    list: 'My passes', print: 'Print', saveImage: 'Save as an image', signOut: 'Sign out', qr: /QR code/,
  },
};

/** Tomorrow on Moscow's clocks (the built-in regime's), as day, month, year. */
function tomorrowInMoscow() {
  const [year, month, day] = new Date(Date.now() + 24 * 3600 * 1000)
    .toLocaleDateString('en-CA', { timeZone: 'Europe/Moscow' }).split('-');
  return { day: String(Number(day)), month: String(Number(month)), year };
}

function scenario(lang, js) {
  const w = WORDS[lang];
  const label = `${lang}, JavaScript ${js ? 'on' : 'off'}`;

  async function accessible(page, what) {
    if (!js) return; // axe runs inside the page
    const violations = await axeViolations(page);
    assert.deepEqual(violations, [], `${what} (${label}): ${JSON.stringify(violations, null, 2)}`);
  }

  /** At 320 CSS px and at 200 % zoom of a 390 px phone (195 px) nothing scrolls sideways
   * (the pages tests/browser/layout.test.mjs cannot reach without this flow's state). */
  async function noSidewaysScroll(page, what) {
    const size = page.viewportSize();
    for (const width of [320, 195]) {
      await page.setViewportSize({ width, height: 640 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${what} scrolls sideways by ${overflow}px at ${width}px (${label})`);
    }
    await page.setViewportSize(size);
  }

  async function pickPurpose(page, purpose) {
    await page.goto(`${server.base}/passes/new`);
    await page.getByLabel(purpose, { exact: true }).check();
    await page.getByRole('button', { name: w.continue }).click();
    await page.waitForURL(/\/passes\/new\/details/);
  }

  /** From the details page: now, check, confirm. */
  async function passNow(page, purpose) {
    await pickPurpose(page, purpose);
    await page.getByLabel(w.now, { exact: true }).check();
    await page.getByRole('button', { name: w.continue }).click();
    await page.getByRole('heading', { name: w.checkTitle }).waitFor();
    await page.getByRole('button', { name: w.confirm }).click();
    await page.waitForURL(/\/passes\/[0-9a-f-]{36}\?done=issued$/);
  }

  return async () => {
    const context = await phoneContext(browser, { javaScriptEnabled: js });
    const page = await context.newPage();
    if (js) await watchCsp(page);

    // Sign in and fill the profile.
    await page.goto(`${server.base}/`);
    if (lang === 'en') await page.getByRole('link', { name: 'English' }).click();
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    await accessible(page, 'start page');
    await page.getByRole('button', { name: w.start }).click();
    const phone = randomPhone();
    await page.getByLabel(/номер мобильного|mobile phone/i).fill(phone);
    await page.getByRole('button', { name: w.continue }).click();
    await page.getByLabel(/код из SMS|code from the SMS/i).fill(await server.codeFor(phone));
    await page.getByRole('button', { name: w.continue }).click();
    await page.waitForURL(/\/profile$/);
    await page.getByLabel(/Фамилия, имя и отчество|Full name/).fill('Иванова Мария Петровна');
    await page.getByLabel(/Серия и номер документа|Document number/).fill('12');
    await page.getByRole('button', { name: w.save }).click();
    // The profile's errors: in the summary and at each field.
    await page.locator('.error-summary').waitFor();
    assert.ok(await page.locator('#doc_number-error').isVisible(), `document error at its field (${label})`);
    assert.match(await page.locator('#doc_number').getAttribute('class'), /input-error/);
    await accessible(page, 'profile with errors');
    await page.getByLabel(/Серия и номер документа|Document number/).fill('4510 123456');
    await page.getByLabel(/Адрес, где вы живёте|Home address/).fill('Москва, ул. Тверская, д. 1');
    await page.getByLabel(/Широта|Latitude/).fill('55.7575');
    await page.getByLabel(/Долгота|Longitude/).fill('37.6130');
    await page.getByRole('button', { name: w.save }).click();
    await page.waitForURL(/\/passes$/);

    // The quota is shown before anyone asks.
    await page.getByRole('button', { name: w.getPass }).click();
    await page.getByText(w.left(2)).waitFor();
    await accessible(page, 'purpose page');

    // The details: every error at once, at its field.
    await page.getByLabel(w.work, { exact: true }).check();
    await page.getByRole('button', { name: w.continue }).click();
    await page.getByLabel(w.inn).fill('1234567890');
    await page.getByRole('button', { name: w.continue }).click();
    await page.locator('.error-summary').waitFor();
    assert.equal(await page.locator('.error-summary li').count(), 2, `both problems in the summary (${label})`);
    for (const id of ['when-now', 'employer_inn']) {
      assert.ok(await page.locator(`#${id}-error`).isVisible(), `${id} has its message at the field (${label})`);
    }
    await accessible(page, 'details with errors');

    // A shopping pass for tomorrow, through the check of the answers.
    await pickPurpose(page, w.shopping);
    await page.getByLabel(w.later, { exact: true }).check();
    const tomorrow = tomorrowInMoscow();
    await page.getByLabel(w.day, { exact: true }).fill(tomorrow.day);
    await page.getByLabel(w.month, { exact: true }).fill(tomorrow.month);
    await page.getByLabel(w.year, { exact: true }).fill(tomorrow.year);
    await page.getByLabel(w.time, { exact: true }).fill('10:00');
    await accessible(page, 'details page');
    await page.getByRole('button', { name: w.continue }).click();
    await page.getByRole('heading', { name: w.checkTitle }).waitFor();
    assert.match(await page.locator('.check-answers').textContent(), /10:00–13:00/);
    assert.match(await page.locator('.check-answers').textContent(), /И\.М\. 3456/);
    await accessible(page, 'check answers');
    const other = await context.newPage(); // nothing issued before the confirmation
    await other.goto(`${server.base}/passes`);
    await other.getByText(w.left(2)).waitFor();
    await other.close();
    await page.getByRole('button', { name: w.confirm }).click();
    await page.getByRole('heading', { name: w.issued }).waitFor();
    await page.getByRole('img', { name: w.qr }).waitFor();
    await accessible(page, 'pass page with its confirmation');
    await page.getByRole('link', { name: w.list }).click();
    await page.getByText(w.left(1)).waitFor();

    // Cancelled before its start: after a check, and it does not count.
    await page.locator('.card a').first().click();
    await page.getByRole('link', { name: w.cancel }).click();
    await page.getByText(w.willNotCount).waitFor();
    await accessible(page, 'cancel check');
    await page.getByRole('button', { name: w.cancelConfirm }).click();
    await page.getByRole('heading', { name: w.cancelled }).waitFor();
    await page.getByText(w.notCounted).waitFor();
    assert.equal(await page.locator('.code.big').count(), 0, 'no short code to read out');
    assert.equal(await page.getByRole('link', { name: w.print }).count(), 0, 'nothing to print');
    await noSidewaysScroll(page, 'cancelled pass');
    await page.getByRole('link', { name: w.list }).click();
    await page.getByText(w.left(2)).waitFor();

    // Two passes now; the third is refused once, with the next possible time, no form.
    await passNow(page, w.shopping);
    if (lang === 'ru' && js) {
      await page.locator('.countdown').filter({ hasText: /Осталось: \d+:\d\d:\d\d/ }).waitFor();
      const shot = await screenshot(page, 'resident-pass', { fullPage: true });
      fs.copyFileSync(shot, path.join(REPO, 'docs/screenshots/resident-pass.png'));
    }
    // "Save as an image": with JavaScript one picture with the details (800 px wide), without
    // it the QR code alone.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: w.saveImage }).click(),
    ]);
    const png = fs.readFileSync(await download.path());
    assert.equal(png.subarray(1, 4).toString(), 'PNG', 'a PNG image');
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    if (js) assert.ok(width === 800 && height > 1000, `the picture has room for the details (${width}×${height})`);
    else assert.equal(width, height, 'the QR code alone');
    await page.getByRole('link', { name: w.print }).click();
    await page.getByRole('img', { name: w.qr }).waitFor();
    await page.getByText('RU-MOW').waitFor();
    await accessible(page, 'print page');
    await passNow(page, w.shopping);
    await pickPurpose(page, w.shopping);
    await page.getByLabel(w.now, { exact: true }).check();
    await page.getByRole('button', { name: w.continue }).click();
    await page.getByText(w.next).waitFor();
    assert.equal(await page.locator('main form').count(), 0, `no form under a refusal (${label})`);
    assert.equal(await page.locator('.error-summary').count(), 0, 'the refusal is said once');
    await accessible(page, 'refusal');
    await noSidewaysScroll(page, 'refusal');
    if (lang === 'ru' && js) {
      const shot = await screenshot(page, 'resident-refused', { fullPage: true });
      fs.copyFileSync(shot, path.join(REPO, 'docs/screenshots/resident-refused.png'));
    }

    if (js) assert.deepEqual(await cspViolations(page), [], 'no Content-Security-Policy violation');
    await page.getByRole('button', { name: w.signOut }).click();
    await page.waitForURL(`${server.base}/`);
    await context.close();
  };
}

for (const lang of ['ru', 'en']) {
  for (const js of [true, false]) {
    test(`a resident checks, gets, cancels and is refused a pass (${lang}, JavaScript ${js ? 'on' : 'off'})`, scenario(lang, js));
  }
}
