// Calls to the device API (/api/v1/device/…), JSON in and out. A problem+json answer
// becomes an ApiError with its code and detail (in the language asked for); no answer at
// all (offline, the connection dropped) becomes an Offline error.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? null;
    this.index = body?.index ?? null;
  }

  /** The device is no longer monitored: the app must erase what it holds. */
  get retired() {
    return this.status === 410 && this.code === 'device_retired';
  }

  /** The token is unknown to the server: the phone must connect again. */
  get unknownDevice() {
    return this.status === 401;
  }
}

export class Offline extends Error {}

export async function api(path, { method = 'GET', body, token, lang } = {}) {
  const headers = { accept: 'application/json' };
  if (lang) headers['accept-language'] = lang;
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new Offline(e.message);
  }
  const text = await response.text().catch(() => '');
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}
