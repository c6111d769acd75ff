// The patient's side of a flag, in a real browser (Debian's Chromium driven by Playwright),
// in Russian and English, with JavaScript on and off:
//
// - an officer opens a case on the page; the page says the code went by SMS, and the log
//   gateway's line (`sms to=PHONE … text="…"`) carries the code and the app's link, in the
//   case's language;
// - the patient connects at /patient, reads the flag's evidence in plain words, is refused
//   an empty explanation (in the summary and at the field), writes one and replaces it;
// - the officer reads it on the flag page beside the evidence, and the queue card says
//   there is one;
// - once the officer confirms a fine (through the API: this test is about the patient's
//   pages), the explanation can no longer change, and the fine shows the officer's reason,
//   how to pay and where to ask.
//
// On PostgreSQL when PROPUSK_DATABASE_URL names an empty database (the server and
// `propusk user add` read it from the environment; the test's own SQL goes through psql).
//
// axe-core finds no serious or critical issue on any of these pages (with JavaScript on:
// axe is a script).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { startServer, REPO } from './lib/server.mjs';
import { Api, randomPhone, signInStaff } from './lib/api.mjs';
import { axeViolations, cspViolations, launchChromium, phoneContext, screenshot, watchCsp } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
const HOME = { latitude: 55.7575, longitude: 37.613 };
const PHOTO = path.join(REPO, 'crates/server/static/inspector/icons/icon-192.png');

const WORDS = {
  ru: {
    locale: 'ru-RU',
    name: 'Сидорова Анна Павловна',
    sent: (phone) => `отправлены по SMS на номер ${phone}`,
    sms: 'код для подключения телефона к мониторингу',
    plain: /\d+ положени\S+ телефона вне дома с .+ до .+, самое дальнее — в [\d,]+ (м|км) от дома\./,
    jargon: ['медиана', 'повторы', 'явно вне дома:'],
    explain: 'Объясните, что произошло',
    replace: 'Заменить объяснение',
    send: 'Отправить объяснение',
    empty: 'Напишите объяснение.',
    first: 'Ходила в аптеку',
    second: 'Возила ребёнка в травмпункт, справка есть',
    saved: 'Объяснение отправлено',
    officerTitle: 'Объяснение пациента',
    queueTag: 'Есть объяснение пациента',
    reason: '40 минут в 600 м, объяснение не подтверждено',
    fineTitle: 'Как оплатить штраф',
  },
  en: {
    locale: 'en-GB',
    name: 'Anna Sidorova',
    sent: (phone) => `were sent by SMS to ${phone}`,
    sms: 'your code to connect your phone to monitoring',
    plain: /\d+ positions? of your phone outside your home between .+ and .+, (the farthest )?[\d.]+ (m|km) away\./,
    jargon: ['median', 'repeats', 'clearly outside:'],
    explain: 'Explain what happened',
    replace: 'Replace your explanation',
    send: 'Send the explanation',
    empty: 'Write your explanation.',
    first: 'I went to the pharmacy',
    second: 'I took my child to the emergency room and have a certificate',
    saved: 'Your explanation is sent',
    officerTitle: "The patient's explanation",
    queueTag: 'The patient has explained',
    reason: '40 minutes 600 m away, the explanation is not borne out',
    fineTitle: 'How to pay the fine',
  },
};

let server;
let browser;

before(async () => {
  server = await startServer();
  server.addStaff('health', 'officer-s', PASSWORD);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** SQL on the server's database: SQLite through the server's helper, or PostgreSQL. */
function sql(statement) {
  const url = process.env.PROPUSK_DATABASE_URL;
  if (!url) return server.sql(statement);
  const result = spawnSync('psql', [url, '-tAc', statement], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

async function assertAccessible(page, what) {
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

/** The log gateway's SMS lines to `phone`, texts only. */
function smsTo(phone) {
  return server.log().split('\n')
    .filter((l) => l.includes(`sms to=${phone} `) && l.includes(' text='))
    .map((l) => l.split(' text=')[1]);
}

async function waitFor(what, check, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const lang of ['ru', 'en']) {
  for (const js of [true, false]) {
    const w = WORDS[lang];
    test(`${lang}, JavaScript ${js ? 'on' : 'off'}: the enrollment SMS, an explanation before the decision, the officer reads it, a fine explained`, async () => {
      const options = { locale: w.locale, javaScriptEnabled: js };
      // axe runs as a script in the page: with scripts off the same pages were checked above.
      const check = async (page, what) => {
        if (js) await assertAccessible(page, what);
      };
      const desk = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Europe/Moscow', ...options });
      desk.setDefaultTimeout(15000);
      const officer = await desk.newPage();
      if (js) await watchCsp(officer);
      await officer.goto(`${server.base}/health`);
      await officer.locator('#username').fill('officer-s');
      await officer.locator('#password').fill(PASSWORD);
      await officer.locator('#password').press('Enter');
      await officer.waitForURL(/\/health\/queue$/);

      // The officer opens a case whose SMS speak the test's language.
      const patientPhone = randomPhone();
      await officer.goto(`${server.base}/health/cases/new`);
      await officer.locator('#full_name').fill(w.name);
      await officer.locator('#phone').fill(patientPhone);
      await officer.locator('#address').fill('Москва, ул. Тверская, д. 1');
      if (await officer.locator('#lat').count()) {
        await officer.locator('#lat').fill(String(HOME.latitude));
        await officer.locator('#lon').fill(String(HOME.longitude));
      }
      await officer.locator('#radius_m').fill('50');
      await officer.locator('#sms_lang').selectOption(lang);
      await officer.locator('form[action="/health/cases"] button[type="submit"]').click();
      const code = (await officer.locator('#enrollment-code').textContent()).trim();
      assert.match(code, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      assert.ok((await officer.locator('main').textContent()).includes(w.sent(patientPhone)), 'the page says the SMS went');
      await check(officer, `case opened (${lang})`);
      const caseId = (await officer.locator('a[href^="/health/cases/"]').last().getAttribute('href')).split('/').pop();

      // The SMS (through the outbox) carries the code and the link, in the case's language.
      const sms = await waitFor('the enrollment SMS', () => smsTo(patientPhone).find((t) => t.includes(code)));
      assert.ok(sms.includes(`/patient/app/#code=${code}`), sms);
      assert.ok(sms.includes(w.sms), sms);

      // The patient connects on the page (the fallback for phones without the app).
      const phone = await phoneContext(browser, options);
      phone.setDefaultTimeout(15000);
      const patient = await phone.newPage();
      if (js) await watchCsp(patient);
      await patient.goto(`${server.base}/patient`);
      await patient.locator('#code').fill(code.toLowerCase());
      await patient.locator('#photo').setInputFiles(PHOTO);
      await patient.locator('form[action="/patient/enroll"] button[type="submit"]').click();
      await patient.waitForURL(/\/patient$/);

      // The phone uploads a buffered trip (through the API, as the app would); the case is
      // dated back so that the reports fall inside it.
      sql(`UPDATE monitoring_cases SET starts_at = starts_at - 7200, monitoring_since = monitoring_since - 7200 WHERE id = '${caseId}'`);
      const token = (await phone.cookies()).find((c) => c.name === 'propusk_device').value;
      const api = new Api(server.base);
      const upload = await api.post('/api/v1/device/locations', tripAnHourAgo(), token);
      assert.equal(upload.status, 202, upload.text);
      const staff = await signInStaff(server, 'officer-s', PASSWORD);
      const flagId = await waitFor('the flag to await an officer', async () => {
        const c = await api.get(`/api/v1/cases/${caseId}`, staff);
        const flag = c.json?.flags?.find((f) => f.kind === 'left_home');
        return flag?.state === 'notified' ? flag.id : null;
      });

      // The evidence in plain words, without the officers' terms.
      await patient.reload();
      const card = patient.locator(`#flag-${flagId}`);
      const cardText = await card.textContent();
      assert.match(cardText, w.plain);
      for (const jargon of w.jargon) assert.ok(!cardText.includes(jargon), `${jargon} on the patient's page`);
      await check(patient, `patient's flag (${lang})`);

      // An empty explanation: refused in the summary and at the field, nothing stored.
      await card.getByRole('button', { name: w.send }).click();
      await patient.locator('.error-summary').getByText(w.empty).waitFor();
      const field = patient.locator(`#explain-${flagId}`);
      // The message sits above the input, which names it.
      await patient.locator(`#explain-${flagId}-error`).getByText(w.empty).waitFor();
      assert.match(await field.getAttribute('aria-describedby'), new RegExp(`explain-${flagId}-error`));
      await check(patient, `explanation refused (${lang})`);
      assert.equal(sql(`SELECT COUNT(*) FROM monitoring_flags WHERE id = '${flagId}' AND statement IS NOT NULL`), '0');

      // Written, then replaced: the confirmation says so, one explanation is kept.
      await patient.getByLabel(w.explain).fill(w.first);
      await patient.locator(`#flag-${flagId}`).getByRole('button', { name: w.send }).click();
      await patient.locator('.saved-note').getByText(w.saved).waitFor();
      await patient.locator(`#flag-${flagId} blockquote`).getByText(w.first).waitFor();
      await check(patient, `explanation sent (${lang})`);
      if (js) await screenshot(patient, `patient-flag-explained-${lang}`, { fullPage: true });
      await patient.getByLabel(w.replace).fill(w.second);
      await patient.locator(`#flag-${flagId}`).getByRole('button', { name: w.send }).click();
      await patient.locator(`#flag-${flagId} blockquote`).getByText(w.second).waitFor();
      await patient.locator('.saved-note').getByText(w.saved).waitFor();
      assert.equal(sql(`SELECT statement FROM monitoring_flags WHERE id = '${flagId}'`), w.second);

      // The officer reads it on the flag page, beside the evidence; the queue card says so.
      await officer.goto(`${server.base}/health/flags/${flagId}`);
      await officer.getByRole('heading', { name: w.officerTitle }).waitFor();
      assert.equal((await officer.locator('#patient-statement').textContent()).trim(), w.second);
      await check(officer, `flag with the explanation (${lang})`);
      if (js) await screenshot(officer, `health-flag-statement-${lang}`, { fullPage: true });
      await officer.goto(`${server.base}/health/queue`);
      await officer.getByText(w.queueTag).first().waitFor();

      // A fine: the explanation is closed, and the patient reads the reason and how to pay.
      const decided = await api.post(`/api/v1/flags/${flagId}/decision`,
        { decision: 'confirm', sanction: { type: 'fine', amount_rub: 4000 }, note: w.reason }, staff);
      assert.equal(decided.status, 200, decided.text);
      assert.equal(decided.json.statement.text, w.second);
      await patient.reload();
      const fined = patient.locator(`#flag-${flagId}`);
      await fined.getByText(w.reason).waitFor();
      await fined.getByRole('heading', { name: w.fineTitle }).waitFor();
      assert.equal(await fined.locator('a[href="/help"]').count(), 1, 'where to ask');
      assert.equal(await fined.getByRole('button', { name: w.send }).count(), 0, 'no explanation form after the decision');
      assert.ok((await fined.textContent()).includes(w.second), 'the explanation stays as read');
      assert.equal(await fined.locator('.saved-note').count(), 0, 'no "you may replace it" after the decision');
      await check(patient, `patient with a fine (${lang})`);
      if (js) await screenshot(patient, `patient-flag-fine-${lang}`, { fullPage: true });
      const fineSms = await waitFor('the fine SMS', () => smsTo(patientPhone).find((t) => t.includes('4000') || t.includes('4,000')));
      assert.ok(!/руб\.\.|\.\.|в приложении: Пациент|in the app: Patient/.test(fineSms), fineSms);

      if (js) {
        assert.deepEqual(await cspViolations(officer), []);
        assert.deepEqual(await cspViolations(patient), []);
      }
      await desk.close();
      await phone.close();
    });
  }
}
