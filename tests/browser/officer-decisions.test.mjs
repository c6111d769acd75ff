// The health officer's irreversible actions, in a real browser, in Russian and English,
// with JavaScript on and off: dismissing a flag, confirming one with a fine, deciding an
// appeal and closing a case each go to a check page first (what will happen, the SMS the
// patient will get, a way back to change the answers) and only its confirm button acts;
// afterwards a confirmation panel says what happens next. The decision form reports every
// problem at once and chooses nothing for the officer; the officer who imposed a sanction
// sees who decides the appeal instead of its form; the queue filters with a plain GET form.
// axe-core finds no serious or critical issue on any of these pages (run with JavaScript
// on, in both languages: it runs inside the page).
//
// Cases are opened and phones connected through the API (the officer's form and the
// patient's pages have tests of their own); a case's monitoring is dated two hours back in
// the SQLite file so that the phone's buffered trip of an hour ago is accepted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import fs from 'node:fs';
import path from 'node:path';
import { REPO, startServer } from './lib/server.mjs';
import { Api, randomPhone, signInStaff } from './lib/api.mjs';
import { axeViolations, cspViolations, launchChromium, screenshot, watchCsp } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
const HOME = { latitude: 55.7575, longitude: 37.613 };

let server;
let browser;
let api;
let staffToken;

before(async () => {
  server = await startServer();
  server.addStaff('health', 'decider-a', PASSWORD);
  server.addStaff('health', 'decider-b', PASSWORD);
  browser = await launchChromium();
  api = new Api(server.base);
  staffToken = await signInStaff(server, 'decider-a', PASSWORD);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const TEXT = {
  ru: {
    username: 'Имя пользователя',
    password: 'Пароль',
    signIn: 'Войти',
    queue: 'Очередь сигналов',
    show: 'Показать',
    shown: /Показано сигналов: \d+ из \d+/,
    dismissNote: 'Пояснение (необязательно)',
    dismiss: 'Снять сигнал',
    fine: 'Штраф',
    amount: 'Сумма штрафа, ₽',
    reason: 'Основание',
    confirm: 'Подтвердить с мерой',
    sanctionMissing: 'Выберите меру: предупреждение или штраф.',
    noteMissing: 'Укажите основание: почему вы так решили.',
    checkTitle: 'Проверьте решение перед отправкой',
    dismissed: 'Снять сигнал: нарушения нет',
    change: 'Изменить ответы',
    confirmDismiss: 'Снять сигнал и отправить SMS',
    confirmSanction: 'Назначить меру и отправить SMS',
    fineOf: (rub) => `Штраф ${rub} ₽`,
    done: 'Решение принято',
    notYours: 'Эту меру назначили вы, поэтому жалобу рассматривает другой врач',
    reject: /Нет, отклонить/,
    appealNote: 'Основание решения',
    decide: 'Принять решение',
    rejectChecked: 'Отклонить жалобу: мера остаётся',
    confirmAppeal: 'Принять решение по жалобе и отправить SMS',
    rejected: 'Жалоба отклонена, мера остаётся в силе',
    closeCase: 'Закрыть дело',
    closeTitle: 'Закрыть дело?',
    closed: 'Дело закрыто',
  },
  en: {
    username: 'Username',
    password: 'Password',
    signIn: 'Sign in',
    queue: 'Flags to decide',
    show: 'Show',
    shown: /Showing \d+ of \d+ flags/,
    dismissNote: 'Note (optional)',
    dismiss: 'Dismiss the flag',
    fine: 'Fine',
    amount: 'Fine, RUB',
    reason: 'Reason',
    confirm: 'Confirm with the sanction',
    sanctionMissing: 'Choose a sanction: a warning or a fine.',
    noteMissing: 'Give the reason: why you decided so.',
    checkTitle: 'Check your decision before it is sent',
    dismissed: 'Dismiss the flag: no violation',
    change: 'Change your answers',
    confirmDismiss: 'Dismiss the flag and send the SMS',
    confirmSanction: 'Impose the sanction and send the SMS',
    fineOf: (rub) => `Fine of ${rub} RUB`,
    done: 'Decision made',
    notYours: 'You imposed this sanction, so another officer decides the appeal',
    reject: /No, reject it/,
    appealNote: 'Reason for the decision',
    decide: 'Decide',
    rejectChecked: 'Reject the appeal: the sanction stays',
    confirmAppeal: 'Decide the appeal and send the SMS',
    rejected: 'The appeal is rejected and the sanction stands',
    closeCase: 'Close the case',
    closeTitle: 'Close the case?',
    closed: 'Case closed',
  },
};

async function checkAccessible(page, what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
}

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

/** A case whose phone reported a trip; resolves once the flag waits for an officer. */
async function flaggedCase() {
  const now = Date.now();
  const opened = await api.post('/api/v1/cases', {
    phone: randomPhone(),
    full_name: 'Сидорова Анна Павловна',
    home: { address: 'Москва, ул. Тверская, д. 1', lat: HOME.latitude, lon: HOME.longitude },
    radius_m: 50,
    starts_at: new Date(now).toISOString(),
    ends_at: new Date(now + 14 * 24 * 3600_000).toISOString(),
  }, staffToken);
  assert.equal(opened.status, 201, opened.text);
  const caseId = opened.json.id;
  const enrolled = await api.post('/api/v1/device/enroll', { enrollment_code: opened.json.enrollment_code });
  assert.equal(enrolled.status, 201, enrolled.text);
  const device = enrolled.json.device_token;
  server.sql(`UPDATE monitoring_cases SET starts_at = starts_at - 7200, monitoring_since = monitoring_since - 7200 WHERE id = '${caseId}'`);
  const upload = await api.post('/api/v1/device/locations', tripAnHourAgo(), device);
  assert.equal(upload.status, 202, upload.text);
  let flagId = '';
  for (let i = 0; i < 200; i += 1) {
    const row = server.sql(`SELECT id || ' ' || state FROM monitoring_flags WHERE case_id = '${caseId}'`);
    const [id, state] = row.split(' ');
    if (state === 'notified') {
      flagId = id;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(flagId, 'the flag waits for an officer once the SMS is out');
  return { caseId, flagId, device };
}

async function signIn(context, username, L) {
  const page = await context.newPage();
  if (context.__js !== false) await watchCsp(page);
  await page.goto(`${server.base}/health/sign-in`);
  await page.getByLabel(L.username).fill(username);
  await page.getByLabel(L.password).fill(PASSWORD);
  await page.getByRole('button', { name: L.signIn }).click();
  await page.getByRole('heading', { name: L.queue }).waitFor();
  return page;
}

for (const lang of ['ru', 'en']) {
  for (const javaScriptEnabled of [true, false]) {
    const L = TEXT[lang];
    const mode = `${lang}, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`;
    test(`every decision is checked, then confirmed (${mode})`, async () => {
      const options = {
        viewport: { width: 1280, height: 900 },
        locale: lang === 'ru' ? 'ru-RU' : 'en-GB',
        timezoneId: 'Europe/Moscow',
        javaScriptEnabled,
      };
      const deskA = await browser.newContext(options);
      const deskB = await browser.newContext(options);
      deskA.setDefaultTimeout(20_000);
      deskB.setDefaultTimeout(20_000);
      // axe runs inside the page, so only with JavaScript on; the pages are the same HTML.
      const assertAccessible = javaScriptEnabled ? checkAccessible : async () => {};
      deskA.__js = javaScriptEnabled;
      deskB.__js = javaScriptEnabled;
      const a = await signIn(deskA, 'decider-a', L);
      const [first, second] = [await flaggedCase(), await flaggedCase()];

      // The queue: summarised cards, counts, and filters that are a plain GET form.
      await a.goto(`${server.base}/health/queue`);
      await a.locator('#filter-kind').selectOption('left_home');
      await a.locator('#filter-state').selectOption('notified');
      await a.getByRole('button', { name: L.show, exact: true }).click();
      await a.waitForURL(/kind=left_home&state=notified/);
      assert.match(await a.locator('#queue-count').textContent(), L.shown);
      await a.locator(`a[href="/health/flags/${first.flagId}"]`).first().waitFor();
      assert.equal(await a.locator('.card table').count(), 0, 'no full evidence on the cards');
      if (javaScriptEnabled) await screenshot(a, `officer-queue-filtered-${lang}`, { fullPage: true });
      await assertAccessible(a, `queue with filters (${mode})`);

      // Dismissal: nothing chosen for the officer; a check page; then the confirmation.
      await a.goto(`${server.base}/health/flags/${first.flagId}`);
      assert.equal(await a.locator('input[type=radio]:checked').count(), 0, 'no decision pre-selected');
      await a.getByLabel(L.dismissNote).fill('телефон лежал дома, пациент был у врача');
      await a.getByRole('button', { name: L.dismiss, exact: true }).click();
      await a.getByRole('heading', { name: L.checkTitle }).waitFor();
      assert.match(await a.locator('.officer-check').textContent(), new RegExp(L.dismissed));
      assert.equal(await a.locator('.officer-check .sms').count(), 1, 'the SMS the patient will get');
      await assertAccessible(a, `dismissal check page (${mode})`);
      const stillNotified = server.sql(`SELECT state FROM monitoring_flags WHERE id = '${first.flagId}'`);
      assert.equal(stillNotified, 'notified', 'nothing changes before the confirmation');
      await a.getByRole('button', { name: L.confirmDismiss }).click();
      await a.locator('.confirmation').getByRole('heading', { name: L.done }).waitFor();
      await assertAccessible(a, `dismissal confirmed (${mode})`);
      assert.equal(server.sql(`SELECT state FROM monitoring_flags WHERE id = '${first.flagId}'`), 'dismissed');

      // A sanction: every problem at once, each at its field; then a check page, a change
      // of the amount through "change", and the confirmation.
      await a.goto(`${server.base}/health/flags/${second.flagId}`);
      if (javaScriptEnabled && lang === 'ru') {
        // The README's picture of an officer's flag page.
        const shot = await screenshot(a, 'officer-flag', { fullPage: true });
        fs.copyFileSync(shot, path.join(REPO, 'docs/screenshots/officer-flag.png'));
      }
      await a.getByRole('button', { name: L.confirm }).click();
      const summary = a.locator('.error-summary');
      await summary.getByText(L.sanctionMissing).waitFor();
      await summary.getByText(L.noteMissing).waitFor();
      await a.locator('#sanction-warning-error').waitFor();
      await a.locator('#confirm-note-error').waitFor();
      assert.equal(await a.locator('#confirm-note').getAttribute('aria-describedby'), 'confirm-note-hint confirm-note-error');
      await assertAccessible(a, `decision with errors (${mode})`);
      await a.getByLabel(L.fine, { exact: true }).check();
      await a.getByLabel(L.amount).fill('4000');
      // A reason of two lines goes through the hidden field and back unchanged.
      await a.getByLabel(L.reason, { exact: true }).fill('40 минут в 600 м.\nОбъяснений нет');
      await a.getByRole('button', { name: L.confirm }).click();
      await a.getByRole('heading', { name: L.checkTitle }).waitFor();
      assert.match(await a.locator('.officer-check').textContent(), new RegExp(L.fineOf(4000)));
      await assertAccessible(a, `sanction check page (${mode})`);
      await a.getByRole('button', { name: L.change }).click();
      assert.equal(await a.getByLabel(L.amount).inputValue(), '4000', 'the answers come back');
      assert.ok(await a.getByLabel(L.fine, { exact: true }).isChecked());
      await a.getByLabel(L.amount).fill('3000');
      await a.getByRole('button', { name: L.confirm }).click();
      await a.getByRole('heading', { name: L.checkTitle }).waitFor();
      assert.match(await a.locator('.officer-check').textContent(), new RegExp(L.fineOf(3000)));
      assert.equal(server.sql(`SELECT state FROM monitoring_flags WHERE id = '${second.flagId}'`), 'notified');
      if (javaScriptEnabled) await screenshot(a, `officer-check-sanction-${lang}`, { fullPage: true });
      await a.getByRole('button', { name: L.confirmSanction }).click();
      await a.locator('.confirmation').getByRole('heading', { name: L.done }).waitFor();
      assert.match(await a.locator('.confirmation').textContent(), new RegExp(L.fineOf(3000), 'i'));
      const history = await a.locator('ol.history').textContent();
      assert.match(history, /40 минут в 600 м\.\s+Объяснений нет/, 'the reason as typed');
      if (javaScriptEnabled) await screenshot(a, `officer-decision-done-${lang}`, { fullPage: true });
      await assertAccessible(a, `sanction confirmed (${mode})`);

      // The patient appeals (from the phone); the officer who imposed the fine sees who
      // decides instead of the form; a second officer decides through a check page.
      const appealed = await api.post(`/api/v1/device/flags/${second.flagId}/appeal`, { statement: 'Возил ребёнка в травмпункт' }, second.device);
      assert.equal(appealed.status, 200, appealed.text);
      await a.goto(`${server.base}/health/flags/${second.flagId}`);
      await a.getByText(L.notYours).waitFor();
      assert.equal(await a.getByLabel(L.reject).count(), 0, 'no appeal form for the decider');
      const b = await signIn(deskB, 'decider-b', L);
      await b.goto(`${server.base}/health/appeals`);
      await b.locator(`a[href="/health/flags/${second.flagId}"]`).first().click();
      assert.equal(await b.locator('input[type=radio]:checked').count(), 0, 'no decision pre-selected');
      await b.getByLabel(L.reject).check();
      await b.getByLabel(L.appealNote).fill('справки нет');
      await b.getByRole('button', { name: L.decide, exact: true }).click();
      await b.getByRole('heading', { name: L.checkTitle }).waitFor();
      assert.match(await b.locator('.officer-check').textContent(), new RegExp(L.rejectChecked));
      await assertAccessible(b, `appeal check page (${mode})`);
      await b.getByRole('button', { name: L.confirmAppeal }).click();
      await b.locator('.confirmation').getByText(L.rejected).waitFor();
      await assertAccessible(b, `appeal decided (${mode})`);
      assert.equal(server.sql(`SELECT state FROM monitoring_flags WHERE id = '${second.flagId}'`), 'appeal_rejected');

      // Closing a case: a check page that says what happens, then the confirmation.
      await a.goto(`${server.base}/health/cases/${first.caseId}`);
      await a.getByRole('button', { name: L.closeCase, exact: true }).click();
      await a.getByRole('heading', { name: L.closeTitle }).waitFor();
      await assertAccessible(a, `close check page (${mode})`);
      if (javaScriptEnabled) await screenshot(a, `officer-close-check-${lang}`, { fullPage: true });
      assert.equal(server.sql(`SELECT status FROM monitoring_cases WHERE id = '${first.caseId}'`), 'active');
      await a.getByRole('button', { name: L.closeCase, exact: true }).click();
      await a.locator('.confirmation').getByRole('heading', { name: L.closed }).waitFor();
      await assertAccessible(a, `case closed (${mode})`);
      assert.equal(server.sql(`SELECT status FROM monitoring_cases WHERE id = '${first.caseId}'`), 'closed');

      if (javaScriptEnabled) {
        assert.deepEqual(await cspViolations(a), []);
        assert.deepEqual(await cspViolations(b), []);
      }
      await deskA.close();
      await deskB.close();
    });
  }
}
