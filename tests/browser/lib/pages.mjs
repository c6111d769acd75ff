// Signed-in browsers of every audience, for tests that walk the pages:
//
//   const resident = await residentSession(server, context);   // signs in through the pages
//   // → { phone, codePath, passId } with a complete profile and one pass
//   const officer = await officerSession(server, context, 'username', PASSWORD);
//   // → { token, caseId, code, flagId } with a case whose patient left home (a flag)
//   const patient = await patientSession(server, context, officer.code);
//   // → { token, caseId, challengeId } with a check-in open now
//
// What the pages do not need to show is set up through the API (lib/api.mjs) and, where the
// server's clock would have to move, in its SQLite file, as monitoring.test.mjs does.
import crypto from 'node:crypto';

import { Api, issuePass, randomPhone, signInStaff } from './api.mjs';

export const HOME = { latitude: 55.7575, longitude: 37.613 };

/** A resident signed in through the start, phone and code pages, with a profile and a pass. */
export async function residentSession(server, context, { phone = randomPhone() } = {}) {
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  await page.getByRole('button', { name: /Начать|Start now/ }).click();
  await page.getByLabel(/номер мобильного|mobile phone/i).fill(phone);
  await page.getByRole('button', { name: /Продолжить|Continue/ }).click();
  await page.waitForURL(/\/sign-in\/code/);
  const codePath = new URL(page.url()).pathname + new URL(page.url()).search;
  const code = await server.codeFor(phone);
  await page.getByLabel(/код из SMS|code from the SMS/i).fill(code);
  await page.getByRole('button', { name: /Продолжить|Continue/ }).click();
  await page.waitForURL(/\/profile$/);
  await page.close();
  // The browser's session is a session like an API client's.
  const token = (await context.cookies()).find((c) => c.name === 'propusk_session').value;
  const api = new Api(server.base);
  const profile = await api.put('/api/v1/me', {
    full_name: 'Иванова Мария Петровна',
    document: { type: 'passport_ru', number: '4510 123456' },
    home: { address: 'Москва, ул. Тверская, д. 1', lat: HOME.latitude, lon: HOME.longitude },
  }, token);
  if (profile.status !== 200) throw new Error(`profile: ${profile.status} ${profile.text}`);
  const pass = await issuePass(server, token, { purpose: 'shopping' });
  return { phone, token, codePath, passId: pass.id };
}

/** What a phone that buffered its reports uploads: home, 40 minutes 600 m away, home. */
function tripAnHourAgo() {
  const now = Date.now();
  return Array.from({ length: 50 }, (_, i) => {
    const k = i + 1;
    const at = new Date(now - (102 - 2 * k) * 60_000);
    const jitter = (k % 5) * 7;
    const away = k >= 16 && k < 36;
    return {
      ts: at.toISOString(),
      lat: HOME.latitude + (away ? 600 + jitter : 10 - jitter) / 111_320,
      lon: HOME.longitude,
      accuracy_m: away ? 10 + (k % 3) : 20,
    };
  });
}

/**
 * A health officer signed in through the sign-in page, with a case (opened through the API)
 * whose phone is enrolled and has reported a trip away from home: a flag to decide.
 */
export async function officerSession(server, context, username, password) {
  const page = await context.newPage();
  await page.goto(`${server.base}/health/sign-in`);
  await page.getByLabel(/Имя пользователя|Username/).fill(username);
  await page.getByLabel(/Пароль|Password/).fill(password);
  await page.getByRole('button', { name: /Войти|Sign in/ }).click();
  await page.waitForURL(/\/health\/queue$/);
  await page.close();

  const api = new Api(server.base);
  const staff = await signInStaff(server, username, password);
  const now = Date.now();
  const created = await api.post('/api/v1/cases', {
    phone: randomPhone(),
    full_name: 'Сидорова Анна Павловна',
    home: { address: 'Москва, ул. Тверская, д. 1', lat: HOME.latitude, lon: HOME.longitude },
    starts_at: new Date(now).toISOString(),
    ends_at: new Date(now + 14 * 86_400_000).toISOString(),
  }, staff);
  if (created.status !== 201) throw new Error(`case: ${created.status} ${created.text}`);
  const caseId = created.json.id;
  const enrolled = await api.post('/api/v1/device/enroll', { enrollment_code: created.json.enrollment_code });
  if (enrolled.status !== 201) throw new Error(`enroll: ${enrolled.status} ${enrolled.text}`);
  const device = enrolled.json.device_token;
  // The case began two hours ago, so that the buffered trip of an hour ago is accepted.
  server.sql(`UPDATE monitoring_cases SET starts_at = starts_at - 7200, monitoring_since = monitoring_since - 7200 WHERE id = '${caseId}'`);
  const upload = await api.post('/api/v1/device/locations', tripAnHourAgo(), device);
  if (upload.status !== 202) throw new Error(`upload: ${upload.status} ${upload.text}`);
  let flagId = '';
  for (let i = 0; i < 200 && !flagId; i += 1) {
    flagId = server.sql(`SELECT id FROM monitoring_flags WHERE case_id = '${caseId}' LIMIT 1`);
    if (!flagId) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!flagId) throw new Error('no flag was raised for the trip');
  return { token: staff, caseId, flagId, device };
}

/**
 * A patient's browser: a case of its own (opened through the API) with its phone enrolled, its device
 * token in the page's cookie as the enrollment page would leave it, and a check-in open now.
 */
export async function patientSession(server, context, staffToken) {
  const api = new Api(server.base);
  const now = Date.now();
  const created = await api.post('/api/v1/cases', {
    phone: randomPhone(),
    full_name: 'Петров Пётр Петрович',
    home: { address: 'Москва, ул. Тверская, д. 3', lat: HOME.latitude, lon: HOME.longitude },
    starts_at: new Date(now).toISOString(),
    ends_at: new Date(now + 14 * 86_400_000).toISOString(),
  }, staffToken);
  if (created.status !== 201) throw new Error(`case: ${created.status} ${created.text}`);
  const enrolled = await api.post('/api/v1/device/enroll', { enrollment_code: created.json.enrollment_code });
  if (enrolled.status !== 201) throw new Error(`enroll: ${enrolled.status} ${enrolled.text}`);
  const url = new URL(server.base);
  await context.addCookies([{
    name: 'propusk_device', value: enrolled.json.device_token, domain: url.hostname, path: '/patient', httpOnly: true, sameSite: 'Lax',
  }]);
  const challengeId = crypto.randomUUID();
  const secs = Math.floor(now / 1000);
  server.sql(`INSERT INTO monitoring_challenges (id, case_id, issued_at, deadline) VALUES ('${challengeId}', '${created.json.id}', ${secs - 60}, ${secs + 19 * 60})`);
  return { caseId: created.json.id, challengeId };
}
