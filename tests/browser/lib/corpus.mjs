// A corpus of pass tokens for checking the inspector's verifier against the
// reference implementation (`propusk verify`, the Rust token crate):
//
//   const corpus = buildCorpus();          // tokens, the trust list, the revocations
//   corpus.items                           // [{name, text}]
//   corpus.expected                        // the reference verdict of each item
//
// Tokens come from three signers: `propusk sign` with an Ed25519 and an ES256 key
// (random ECDSA signatures, so about half have a high s), and a test key in this
// file that signs hand-built COSE_Sign1 structures — repeated claims, float and
// tagged times, unknown claims, indefinite lengths, wrong algorithms — that no
// correct issuer makes. Then bit flips, byte edits, truncations and text edits of
// all of them. The verdicts of the reference CLI are the expected ones.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { propuskBinary } from './server.mjs';

// ---------------------------------------------------------------- base45, CBOR

const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

export function base45Encode(bytes) {
  let out = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    let n = bytes[i] * 256 + bytes[i + 1];
    for (let k = 0; k < 3; k++) {
      out += B45[n % 45];
      n = Math.floor(n / 45);
    }
  }
  if (bytes.length % 2) {
    const n = bytes[bytes.length - 1];
    out += B45[n % 45] + B45[Math.floor(n / 45)];
  }
  return out;
}

export function base45Decode(text) {
  const out = [];
  for (let i = 0; i < text.length; i += 3) {
    const g = [...text.slice(i, i + 3)].map((c) => B45.indexOf(c));
    const n = g.reduce((acc, d, k) => acc + d * 45 ** k, 0);
    if (g.length === 3) out.push(n >> 8, n & 0xff);
    else out.push(n);
  }
  return Buffer.from(out);
}

/** Raw CBOR bytes, inserted as they are (for hand-made encodings). */
export class Raw {
  constructor(bytes) {
    this.bytes = Buffer.from(bytes);
  }
}
export class Tag {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}
export class Float {
  constructor(value) {
    this.value = value;
  }
}
/** A map as a list of [key, value] pairs, so that keys may repeat. */
export class CMap {
  constructor(entries) {
    this.entries = entries;
  }
}

function head(major, n) {
  const m = major << 5;
  const v = BigInt(n);
  if (v < 24n) return Buffer.from([m | Number(v)]);
  if (v < 0x100n) return Buffer.from([m | 24, Number(v)]);
  if (v < 0x10000n) return Buffer.from([m | 25, Number(v >> 8n), Number(v & 0xffn)]);
  if (v < 0x100000000n) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(Number(v), 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = m | 27;
  b.writeBigUInt64BE(v, 1);
  return b;
}

export function cbor(value) {
  if (value instanceof Raw) return value.bytes;
  if (value === null) return Buffer.from([0xf6]);
  if (value === true) return Buffer.from([0xf5]);
  if (value === false) return Buffer.from([0xf4]);
  if (typeof value === 'number' || typeof value === 'bigint') {
    const v = BigInt(value);
    return v >= 0n ? head(0, v) : head(1, -1n - v);
  }
  if (value instanceof Float) {
    const b = Buffer.alloc(9);
    b[0] = 0xfb;
    b.writeDoubleBE(value.value, 1);
    return b;
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === 'string') {
    const b = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, b.length), b]);
  }
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  if (value instanceof CMap) {
    return Buffer.concat([head(5, value.entries.length), ...value.entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  }
  if (value instanceof Tag) return Buffer.concat([head(6, value.tag), cbor(value.value)]);
  throw new Error(`cannot encode ${value}`);
}

// ---------------------------------------------------------------- a test signer

export function testSigner() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const kid = crypto.createHash('sha256').update(spki).digest().subarray(0, 8);
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: kid.toString('base64url'), alg: 'EdDSA', use: 'sig' };
  return { kid, jwk, sign: (data) => crypto.sign(null, data, privateKey) };
}

/**
 * A signed COSE_Sign1 built from parts: `protectedMap` and `claims` are encoded
 * with cbor() unless given as Raw; `mutate` may change the four parts after
 * signing. Returns the QR text (zlib-compressed unless raw: true).
 */
export function makeToken(signer, {
  protectedMap, claims, unprotected = new CMap([]), tag = 18, raw = false, signatureLength = 64, mutate,
}) {
  const protectedBytes = cbor(protectedMap ?? new CMap([[1, -8], [4, signer.kid]]));
  const payload = cbor(claims);
  const sigStructure = cbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
  let signature = signer.sign(sigStructure).subarray(0, signatureLength);
  let parts = [protectedBytes, unprotected, payload, signature];
  if (mutate) parts = mutate(parts);
  const cose = cbor(new Tag(tag, parts.map((p) => (p instanceof Uint8Array ? p : p))));
  const bytes = raw ? cose : zlib.deflateSync(cose, { level: 9 });
  return `PR1:${base45Encode(bytes)}`;
}

export function standardClaims(overrides = {}) {
  const c = {
    iss: 'RU-MOW', exp: 1586948400, nbf: 1586937600, iat: 1586937600,
    cti: crypto.randomBytes(16), purpose: 'shopping', regime: 'moscow-2020', holder: 'И.И. 4567',
    ...overrides,
  };
  return new CMap([
    [1, c.iss], [4, c.exp], [5, c.nbf], [6, c.iat], [7, c.cti],
    [-65537, new CMap([[1, c.purpose], [2, c.regime], [3, c.holder]])],
  ]);
}

// ---------------------------------------------------------------- the corpus

/** "Now" for every check of the corpus: inside the standard validity window. */
export const AT = '2020-04-15T09:00:00Z';
export const AT_SECONDS = Date.parse(AT) / 1000;

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function structuralCases(signer) {
  const id = crypto.randomBytes(16);
  const base = { cti: id };
  const pass = (entries) => [-65537, new CMap(entries)];
  const top = (extra) => new CMap([
    [1, 'RU-MOW'], [4, 1586948400], [5, 1586937600], [6, 1586937600], [7, crypto.randomBytes(16)], ...extra,
  ]);
  const std = [[1, 'shopping'], [2, 'moscow-2020'], [3, 'И.И. 4567']];
  const T = (name, options) => ({ name, text: makeToken(signer, options) });
  return [
    T('test signer: valid', { claims: standardClaims(base) }),
    T('test signer: raw COSE, no zlib', { claims: standardClaims(), raw: true }),
    T('area and vehicle', { claims: top([pass([...std, [4, 'MOW-CAO'], [5, 'А123ВС77']])]) }),
    T('repeated iss', { claims: top([[1, 'RU-SPE'], pass(std)]) }),
    T('nbf as a float', { claims: standardClaims({ nbf: new Float(1586937600) }) }),
    T('exp tagged 1', { claims: standardClaims({ exp: new Tag(1, 1586948400) }) }),
    T('cti of 15 bytes', { claims: standardClaims({ cti: crypto.randomBytes(15) }) }),
    T('cti as text', { claims: standardClaims({ cti: 'not bytes' }) }),
    T('iss as bytes', { claims: standardClaims({ iss: Buffer.from('RU-MOW') }) }),
    T('unknown text claim', { claims: top([['note', 'hello'], pass(std)]) }),
    T('unknown integer claim', { claims: top([[99, [1, 2, 3]], [-70000, new CMap([])], pass(std)]) }),
    T('unknown pass field', { claims: top([pass([...std, [6, 42], ['x', 'y']])]) }),
    T('pass field repeated', { claims: top([pass([...std, [2, 'tatarstan-2020']])]) }),
    T('purpose as an integer', { claims: top([pass([[1, 3], [2, 'moscow-2020'], [3, 'И.И. 4567']])]) }),
    T('no holder', { claims: top([pass([[1, 'shopping'], [2, 'moscow-2020']])]) }),
    T('no pass claim', { claims: top([]) }),
    T('pass claim as an array', { claims: top([[-65537, ['shopping']]]) }),
    T('missing exp', { claims: new CMap([[1, 'RU-MOW'], [5, 1], [6, 1], [7, crypto.randomBytes(16)], pass(std)]) }),
    T('exp beyond i64', { claims: standardClaims({ exp: 2n ** 64n - 1n }) }),
    T('exp far future, above 2^53', { claims: standardClaims({ exp: 2n ** 60n }) }),
    T('negative nbf', { claims: standardClaims({ nbf: -5 }) }),
    T('nbf = exp', { claims: standardClaims({ nbf: 1586940000, exp: 1586940000 }) }),
    T('not yet valid', { claims: standardClaims({ nbf: 1586950000, exp: 1586960000 }) }),
    T('expired', { claims: standardClaims({ nbf: 1586930000, exp: 1586937600 }) }),
    T('bytes after the claims map', { claims: new Raw(Buffer.concat([cbor(standardClaims()), Buffer.from([0x01, 0x02])])) }),
    T('claims are an array', { claims: [1, 2, 3] }),
    T('indefinite-length claims map', {
      claims: new Raw(Buffer.concat([Buffer.from([0xbf]), cbor(standardClaims()).subarray(1), Buffer.from([0xff])])),
    }),
    T('invalid UTF-8 in an unknown claim', { claims: top([[50, new Raw([0x62, 0xc3, 0x28])], pass(std)]) }),
    T('deeply nested unknown claim', { claims: top([[60, JSON.parse('['.repeat(100) + ']'.repeat(100))], pass(std)]) }),
    T('repeated protected label', { protectedMap: new CMap([[1, -8], [1, -8], [4, signer.kid]]), claims: standardClaims() }),
    T('alg as text', { protectedMap: new CMap([[1, 'EdDSA'], [4, signer.kid]]), claims: standardClaims() }),
    T('alg missing', { protectedMap: new CMap([[4, signer.kid]]), claims: standardClaims() }),
    T('alg ES256 on an Ed25519 key', { protectedMap: new CMap([[1, -7], [4, signer.kid]]), claims: standardClaims() }),
    T('alg unsupported (-35)', { protectedMap: new CMap([[1, -35], [4, signer.kid]]), claims: standardClaims() }),
    T('kid of 7 bytes', { protectedMap: new CMap([[1, -8], [4, signer.kid.subarray(0, 7)]]), claims: standardClaims() }),
    T('kid only unprotected', {
      protectedMap: new CMap([[1, -8]]), unprotected: new CMap([[4, signer.kid]]), claims: standardClaims(),
    }),
    T('unprotected alg as bytes', { unprotected: new CMap([[1, Buffer.from([1])]]), claims: standardClaims() }),
    T('unprotected unknown label', { unprotected: new CMap([[99, 'x']]), claims: standardClaims() }),
    T('protected header with trailing bytes', {
      protectedMap: new Raw(Buffer.concat([cbor(new CMap([[1, -8], [4, signer.kid]])), Buffer.from([0])])),
      claims: standardClaims(),
    }),
    T('tag 17', { tag: 17, claims: standardClaims() }),
    T('array of 3', { claims: standardClaims(), mutate: (p) => p.slice(0, 3) }),
    T('nil payload', { claims: standardClaims(), mutate: ([a, b, , d]) => [a, b, null, d] }),
    T('signature of 63 bytes', { claims: standardClaims(), signatureLength: 63 }),
    T('signature over other claims', {
      claims: standardClaims(),
      mutate: ([a, b, , d]) => [a, b, cbor(standardClaims({ holder: 'П.П. 0000' })), d],
    }),
  ];
}

function cliSigned(bin, dir, alg, count) {
  spawnSync(bin, ['keys', 'generate', '--data-dir', dir, '--alg', alg], { encoding: 'utf8' });
  const items = [];
  for (let i = 0; i < count; i++) {
    const args = ['sign', '--data-dir', dir, '--purpose', ['shopping', 'work', 'pet'][i % 3], '--regime', 'moscow-2020',
      '--holder', ['И.И. 4567', 'J.S. 12AB', 'А.Б. 0001'][i % 3],
      '--valid-from', i % 4 === 3 ? '2020-04-15T10:00:00Z' : '2020-04-15T08:00:00Z',
      '--valid-until', i % 5 === 4 ? '2020-04-15T08:30:00Z' : '2020-04-15T11:00:00Z'];
    if (i % 2) args.push('--area', 'MOW-CAO', '--vehicle', 'А123ВС77');
    const r = spawnSync(bin, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`propusk sign: ${r.stderr}`);
    items.push({ name: `${alg} #${i}`, text: r.stdout.trim().split('\n').at(-1) });
  }
  const jwks = JSON.parse(spawnSync(bin, ['keys', 'export', '--data-dir', dir], { encoding: 'utf8' }).stdout);
  return { items, jwks };
}

function mutations(items, count, random) {
  const pick = (n) => Math.floor(random() * n);
  const out = [];
  for (let i = 0; i < count; i++) {
    const source = items[pick(items.length)];
    const body = source.text.slice(4);
    let bytes = base45Decode(body);
    let text;
    const kind = pick(9);
    if (kind === 0) {
      // A character of the text replaced (base45 alphabet, sometimes a lower-case letter).
      const at = pick(body.length);
      const ch = random() < 0.9 ? B45[pick(45)] : 'q';
      text = `PR1:${body.slice(0, at)}${ch}${body.slice(at + 1)}`;
    } else if (kind === 1) {
      const at = pick(body.length);
      text = `PR1:${body.slice(0, at)}${body.slice(at + 1)}`;
    } else {
      // Work on the COSE bytes.
      let cose = bytes[0] === 0xd2 ? bytes : zlib.inflateSync(bytes);
      cose = Buffer.from(cose);
      const at = pick(cose.length);
      if (kind === 2) cose[at] ^= 1 << pick(8);
      else if (kind === 3) cose[at] = pick(256);
      else if (kind === 4) cose = cose.subarray(0, at);
      else if (kind === 5) cose = Buffer.concat([cose.subarray(0, at), Buffer.from([pick(256)]), cose.subarray(at)]);
      else if (kind === 6) cose = Buffer.concat([cose, Buffer.from([pick(256)])]);
      if (kind === 7) {
        // The zlib stream itself damaged, or followed by a byte.
        bytes = Buffer.from(zlib.deflateSync(cose));
        if (random() < 0.5) bytes[pick(bytes.length)] ^= 1 << pick(8);
        else bytes = Buffer.concat([bytes, Buffer.from([pick(256)])]);
      } else if (kind === 8) {
        bytes = cose; // raw COSE
      } else {
        bytes = random() < 0.5 ? zlib.deflateSync(cose) : cose;
      }
      text = `PR1:${base45Encode(bytes)}`;
    }
    out.push({ name: `mutation ${i} (kind ${kind}) of ${source.name}`, text });
  }
  return out;
}

const EDGE_TEXTS = [
  ['empty', ''],
  ['spaces only', '   '],
  ['prefix only', 'PR1:'],
  ['lower-case prefix', 'pr1:NCFN90'],
  ['a URL', 'https://example.org/'],
  ['base45 length 3k+1', 'PR1:ABCD'],
  ['base45 group out of range', 'PR1:GGW'],
  ['too long', `PR1:${'0'.repeat(4100)}`],
  ['zlib bomb', `PR1:${base45Encode(zlib.deflateSync(Buffer.alloc(20000)))}`],
  ['zlib with a preset dictionary flag', `PR1:${base45Encode(Buffer.from([0x78, 0xbb, 0, 0, 0, 0, 0, 1]))}`],
];

/**
 * Builds the corpus and asks the reference CLI for every verdict.
 * Returns {jwks, revoked, at, items, expected}.
 */
export function buildCorpus({ mutationCount = 1500, seed = 20200415 } = {}) {
  const bin = propuskBinary();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'propusk-corpus-'));
  const ed = cliSigned(bin, path.join(work, 'ed'), 'ed25519', 8);
  const es = cliSigned(bin, path.join(work, 'es'), 'es256', 12);
  const signer = testSigner();
  const structural = structuralCases(signer);
  // One pass of each CLI signer is revoked.
  const revokedItems = [ed.items[1], es.items[2]];
  const passIdOf = (item) => {
    const r = spawnSync(bin, ['verify', '--keys', path.join(work, 'all.json'), '--json', item.text], { encoding: 'utf8' });
    return JSON.parse(r.stdout).claims.pass_id;
  };
  const jwks = { keys: [...ed.jwks.keys, ...es.jwks.keys, signer.jwk] };
  fs.writeFileSync(path.join(work, 'all.json'), JSON.stringify(jwks));
  const revoked = revokedItems.map(passIdOf);
  fs.writeFileSync(path.join(work, 'revoked.json'), JSON.stringify({
    sequence: 2, revoked: revoked.map((id, i) => ({ seq: i + 1, pass_id: id })),
  }));
  const unknown = testSigner();
  const base = [
    ...ed.items, ...es.items, ...structural,
    { name: 'signed by an unknown key', text: makeToken(unknown, { claims: standardClaims() }) },
  ];
  const items = [
    ...EDGE_TEXTS.map(([name, text]) => ({ name, text })),
    ...base,
    ...mutations(base, mutationCount, rng(seed)),
  ];
  const r = spawnSync(bin, [
    'verify', '--keys', path.join(work, 'all.json'), '--revocations', path.join(work, 'revoked.json'),
    '--at', AT, '--json', '-',
  ], { input: items.map((i) => i.text).join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
  const expected = r.stdout.trim().split('\n').map((line) => JSON.parse(line).verdict);
  if (expected.length !== items.length) throw new Error(`propusk verify answered ${expected.length} of ${items.length}: ${r.stderr}`);
  fs.rmSync(work, { recursive: true, force: true });
  return { jwks, revoked, at: AT_SECONDS, items, expected };
}
