// First-run setup and the staff accounts page in a real browser, in Russian and English, with
// JavaScript on and off: a new installation's one-time link (read from the startup log, never
// shown on a page) opens the form for the first administrator; every error is said at its
// field and in the summary; the link is dead once used; the administrator creates a health
// officer on the staff page, and the officer signs in with that password. axe finds no
// serious or critical issue on either page, with and without errors shown; no page breaks
// its Content-Security-Policy. (axe and the CSP watch run in the page, so with JavaScript on.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from './lib/server.mjs';
import { axeViolations, cspViolations, launchChromium, watchCsp } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';

const TEXT = {
  ru: {
    locale: 'ru-RU',
    username: 'Имя пользователя',
    password: 'Пароль',
    again: 'Пароль ещё раз',
    create: 'Создать администратора',
    usernameMissing: 'Введите имя пользователя.',
    passwordShort: 'Пароль должен быть не короче 10 знаков.',
    mismatch: 'Пароли не совпадают',
    summary: 'Есть проблема',
    done: 'Вы первый администратор службы',
    dead: 'Ссылка больше не действует',
    initial: 'Первоначальный пароль',
    health: 'Врач',
    admin: 'Администратор',
    add: 'Создать учётную запись',
    roleMissing: 'Выберите роль сотрудника.',
    added: 'Учётная запись «ivanova» создана',
    signIn: 'Войти',
  },
  en: {
    locale: 'en-GB',
    username: 'Username',
    password: 'Password',
    again: 'Password again',
    create: 'Create the administrator',
    usernameMissing: 'Enter a username.',
    passwordShort: 'The password must be at least 10 characters long.',
    mismatch: 'The passwords differ',
    summary: 'There is a problem',
    done: "You are the service's first administrator",
    dead: 'This link no longer works',
    initial: 'Initial password',
    health: 'Health officer',
    admin: 'Administrator',
    add: 'Create the account',
    roleMissing: "Choose the person's role.",
    added: 'The account “ivanova” is created',
    signIn: 'Sign in',
  },
};

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The setup link the server logged at start. */
async function setupLink(server) {
  for (let i = 0; i < 100; i++) {
    const link = server.log().match(/http:\/\/127\.0\.0\.1:\d+\/setup\/[A-Za-z0-9_-]+/)?.[0];
    if (link) return link;
    await sleep(50);
  }
  throw new Error(`no setup link in the log: ${server.log()}`);
}

/** axe runs inside the page, so only where JavaScript is on (the HTML is the same without). */
async function assertAccessible(page, what) {
  if (!(await page.context().__jsOn)) return;
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
}

/** The error message at input `id` says `text`, the input is marked, the summary links to it. */
async function assertErrorAt(page, id, text) {
  const message = page.locator(`#${id}-error`);
  assert.match(await message.textContent(), new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const describedBy = await page.locator(`#${id}`).getAttribute('aria-describedby') ?? '';
  const group = await page.locator(`fieldset:has(#${id})`).count();
  assert.ok(describedBy.includes(`${id}-error`) || group > 0, `${id} is described by its error`);
  assert.equal(await page.locator(`.error-summary a[href="#${id}"]`).count(), 1, `${id} in the summary`);
}

for (const lang of ['ru', 'en']) {
  for (const js of [true, false]) {
    test(`first administrator, then an officer on the staff page (${lang}, JavaScript ${js ? 'on' : 'off'})`, async () => {
      const t = TEXT[lang];
      const server = await startServer();
      const context = await browser.newContext({
        viewport: { width: 1280, height: 900 },
        locale: t.locale,
        timezoneId: 'Europe/Moscow',
        javaScriptEnabled: js,
      });
      context.__jsOn = js;
      try {
        const link = await setupLink(server);
        const page = await context.newPage();
        if (js) await watchCsp(page);

        // The setup page: every problem at once, each at its field; axe with and without errors.
        await page.goto(link);
        await assertAccessible(page, 'setup page');
        if (js) {
          // Nothing scrolls sideways on a narrow phone or at 200 % zoom (layout.test.mjs
          // cannot reach this page: its server has staff, so its link is dead).
          for (const width of [320, 195]) {
            await page.setViewportSize({ width, height: 640 });
            const { scroll, client } = await page.evaluate(() => ({
              scroll: document.documentElement.scrollWidth,
              client: document.documentElement.clientWidth,
            }));
            assert.ok(scroll <= client, `the setup page at ${width}px: ${scroll} > ${client}`);
          }
          await page.setViewportSize({ width: 1280, height: 900 });
        }
        await page.getByRole('button', { name: t.create }).click();
        await page.locator('.error-summary').waitFor();
        assert.match(await page.locator('.error-summary h2').textContent(), new RegExp(t.summary));
        await assertErrorAt(page, 'username', t.usernameMissing);
        await assertErrorAt(page, 'password', t.passwordShort);
        await assertAccessible(page, 'setup page with errors');
        await page.getByLabel(t.username, { exact: true }).fill('chief');
        await page.getByLabel(t.password, { exact: true }).fill(PASSWORD);
        await page.getByLabel(t.again, { exact: true }).fill('not the same password');
        await page.getByRole('button', { name: t.create }).click();
        await page.locator('#password_again-error').waitFor();
        await assertErrorAt(page, 'password_again', t.mismatch);
        assert.equal(await page.getByLabel(t.username, { exact: true }).inputValue(), 'chief', 'input kept');
        await page.getByLabel(t.password, { exact: true }).fill(PASSWORD);
        await page.getByLabel(t.again, { exact: true }).fill(PASSWORD);
        await page.getByRole('button', { name: t.create }).click();

        // Signed in as the administrator, on the staff page with a confirmation.
        await page.waitForURL(/\/health\/staff\?done=setup$/);
        assert.match(await page.locator('.panel-confirm').textContent(), new RegExp(t.done));
        assert.match(await page.locator('table.staff-accounts').textContent(), new RegExp(`chief\\s*${t.admin}`));
        await assertAccessible(page, 'staff page');

        // The link is dead now.
        const dead = await context.newPage();
        const answer = await dead.goto(link);
        assert.equal(answer.status(), 404);
        assert.match(await dead.locator('h1').textContent(), new RegExp(t.dead));
        await dead.close();

        // A new account: every problem at once, at its field.
        await page.getByRole('button', { name: t.add }).click();
        await page.locator('.error-summary').waitFor();
        await assertErrorAt(page, 'username', t.usernameMissing);
        await assertErrorAt(page, 'role-health', t.roleMissing);
        await assertErrorAt(page, 'password', t.passwordShort);
        await assertAccessible(page, 'staff page with errors');
        await page.getByLabel(t.username, { exact: true }).fill('ivanova');
        await page.getByLabel(t.health, { exact: true }).check();
        await page.getByLabel(t.initial, { exact: true }).fill(PASSWORD);
        await page.getByRole('button', { name: t.add }).click();
        await page.waitForURL(/\/health\/staff\?added=ivanova$/);
        assert.match(await page.locator('.panel-confirm').textContent(), new RegExp(t.added));
        assert.match(await page.locator('table.staff-accounts').textContent(), new RegExp(`ivanova\\s*${t.health}`));
        if (js) assert.deepEqual(await cspViolations(page), []);

        // The officer signs in with that password; the sign-in page names no command.
        const officer = await browser.newContext({ locale: t.locale, javaScriptEnabled: js });
        const desk = await officer.newPage();
        await desk.goto(`${server.base}/health/sign-in`);
        const body = await desk.locator('body').textContent();
        assert.ok(!body.includes('propusk') && !body.includes('--role'), body);
        await desk.getByLabel(t.username, { exact: true }).fill('ivanova');
        await desk.getByLabel(t.password, { exact: true }).fill(PASSWORD);
        await desk.getByRole('button', { name: t.signIn, exact: true }).click();
        await desk.waitForURL(/\/health\/queue$/);
        await officer.close();
      } finally {
        await context.close();
        await server.stop();
      }
    });
  }
}
