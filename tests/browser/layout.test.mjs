// Layout on every page a resident, an officer and a patient can reach: nothing scrolls
// sideways at 320 CSS px (a small phone) nor at 195 CSS px (a 390 px phone zoomed to 200 %),
// and on a desk the header's content lines up with the page's.
//
// The pages are one list, PAGES: add a page there (who sees it and its address) and both
// checks cover it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from './lib/server.mjs';
import { launchChromium } from './lib/browser.mjs';
import { officerSession, patientSession, residentSession } from './lib/pages.mjs';

const PASSWORD = 'correct horse battery staple';
const WIDTHS = [320, 195];

/**
 * Every page, as { name, as, path, status?, reach? }: `as` is whose browser opens it
 * (anonymous, resident, officer, patient); `path` a string or a function of what the
 * sessions made ({ resident, officer, patient }); `reach`, for a page that a form leads to,
 * what to do on `path` to get there.
 */
const PAGES = [
  { name: 'start', as: 'anonymous', path: '/' },
  { name: 'sign-in: phone', as: 'anonymous', path: '/sign-in' },
  { name: 'sign-in: code', as: 'anonymous', path: (s) => s.resident.codePath },
  { name: 'profile', as: 'resident', path: '/profile' },
  { name: 'passes', as: 'resident', path: '/passes' },
  { name: 'new pass: purpose', as: 'resident', path: '/passes/new' },
  { name: 'new pass: details', as: 'resident', path: '/passes/new/details?purpose=shopping' },
  { name: 'new pass: details with a field', as: 'resident', path: '/passes/new/details?purpose=work' },
  { name: 'pass', as: 'resident', path: (s) => `/passes/${s.resident.passId}` },
  {
    name: 'new pass: check answers',
    as: 'resident',
    path: '/passes/new/details?purpose=shopping',
    reach: async (page) => {
      await page.locator('#when-now').check();
      await page.locator('main form button[type=submit]').last().click();
      await page.locator('.check-answers').waitFor();
    },
  },
  {
    name: 'new pass: details with every error',
    as: 'resident',
    path: '/passes/new/details?purpose=work',
    reach: async (page) => {
      await page.locator('#when-later').check();
      await page.locator('main form button[type=submit]').last().click();
      await page.locator('.error-summary').waitFor();
    },
  },
  {
    name: 'profile with every error',
    as: 'resident',
    path: '/profile',
    reach: async (page) => {
      await page.evaluate(() => {
        for (const input of document.querySelectorAll('main form input[type=text], main form input:not([type])')) input.value = '';
      });
      await page.locator('main form button[type=submit]').last().click();
      await page.locator('.error-summary').waitFor();
    },
  },
  { name: 'pass: print', as: 'resident', path: (s) => `/passes/${s.resident.passId}/print` },
  { name: 'pass: cancel check', as: 'resident', path: (s) => `/passes/${s.resident.passId}/cancel` },
  { name: 'officer: sign-in', as: 'anonymous', path: '/health/sign-in' },
  { name: 'officer: queue', as: 'officer', path: '/health/queue' },
  { name: 'officer: appeals', as: 'officer', path: '/health/appeals' },
  { name: 'officer: cases', as: 'officer', path: '/health/cases' },
  { name: 'officer: new case', as: 'officer', path: '/health/cases/new' },
  { name: 'officer: case', as: 'officer', path: (s) => `/health/cases/${s.officer.caseId}` },
  { name: 'officer: flag', as: 'officer', path: (s) => `/health/flags/${s.officer.flagId}` },
  { name: 'officer: loaners', as: 'officer', path: '/health/loaners' },
  { name: 'staff accounts', as: 'admin', path: '/health/staff' },
  {
    name: 'staff accounts with every error',
    as: 'admin',
    path: '/health/staff',
    reach: async (page) => {
      await page.locator('main form button[type=submit]').last().click();
      await page.locator('.error-summary').waitFor();
    },
  },
  { name: 'setup link no longer working', as: 'anonymous', path: '/setup/no-such-link', status: 404 },
  { name: 'patient: enrollment', as: 'anonymous', path: '/patient' },
  { name: 'patient: home', as: 'patient', path: '/patient' },
  { name: 'patient: check-in', as: 'patient', path: (s) => `/patient/checkins/${s.patient.challengeId}` },
  { name: 'help', as: 'anonymous', path: '/help' },
  { name: 'privacy', as: 'anonymous', path: '/privacy' },
  { name: 'accessibility', as: 'anonymous', path: '/accessibility' },
  { name: 'help, signed in', as: 'resident', path: '/help' },
  { name: 'not found', as: 'anonymous', path: '/no-such-page', status: 404 },
  { name: 'officer: not found', as: 'officer', path: '/health/no-such-page', status: 404 },
];

let server;
let browser;
const contexts = {};
const sessions = {};

before(async () => {
  server = await startServer();
  server.addStaff('health', 'layout-officer', PASSWORD);
  server.addStaff('admin', 'layout-admin', PASSWORD);
  browser = await launchChromium();
  // A desktop browser zoomed in has the same CSS width as a phone; no mobile viewport tricks.
  for (const who of ['anonymous', 'resident', 'officer', 'patient', 'admin']) {
    contexts[who] = await browser.newContext({ viewport: { width: 320, height: 640 }, locale: 'ru-RU', timezoneId: 'Europe/Moscow' });
  }
  sessions.resident = await residentSession(server, contexts.resident);
  sessions.officer = await officerSession(server, contexts.officer, 'layout-officer', PASSWORD);
  sessions.patient = await patientSession(server, contexts.patient, sessions.officer.token);
  // An administrator signs in on the officers' form and lands on the staff accounts.
  const admin = await contexts.admin.newPage();
  await admin.goto(`${server.base}/health/sign-in`);
  await admin.getByLabel('Имя пользователя').fill('layout-admin');
  await admin.getByLabel('Пароль').fill(PASSWORD);
  await admin.getByRole('button', { name: 'Войти' }).click();
  await admin.waitForURL(/\/health\/staff$/);
  await admin.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const pathOf = (p) => (typeof p.path === 'function' ? p.path(sessions) : p.path);

async function open(p, lang) {
  const page = await contexts[p.as].newPage();
  const response = await page.goto(`${server.base}${pathOf(p)}`, { waitUntil: 'load' });
  assert.equal(response.status(), p.status ?? 200, `${p.name} (${pathOf(p)}) answered ${response.status()}`);
  if (p.reach) await p.reach(page, sessions);
  if (lang) assert.equal(await page.getAttribute('html', 'lang'), lang);
  return page;
}

for (const lang of ['ru', 'en']) {
  test(`no page scrolls sideways at ${WIDTHS.join(' or ')} CSS px (${lang})`, async () => {
    for (const context of Object.values(contexts)) {
      const url = new URL(server.base);
      await context.addCookies([{ name: 'propusk_lang', value: lang, domain: url.hostname, path: '/' }]);
    }
    const failures = [];
    for (const p of PAGES) {
      const page = await open(p, lang);
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 640 });
        const { scroll, client, widest } = await page.evaluate(() => {
          const root = document.documentElement;
          // The element reaching furthest right outside any box that scrolls by itself
          // (a wide table in its frame), to name in a failure.
          const clipped = (el) => {
            for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
              if (getComputedStyle(a).overflowX !== 'visible') return true;
            }
            return false;
          };
          let widest = '';
          let right = root.clientWidth;
          for (const el of document.body.querySelectorAll('*')) {
            const r = el.getBoundingClientRect().right;
            if (r > right + 0.5 && !clipped(el)) {
              right = r;
              const classes = typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
              widest = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${classes} "${(el.textContent || '').trim().slice(0, 40)}" (right edge ${Math.round(r)}px)`;
            }
          }
          return { scroll: root.scrollWidth, client: root.clientWidth, widest };
        });
        if (scroll > client) failures.push(`${p.name} (${pathOf(p)}) at ${width}px: scrollWidth ${scroll} > clientWidth ${client}; widest: ${widest}`);
      }
      await page.close();
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  });
}

test('every page has one main heading and the header, content and footer regions', async () => {
  const failures = [];
  for (const p of PAGES.filter((page) => page.name !== 'pass: print')) {
    const page = await open(p);
    const found = await page.evaluate(() => ({
      h1: document.querySelectorAll('h1').length,
      header: document.querySelectorAll('body > header').length,
      main: document.querySelectorAll('main#main').length,
      footer: document.querySelectorAll('body > footer').length,
      skip: document.querySelector('a.skip')?.getAttribute('href'),
    }));
    const expected = { h1: 1, header: 1, main: 1, footer: 1, skip: '#main' };
    if (JSON.stringify(found) !== JSON.stringify(expected)) failures.push(`${p.name}: ${JSON.stringify(found)}`);
    await page.close();
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});

test('on a desk, the header lines up with the page content', async () => {
  const failures = [];
  for (const p of PAGES.filter((page) => page.name !== 'pass: print')) {
    const page = await open(p);
    await page.setViewportSize({ width: 1280, height: 900 });
    const edges = await page.evaluate(() => ({
      brand: document.querySelector('.top .brand').getBoundingClientRect().left,
      heading: document.querySelector('main h1').getBoundingClientRect().left,
      nav: document.querySelector('.top-nav').getBoundingClientRect().right,
      main: document.querySelector('main').getBoundingClientRect().right - parseFloat(getComputedStyle(document.querySelector('main')).paddingRight),
    }));
    if (Math.abs(edges.brand - edges.heading) > 1) failures.push(`${p.name}: the header starts at ${edges.brand}px, the heading at ${edges.heading}px`);
    if (Math.abs(edges.nav - edges.main) > 1) failures.push(`${p.name}: the header ends at ${edges.nav}px, the content at ${edges.main}px`);
    await page.close();
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});
