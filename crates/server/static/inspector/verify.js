// Pass token v1 verifier, written from docs/token-format.md alone.
//
//   QR text = "PR1:" + base45(zlib(COSE_Sign1)), COSE_Sign1 = 18([protected, {}, payload, signature])
//
// It needs no DOM and no network: WebCrypto (Ed25519, ECDSA P-256), DecompressionStream
// and TextDecoder, so it runs in a browser, a worker and Node alike. `verifyToken` never
// throws: every input gets one verdict of section 7, checked in that section's order.

export const VERDICTS = [
  'valid', 'expired', 'not_yet_valid', 'revoked', 'unknown_key', 'bad_signature', 'malformed',
];

const PREFIX = 'PR1:';
const MAX_TEXT_BYTES = 4096;
const MAX_COSE_BYTES = 8192;
const PASS_CLAIM = -65537;
const ALG_EDDSA = -8;
const ALG_ES256 = -7;

/** Anything that makes a text not a v1 token; its message is the reason shown. */
export class Malformed extends Error {}

function fail(reason) {
  throw new Malformed(reason);
}

// ---------------------------------------------------------------- small byte helpers

export function toHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex) {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new Error('not hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function equalBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url without padding (trailing '=' tolerated, as section 8 asks of readers). */
export function base64urlDecode(text) {
  const s = String(text).replace(/=+$/, '');
  if (s.length % 4 === 1) throw new Error('base64url length');
  const out = [];
  let acc = 0;
  let bits = 0;
  for (const ch of s) {
    const v = B64URL.indexOf(ch);
    if (v < 0) throw new Error('base64url character');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return new Uint8Array(out);
}

export function base64urlEncode(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let k = 0; k < chars; k++) out += B64URL[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

// ---------------------------------------------------------------- text and base45 (sections 2, 3)

const ASCII_WS = new Set([' ', '\t', '\n', '\r', '\f']);

function trimAsciiWhitespace(s) {
  let start = 0;
  let end = s.length;
  while (start < end && ASCII_WS.has(s[start])) start++;
  while (end > start && ASCII_WS.has(s[end - 1])) end--;
  return s.slice(start, end);
}

const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

/** RFC 9285. Throws Malformed on a foreign character, a bad length or a group out of range. */
export function base45Decode(s) {
  if (s.length % 3 === 1) fail('base45: invalid length');
  const out = new Uint8Array(Math.floor(s.length / 3) * 2 + (s.length % 3 === 2 ? 1 : 0));
  let at = 0;
  for (let i = 0; i < s.length; i += 3) {
    const group = s.slice(i, i + 3);
    let n = 0;
    let weight = 1;
    for (const ch of group) {
      const v = B45.indexOf(ch);
      if (v < 0) fail(`base45: character '${ch}' is not in the alphabet`);
      n += v * weight;
      weight *= 45;
    }
    if (group.length === 3) {
      if (n > 0xffff) fail('base45: group out of range');
      out[at++] = n >> 8;
      out[at++] = n & 0xff;
    } else {
      if (n > 0xff) fail('base45: group out of range');
      out[at++] = n;
    }
  }
  return out;
}

// ---------------------------------------------------------------- zlib (section 4)

/** Inflates a zlib stream with DecompressionStream('deflate'); throws past `limit` bytes. */
async function inflate(bytes, limit) {
  const stream = new DecompressionStream('deflate');
  const writer = stream.writable.getWriter();
  // Errors surface on the readable side; these promises only need to be handled.
  writer.write(bytes).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      reader.cancel().catch(() => {});
      fail(`zlib: inflates to more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return concat(chunks);
}

/**
 * Exactly one complete zlib stream that uses every byte (section 4). Some
 * DecompressionStream implementations ignore bytes after the stream, so that is
 * checked independently: if the input without its last byte still inflates, the
 * stream ended before the input did.
 */
export async function inflateExact(bytes) {
  const bad = 'payload is neither zlib-compressed nor a raw COSE_Sign1 (corrupt or truncated)';
  if (bytes.length < 6) fail(bad);
  const cmf = bytes[0];
  const flg = bytes[1];
  if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7 || (cmf * 256 + flg) % 31 !== 0 || flg & 0x20) fail(bad);
  let out;
  try {
    out = await inflate(bytes, MAX_COSE_BYTES);
  } catch (e) {
    if (e instanceof Malformed) throw e;
    fail(bad);
  }
  let prefixInflates = true;
  try {
    await inflate(bytes.subarray(0, bytes.length - 1), MAX_COSE_BYTES);
  } catch {
    prefixInflates = false;
  }
  if (prefixInflates) fail('zlib: bytes follow the compressed stream');
  return out;
}

// ---------------------------------------------------------------- CBOR, only what the format needs

/** A CBOR map, kept as its entries in order so that repeated keys can be seen. */
export class CborMap {
  constructor(entries) {
    this.entries = entries;
  }
}

export class CborTag {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

/** A floating-point number: never a valid time or label here, but legal CBOR elsewhere. */
export class CborFloat {
  constructor(value) {
    this.value = value;
  }
}

export class CborSimple {
  constructor(value) {
    this.value = value;
  }
}

const BREAK = Symbol('break');
const MAX_DEPTH = 128;
const utf8 = new TextDecoder('utf-8', { fatal: true });

class CborReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.at = 0;
  }

  byte() {
    if (this.at >= this.bytes.length) fail('CBOR: unexpected end of data');
    return this.bytes[this.at++];
  }

  take(n) {
    if (n > this.bytes.length - this.at) fail('CBOR: unexpected end of data');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** The argument of a head: a Number, or a BigInt when it exceeds 2^53 - 1. */
  argument(info) {
    if (info < 24) return info;
    if (info === 24) return this.byte();
    if (info === 25) return (this.byte() << 8) | this.byte();
    if (info === 26) {
      const b = this.take(4);
      return ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
    }
    if (info === 27) {
      const b = this.take(8);
      let n = 0n;
      for (const x of b) n = (n << 8n) | BigInt(x);
      return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    }
    fail(`CBOR: reserved additional information ${info}`);
  }

  length(info) {
    const n = this.argument(info);
    if (typeof n !== 'number' || n > this.bytes.length) fail('CBOR: length exceeds the data');
    return n;
  }

  item(depth = 0) {
    if (depth > MAX_DEPTH) fail('CBOR: nested too deeply');
    const head = this.byte();
    const major = head >> 5;
    const info = head & 0x1f;
    if (info === 31) return this.indefinite(major, depth);
    switch (major) {
      case 0:
        return this.argument(info);
      case 1: {
        const n = this.argument(info);
        return typeof n === 'bigint' ? -1n - n : -1 - n;
      }
      case 2:
        return this.take(this.length(info)).slice();
      case 3:
        return decodeText(this.take(this.length(info)));
      case 4: {
        const n = this.length(info);
        const out = [];
        for (let i = 0; i < n; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5: {
        const n = this.length(info);
        const entries = [];
        for (let i = 0; i < n; i++) entries.push([this.item(depth + 1), this.item(depth + 1)]);
        return new CborMap(entries);
      }
      case 6:
        return new CborTag(this.argument(info), this.item(depth + 1));
      default:
        return this.simple(info);
    }
  }

  indefinite(major, depth) {
    switch (major) {
      case 2:
      case 3: {
        const chunks = [];
        for (;;) {
          const head = this.byte();
          if (head === 0xff) break;
          if (head >> 5 !== major || (head & 0x1f) === 31) fail('CBOR: bad chunk in an indefinite string');
          chunks.push(this.take(this.length(head & 0x1f)));
        }
        const bytes = concat(chunks);
        return major === 2 ? bytes : decodeText(bytes);
      }
      case 4: {
        const out = [];
        for (;;) {
          const v = this.itemOrBreak(depth + 1);
          if (v === BREAK) return out;
          out.push(v);
        }
      }
      case 5: {
        const entries = [];
        for (;;) {
          const k = this.itemOrBreak(depth + 1);
          if (k === BREAK) return new CborMap(entries);
          entries.push([k, this.item(depth + 1)]);
        }
      }
      case 7:
        fail('CBOR: unexpected break');
      // falls through: fail() throws
      default:
        fail('CBOR: indefinite length on a type that has none');
    }
  }

  itemOrBreak(depth) {
    if (this.bytes[this.at] === 0xff) {
      this.at++;
      return BREAK;
    }
    return this.item(depth);
  }

  simple(info) {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 23) return undefined;
    if (info === 24) {
      const v = this.byte();
      if (v < 32) fail('CBOR: badly encoded simple value');
      return new CborSimple(v);
    }
    if (info === 25) return new CborFloat(halfToNumber((this.byte() << 8) | this.byte()));
    if (info === 26) return new CborFloat(new DataView(this.take(4).slice().buffer).getFloat32(0));
    if (info === 27) return new CborFloat(new DataView(this.take(8).slice().buffer).getFloat64(0));
    if (info < 20) return new CborSimple(info);
    fail(`CBOR: reserved simple value ${info}`);
  }
}

function halfToNumber(h) {
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function decodeText(bytes) {
  try {
    return utf8.decode(bytes);
  } catch {
    fail('CBOR: text string is not UTF-8');
  }
}

/** One CBOR data item and nothing after it. */
export function decodeCborExact(bytes, what) {
  const r = new CborReader(bytes);
  const value = r.item();
  if (r.at !== bytes.length) fail(`bytes follow the ${what}`);
  return value;
}

/** The first CBOR data item; what follows is ignored. */
export function decodeCborFirst(bytes) {
  return new CborReader(bytes).item();
}

/** CBOR head with the shortest argument (RFC 8949 preferred serialization). */
function head(major, n) {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

const SIGNATURE1 = new TextEncoder().encode('Signature1');

/** Sig_structure = ["Signature1", protected, h'', payload] (RFC 9052, 4.4), as bytes. */
export function sigStructure(protectedBytes, payload) {
  return concat([
    new Uint8Array([0x84]),
    new Uint8Array(head(3, SIGNATURE1.length)),
    SIGNATURE1,
    new Uint8Array(head(2, protectedBytes.length)),
    protectedBytes,
    new Uint8Array([0x40]),
    new Uint8Array(head(2, payload.length)),
    payload,
  ]);
}

// ---------------------------------------------------------------- COSE_Sign1 (section 5)

const isInt = (v) => typeof v === 'number' || typeof v === 'bigint';
const isBytes = (v) => v instanceof Uint8Array;
const isLabel = (v) => isInt(v) || typeof v === 'string';

/**
 * A COSE header map (RFC 9052, 3.1): labels are integers or text, none repeated,
 * and the common parameters have their registered types.
 */
function readHeader(value, which) {
  if (!(value instanceof CborMap)) fail(`${which} header is not a map`);
  const seen = new Set();
  const header = new Map();
  for (const [label, v] of value.entries) {
    if (!isLabel(label)) fail(`${which} header label is neither an integer nor text`);
    const key = `${typeof label}:${label}`;
    if (seen.has(key)) fail(`${which} header repeats label ${label}`);
    seen.add(key);
    const ok =
      label === 1 ? isLabel(v)
        : label === 2 ? Array.isArray(v) && v.length > 0 && v.every(isLabel)
          : label === 3 ? (isInt(v) && v >= 0) || typeof v === 'string'
            : label === 4 || label === 5 || label === 6 ? isBytes(v)
              : true;
    if (!ok) fail(`${which} header parameter ${label} has the wrong type`);
    header.set(label, v);
  }
  if (header.has(5) && header.has(6)) fail(`${which} header has both IV and partial IV`);
  return header;
}

/** Peels the layers off a QR text: steps 1–6 of section 7. */
export async function openToken(text) {
  if (typeof text !== 'string') fail('empty token');
  const trimmed = trimAsciiWhitespace(text);
  if (trimmed === '') fail('empty token');
  const size = new TextEncoder().encode(trimmed).length;
  if (size > MAX_TEXT_BYTES) fail(`token is ${size} characters long; at most ${MAX_TEXT_BYTES} are accepted`);
  if (!trimmed.startsWith(PREFIX)) fail(`token does not start with '${PREFIX}'`);
  const data = base45Decode(trimmed.slice(PREFIX.length));
  const cose = data[0] === 0xd2 ? data : await inflateExact(data);

  const tagged = decodeCborExact(cose, 'COSE_Sign1 structure');
  if (!(tagged instanceof CborTag) || tagged.tag !== 18) fail('not a COSE_Sign1 structure: not tagged 18');
  const parts = tagged.value;
  if (!Array.isArray(parts) || parts.length !== 4) fail('not a COSE_Sign1 structure: not an array of 4');
  const [protectedBytes, unprotected, payload, signature] = parts;
  if (!isBytes(protectedBytes)) fail('COSE_Sign1: protected header is not a byte string');
  const header = protectedBytes.length === 0
    ? new Map()
    : readHeader(decodeCborExact(protectedBytes, 'protected header'), 'protected');
  readHeader(unprotected, 'unprotected');
  if (payload === null) fail('COSE_Sign1: payload is detached or nil');
  if (!isBytes(payload)) fail('COSE_Sign1: payload is not a byte string');
  if (!isBytes(signature)) fail('COSE_Sign1: signature is not a byte string');

  const alg = header.get(1);
  if (alg !== ALG_EDDSA && alg !== ALG_ES256) {
    fail(`signature algorithm ${alg === undefined ? '(none)' : String(alg)} is not supported (expected EdDSA -8 or ES256 -7)`);
  }
  const kid = header.get(4);
  if (!isBytes(kid) || kid.length !== 8) fail('protected header has no 8-byte key id (kid, label 4)');
  return { alg, kid, protectedBytes, payload, signature };
}

// ---------------------------------------------------------------- claims (section 6)

const TOP_KEYS = new Map([[1, 'iss'], [4, 'exp'], [5, 'nbf'], [6, 'iat'], [7, 'cti'], [PASS_CLAIM, 'pass']]);
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function uuid(bytes) {
  const h = toHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Reads the CWT claims map; a missing, repeated or mistyped known claim is malformed. */
export function readClaims(payload) {
  const map = decodeCborFirst(payload);
  if (!(map instanceof CborMap)) fail('claims are not a CBOR map');
  const found = {};
  for (const [key, value] of map.entries) {
    if (typeof key !== 'number') continue; // text keys and huge integers: unknown claims
    const name = TOP_KEYS.get(key);
    if (!name) continue;
    if (name in found) fail(`claim ${key} appears twice`);
    found[name] = value;
  }
  if (typeof found.iss !== 'string') fail(found.iss === undefined ? "claim 'iss' (1) is missing" : "claim 'iss' (1) must be text");
  const time = (name, label) => {
    const v = found[name];
    if (v === undefined) fail(`claim '${name} (${label})' is missing`);
    if (!isInt(v)) fail(`claim '${name} (${label})' must be an integer number of seconds`);
    if (BigInt(v) < I64_MIN || BigInt(v) > I64_MAX) fail(`claim '${name} (${label})' is out of range`);
    return v;
  };
  const iat = time('iat', 6);
  const nbf = time('nbf', 5);
  const exp = time('exp', 4);
  if (found.cti === undefined) fail("claim 'cti' (7, the pass id) is missing");
  if (!isBytes(found.cti)) fail("claim 'cti' (7) must be a byte string");
  if (found.cti.length !== 16) fail("claim 'cti' (7) must be 16 bytes");
  if (!(found.pass instanceof CborMap)) fail('pass claim -65537 is missing or not a map');
  const fields = [];
  for (const [key, value] of found.pass.entries) {
    if (typeof key !== 'number' || key < 1 || key > 5) continue;
    if (typeof value !== 'string') fail(`pass claim -65537 key ${key} must be text`);
    if (fields[key] !== undefined) fail(`pass claim -65537 repeats key ${key}`);
    fields[key] = value;
  }
  const need = (k, what) => fields[k] ?? fail(`pass claim -65537 has no ${what}`);
  return {
    iss: found.iss,
    iat,
    nbf,
    exp,
    passId: uuid(found.cti),
    purpose: need(1, 'purpose (1)'),
    regime: need(2, 'regime (2)'),
    holder: need(3, 'holder hint (3)'),
    area: fields[4] ?? null,
    vehicle: fields[5] ?? null,
  };
}

// ---------------------------------------------------------------- keys (section 8)

const SPKI_ED25519 = fromHex('302a300506032b6570032100');
const SPKI_P256 = fromHex('3059301306072a8648ce3d020106082a8648ce3d030107034200');

/** kid = the first 8 bytes of SHA-256 over the SubjectPublicKeyInfo DER. */
async function keyId(spki) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', spki)).slice(0, 8);
}

function exactly32(text, what) {
  const b = base64urlDecode(text);
  if (b.length !== 32) throw new Error(`${what} is not 32 bytes`);
  return b;
}

/**
 * Imports a published key set (a JWKS object or its JSON text) as a trust list:
 * a Map from kid hex to {alg, key, kid}. Like the reference implementation it
 * rejects the whole set if any key is unreadable, of an unsupported type, or
 * names a kid that differs from the one computed from its key material.
 */
export async function importTrustList(jwks) {
  const set = typeof jwks === 'string' ? JSON.parse(jwks) : jwks;
  if (!set || !Array.isArray(set.keys)) throw new Error('not a JWKS: no "keys" array');
  const trust = new Map();
  for (const jwk of set.keys) {
    let spki;
    let alg;
    let key;
    if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
      const x = exactly32(jwk.x, 'Ed25519 x');
      spki = concat([SPKI_ED25519, x]);
      alg = ALG_EDDSA;
      key = await crypto.subtle.importKey('raw', x, { name: 'Ed25519' }, false, ['verify']);
    } else if (jwk.kty === 'EC' && jwk.crv === 'P-256') {
      const x = exactly32(jwk.x, 'P-256 x');
      const y = exactly32(jwk.y, 'P-256 y');
      spki = concat([SPKI_P256, new Uint8Array([4]), x, y]);
      alg = ALG_ES256;
      // Importing checks that the point is on the curve.
      key = await crypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    } else {
      throw new Error(`unsupported key type ${jwk.kty}/${jwk.crv}`);
    }
    const kid = await keyId(spki);
    if (typeof jwk.kid !== 'string' || !equalBytes(base64urlDecode(jwk.kid), kid)) {
      throw new Error(`published kid ${jwk.kid} does not match its key (${base64urlEncode(kid)})`);
    }
    trust.set(toHex(kid), { alg, key, kid: base64urlEncode(kid) });
  }
  return trust;
}

async function signatureVerifies(entry, alg, signature, data) {
  if (entry.alg !== alg || signature.length !== 64) return false;
  try {
    return alg === ALG_EDDSA
      ? await crypto.subtle.verify({ name: 'Ed25519' }, entry.key, signature, data)
      : await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, entry.key, signature, data);
  } catch {
    return false;
  }
}

/** A pass id from a revocation list, as 32 lower-case hex digits (UUID or bare, any case). */
export function normalizePassId(id) {
  const hex = String(id).replace(/-/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) ? hex : null;
}

/**
 * Verifies a QR text (section 7). `trust` comes from importTrustList; `revoked`
 * is a Set (or anything whose has() answers, or promises, whether it holds a
 * normalized pass id); `now` is Unix seconds.
 * Returns {verdict, reason?, kid?, claims?}; never throws.
 */
export async function verifyToken(text, trust, revoked, now) {
  let envelope;
  try {
    envelope = await openToken(text);
  } catch (e) {
    return { verdict: 'malformed', reason: e instanceof Malformed ? e.message : `unreadable: ${e}` };
  }
  const { alg, kid, protectedBytes, payload, signature } = envelope;
  const kidText = base64urlEncode(kid);
  const entry = trust.get(toHex(kid));
  if (!entry) return { verdict: 'unknown_key', kid: kidText };
  if (!(await signatureVerifies(entry, alg, signature, sigStructure(protectedBytes, payload)))) {
    return { verdict: 'bad_signature', kid: kidText };
  }
  let claims;
  try {
    claims = readClaims(payload);
  } catch (e) {
    return { verdict: 'malformed', reason: e instanceof Malformed ? e.message : `unreadable claims: ${e}`, kid: kidText };
  }
  const at = BigInt(Math.floor(now));
  const verdict = (await revoked.has(normalizePassId(claims.passId)))
    ? 'revoked'
    : at < BigInt(claims.nbf) ? 'not_yet_valid'
      : at >= BigInt(claims.exp) ? 'expired'
        : 'valid';
  return { verdict, kid: kidText, claims };
}
