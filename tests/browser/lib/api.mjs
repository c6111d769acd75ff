// Speaking the JSON API as a client would, for test setup.
//
//   const api = new Api(server.base);
//   const { status, json } = await api.post('/api/v1/passes', { purpose: 'shopping' }, token);
//   const token = await signInResident(server, phone);            // SMS code read from the log
//   const token = await residentWithProfile(server, { phone, name, passport });
//   const pass  = await issuePass(server, token, { purpose: 'shopping' });  // the pass JSON
//   const token = await signInStaff(server, username, password);
import crypto from 'node:crypto';

export class Api {
  constructor(base) {
    this.base = base;
  }

  async request(method, path, { body, token, lang, headers = {} } = {}) {
    const h = { accept: 'application/json', ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (token) h.authorization = `Bearer ${token}`;
    if (lang) h['accept-language'] = lang;
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const buffer = Buffer.from(await response.arrayBuffer());
    const text = buffer.toString('utf8');
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, text, json, buffer };
  }

  get(path, token, options = {}) {
    return this.request('GET', path, { token, ...options });
  }

  post(path, body, token, options = {}) {
    return this.request('POST', path, { body, token, ...options });
  }

  put(path, body, token) {
    return this.request('PUT', path, { body, token });
  }

  delete(path, token) {
    return this.request('DELETE', path, { token });
  }
}

function expectStatus(response, status, what) {
  if (response.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${response.status}: ${response.text}`);
  }
  return response;
}

/** A random Russian mobile number, so tests never share a phone. */
export function randomPhone() {
  return `+7916${String(crypto.randomInt(0, 10_000_000)).padStart(7, '0')}`;
}

/** Signs a resident in with the SMS code the log gateway wrote; returns the bearer token. */
export async function signInResident(server, phone) {
  const api = new Api(server.base);
  expectStatus(await api.post('/api/v1/auth/otp', { phone }), 202, 'OTP request');
  const code = await server.codeFor(phone);
  const r = expectStatus(await api.post('/api/v1/auth/otp/verify', { phone, code }), 200, 'OTP verify');
  return r.json.token;
}

/** A signed-in resident with a complete profile. */
export async function residentWithProfile(server, {
  phone = randomPhone(),
  name = 'Иванова Мария Петровна',
  passport = '4510 123456',
} = {}) {
  const token = await signInResident(server, phone);
  const api = new Api(server.base);
  expectStatus(await api.put('/api/v1/me', {
    full_name: name,
    document: { type: 'passport_ru', number: passport },
    home: { address: 'Москва, ул. Тверская, д. 1', lat: 55.7575, lon: 37.613 },
  }, token), 200, 'profile');
  return token;
}

/** Asks for a pass; returns the pass JSON (id, short_code, token, …). */
export async function issuePass(server, token, request = { purpose: 'shopping' }) {
  const r = expectStatus(await new Api(server.base).post('/api/v1/passes', request, token), 201, 'pass');
  return r.json;
}

/** A staff member's bearer token. */
export async function signInStaff(server, username, password) {
  const r = expectStatus(await new Api(server.base).post('/api/v1/auth/login', { username, password }), 200, 'staff login');
  return r.json.token;
}
