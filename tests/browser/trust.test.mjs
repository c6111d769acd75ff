// The trust pages (help, privacy notice, accessibility statement) in a real browser: every
// page of every audience links them from its footer, they render in Russian and English with
// JavaScript on and off, switching the language stays on the page, axe finds no serious or
// critical problem, and a mistyped address is an HTML page (with the footer), not JSON. The
// server is started with the operator's details as flags, and the help page shows them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from './lib/server.mjs';
import { axeViolations, cspViolations, launchChromium, phoneContext, watchCsp } from './lib/browser.mjs';
import { randomPhone } from './lib/api.mjs';
import { residentSession } from './lib/pages.mjs';

const PASSWORD = 'correct horse battery staple';
const SMS_NUMBER = '0911';
const HOTLINE = '+7 495 123-45-67';
const EMAIL = 'help@city.example.org';

const TEXTS = {
  ru: {
    footer: { '/help': 'Помощь и контакты', '/privacy': 'Конфиденциальность', '/accessibility': 'Доступность' },
    headings: { '/help': 'Помощь', '/privacy': 'Конфиденциальность', '/accessibility': 'Доступность' },
    notFound: 'Страница не найдена',
    switchTo: 'English',
  },
  en: {
    footer: { '/help': 'Help and contact', '/privacy': 'Privacy', '/accessibility': 'Accessibility' },
    headings: { '/help': 'Help', '/privacy': 'Privacy notice', '/accessibility': 'Accessibility statement' },
    notFound: 'Page not found',
    switchTo: 'Русский',
  },
};

/** Pages of every audience, each to link the trust pages from its footer. */
const VISITED = [
  { path: '/' },
  { path: '/sign-in' },
  { path: '/passes', resident: true },
  { path: '/profile', resident: true },
  { path: '/health/sign-in' },
  { path: '/patient' },
  { path: '/help' },
  { path: '/privacy' },
  { path: '/accessibility' },
  { path: '/no-such-page', status: 404 },
  { path: '/health/no-such-page', status: 404 },
  { path: '/patient/no-such-page', status: 404 },
];

let server;
let browser;

before(async () => {
  server = await startServer({
    extraArgs: ['--sms-number', SMS_NUMBER, '--hotline', HOTLINE, '--contact-email', EMAIL],
  });
  server.addStaff('health', 'trust-officer', PASSWORD);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function assertFooter(page, lang, what) {
  const footer = page.locator('footer');
  for (const [href, name] of Object.entries(TEXTS[lang].footer)) {
    const link = footer.getByRole('link', { name, exact: true });
    assert.equal(await link.count(), 1, `${what}: the footer has no link "${name}"`);
    assert.equal(await link.getAttribute('href'), href, `${what}: "${name}"`);
  }
}

for (const lang of ['ru', 'en']) {
  for (const js of [true, false]) {
    test(`trust pages, ${lang}, JavaScript ${js ? 'on' : 'off'}`, async () => {
      const context = await phoneContext(browser, { javaScriptEnabled: js });
      const page = await context.newPage();
      if (js) await watchCsp(page);

      // The language is chosen on a trust page, and the switch comes back to it.
      await page.goto(`${server.base}/privacy`);
      if (lang === 'en') await page.getByRole('link', { name: 'English' }).click();
      await page.waitForURL(/\/privacy$/);
      assert.equal(await page.getAttribute('html', 'lang'), lang);

      await residentSession(server, context);
      for (const v of VISITED) {
        const response = await page.goto(`${server.base}${v.path}`);
        assert.equal(response.status(), v.status ?? 200, v.path);
        assert.match(response.headers()['content-type'], /^text\/html/, v.path);
        assert.equal(await page.getAttribute('html', 'lang'), lang, v.path);
        await assertFooter(page, lang, v.path);
        if (v.status === 404) {
          await page.getByRole('heading', { level: 1, name: TEXTS[lang].notFound }).waitFor();
        }
      }

      // Each trust page from the footer of the start page: its heading, the footer marking it.
      for (const [href, name] of Object.entries(TEXTS[lang].footer)) {
        await page.goto(`${server.base}/`);
        await page.locator('footer').getByRole('link', { name, exact: true }).click();
        await page.waitForURL(new RegExp(`${href}$`));
        await page.getByRole('heading', { level: 1, name: TEXTS[lang].headings[href], exact: true }).waitFor();
        assert.equal(await page.locator('footer [aria-current="page"]').getAttribute('href'), href);
        if (js) {
          const violations = await axeViolations(page);
          assert.deepEqual(violations, [], `${href} (${lang}): ${JSON.stringify(violations, null, 2)}`);
        }
      }

      // Help: the configured SMS number, hotline and address, with links phones act on.
      await page.goto(`${server.base}/help`);
      const sms = page.locator('.sms-number a');
      assert.equal((await sms.textContent()).trim(), SMS_NUMBER);
      assert.equal(await sms.getAttribute('href'), `sms:${SMS_NUMBER}`);
      assert.equal(await page.getByRole('link', { name: HOTLINE }).getAttribute('href'), 'tel:+74951234567');
      assert.equal(await page.getByRole('link', { name: EMAIL }).getAttribute('href'), `mailto:${EMAIL}`);
      assert.match(await page.locator('main').textContent(), lang === 'ru' ? /ПРОПУСК 1/ : /PASS 1/);

      // The privacy notice states the retention the service applies (30 days by default).
      await page.goto(`${server.base}/privacy`);
      assert.match(await page.locator('main').textContent(), lang === 'ru' ? /через 30 дней после дня/ : /30 days after the day/);

      if (js) assert.deepEqual(await cspViolations(page), [], 'no Content-Security-Policy violation');
      await context.close();
    });
  }
}

test('with a keyboard only: skip to the content, sign in, reach the footer', async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { text: el.textContent.trim(), href: el.getAttribute('href'), outline: `${style.outlineStyle} ${style.outlineWidth}` };
  });
  await page.keyboard.press('Tab');
  let now = await focused();
  assert.equal(now.href, '#main', 'the first stop is the skip link');
  assert.equal(now.outline, 'solid 3px', 'focus is visible');
  // Tab on to the start button and follow it.
  for (let i = 0; i < 10 && !/Начать/.test(now.text); i += 1) {
    await page.keyboard.press('Tab');
    now = await focused();
  }
  assert.match(now.text, /Начать/);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/sign-in$/);
  const phone = randomPhone();
  for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement.id)) !== 'phone'; i += 1) {
    await page.keyboard.press('Tab');
  }
  await page.keyboard.type(phone);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/sign-in\/code/);
  const code = await server.codeFor(phone);
  for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement.id)) !== 'code'; i += 1) {
    await page.keyboard.press('Tab');
  }
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/profile$/);
  // The footer's links are reached by Tab too, after the page's own controls.
  const stops = [];
  for (let i = 0; i < 40; i += 1) {
    await page.keyboard.press('Tab');
    const href = await page.evaluate(() => document.activeElement.getAttribute('href'));
    if (href) stops.push(href);
    if (href === '/accessibility') break;
  }
  assert.deepEqual(stops.slice(-3), ['/help', '/privacy', '/accessibility'], stops.join(' '));
  await context.close();
});

test('the officer\'s pages link the trust pages too', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ru-RU' });
  const page = await context.newPage();
  await page.goto(`${server.base}/health/sign-in`);
  await page.getByLabel(/Имя пользователя|Username/).fill('trust-officer');
  await page.getByLabel(/Пароль|Password/).fill(PASSWORD);
  await page.getByRole('button', { name: /Войти|Sign in/ }).click();
  await page.waitForURL(/\/health\/queue$/);
  for (const path of ['/health/queue', '/health/appeals', '/health/cases', '/health/cases/new', '/health/loaners']) {
    await page.goto(`${server.base}${path}`);
    await assertFooter(page, 'ru', path);
  }
  await context.close();
});
