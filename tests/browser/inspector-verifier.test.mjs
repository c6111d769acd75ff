// The inspector app's offline verifier (crates/server/static/inspector/verify.js),
// run in Node against docs/token-format.md's worked example and, verdict for
// verdict, against the reference implementation (`propusk verify`) on a corpus of
// valid, hand-built and mutated tokens. Also: the compact revocation pages and
// their lookup, short codes, the vendored QR decoder, the strings of both
// languages. No browser needed.
//
//   cd tests/browser && node --test inspector-verifier.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { REPO } from './lib/server.mjs';
import { APP_DIR, importAppModule } from './lib/modules.mjs';
import { buildCorpus, base45Decode, base45Encode } from './lib/corpus.mjs';

const require = createRequire(import.meta.url);
const verify = await importAppModule('verify.js');
const { parseShortCode } = await importAppModule('shortcode.js');
const { STRINGS } = await importAppModule('strings.js');
const revocations = await importAppModule('revocations.js');

// ---------------------------------------------------------------- the worked example of the format doc

const doc = fs.readFileSync(path.join(REPO, 'docs/token-format.md'), 'utf8');

/** The first fenced block after `marker` in the doc. */
function block(marker) {
  const from = doc.indexOf(marker);
  assert.ok(from >= 0, `the format doc has "${marker}"`);
  const open = doc.indexOf('```', from);
  const start = doc.indexOf('\n', open) + 1;
  return doc.slice(start, doc.indexOf('```', start));
}

// The QR texts are wrapped at 64 characters; spaces inside are base45 characters.
const qrText = (marker) => block(marker).split('\n').filter(Boolean).join('');
const EXAMPLE = {
  jwks: JSON.parse(block('**JWKS** (as served')),
  zlib: qrText('**QR text** (279 characters'),
  raw: qrText('The same token **without zlib**'),
  passId: '00112233-4455-6677-8899-aabbccddeeff',
  nbf: 1586937600,
  exp: 1586948400,
};

test('worked example: the doc\'s QR texts have the stated lengths', () => {
  assert.equal(EXAMPLE.zlib.length, 279);
  assert.equal(EXAMPLE.raw.length, 262);
});

test('worked example: valid, with the claims of the doc, zlib and raw', async () => {
  const trust = await verify.importTrustList(EXAMPLE.jwks);
  assert.deepEqual([...trust.keys()], ['06e3fd8fda29bb60']);
  for (const text of [EXAMPLE.zlib, EXAMPLE.raw]) {
    const r = await verify.verifyToken(text, trust, new Set(), 1586944800);
    assert.equal(r.verdict, 'valid', JSON.stringify(r));
    assert.equal(r.kid, 'BuP9j9opu2A');
    assert.deepEqual(
      { ...r.claims },
      {
        iss: 'RU-MOW', iat: 1586937600, nbf: EXAMPLE.nbf, exp: EXAMPLE.exp, passId: EXAMPLE.passId,
        purpose: 'shopping', regime: 'moscow-2020', holder: 'И.И. 4567', area: null, vehicle: null,
      },
    );
  }
});

test('worked example: the edges of the window, revocation, unknown key', async () => {
  const trust = await verify.importTrustList(EXAMPLE.jwks);
  const at = (now, revoked = new Set(), keys = trust) => verify.verifyToken(EXAMPLE.zlib, keys, revoked, now);
  assert.equal((await at(EXAMPLE.nbf - 1)).verdict, 'not_yet_valid');
  assert.equal((await at(EXAMPLE.nbf)).verdict, 'valid');
  assert.equal((await at(EXAMPLE.exp - 1)).verdict, 'valid');
  assert.equal((await at(EXAMPLE.exp)).verdict, 'expired');
  // Revocation comes first, whatever the time; ids are compared in any spelling.
  const revoked = new Set([verify.normalizePassId('00112233445566778899AABBCCDDEEFF')]);
  assert.equal((await at(EXAMPLE.exp + 10, revoked)).verdict, 'revoked');
  assert.equal((await at(EXAMPLE.nbf, revoked)).verdict, 'revoked');
  assert.equal((await at(EXAMPLE.nbf, new Set(), new Map())).verdict, 'unknown_key');
});

test('worked example: one flipped bit of the signature is a bad signature', async () => {
  const trust = await verify.importTrustList(EXAMPLE.jwks);
  const cose = base45Decode(EXAMPLE.raw.slice(4));
  cose[cose.length - 10] ^= 0x01;
  const r = await verify.verifyToken(`PR1:${base45Encode(cose)}`, trust, new Set(), 1586944800);
  assert.equal(r.verdict, 'bad_signature');
  assert.equal(r.claims, undefined, 'no claims are shown for a forged pass');
});

test('whitespace that scanners add is trimmed; other text is malformed', async () => {
  const trust = await verify.importTrustList(EXAMPLE.jwks);
  assert.equal((await verify.verifyToken(` \t${EXAMPLE.zlib}\r\n`, trust, new Set(), 1586944800)).verdict, 'valid');
  for (const text of ['', 'PR1:', 'PR2:ABC', EXAMPLE.zlib.toLowerCase(), `${EXAMPLE.zlib}\u00a0`, null, 42]) {
    const r = await verify.verifyToken(text, trust, new Set(), 1586944800);
    assert.equal(r.verdict, 'malformed', String(text));
    assert.ok(r.reason.length > 5);
  }
});

test('a key set is rejected whole when a kid does not match its key or a key is unknown', async () => {
  const key = EXAMPLE.jwks.keys[0];
  await assert.rejects(verify.importTrustList({ keys: [{ ...key, kid: 'AAAAAAAAAAA' }] }), /does not match/);
  await assert.rejects(verify.importTrustList({ keys: [key, { kty: 'RSA', n: 'x', e: 'AQAB', kid: 'x' }] }), /unsupported/);
  await assert.rejects(verify.importTrustList({ keys: [{ ...key, x: key.x.slice(0, 20) }] }), /32 bytes/);
  await assert.rejects(verify.importTrustList({ nokeys: [] }), /JWKS/);
  // Trailing '=' is tolerated (section 8).
  assert.equal((await verify.importTrustList({ keys: [{ ...key, x: `${key.x}=` }] })).size, 1);
});

// ---------------------------------------------------------------- against the reference implementation

test('verdicts agree with `propusk verify` on a corpus of valid, hand-built and mutated tokens', async () => {
  const corpus = buildCorpus({ mutationCount: 2500 });
  const trust = await verify.importTrustList(corpus.jwks);
  const revoked = new Set(corpus.revoked.map(verify.normalizePassId));
  const disagreements = [];
  const seen = {};
  for (const [i, item] of corpus.items.entries()) {
    const r = await verify.verifyToken(item.text, trust, revoked, corpus.at);
    seen[r.verdict] = (seen[r.verdict] ?? 0) + 1;
    if (r.verdict !== corpus.expected[i]) {
      disagreements.push(`${item.name}: reference ${corpus.expected[i]}, app ${r.verdict} ${r.reason ?? ''}`);
    }
  }
  assert.deepEqual(disagreements, []);
  // The corpus reaches every verdict.
  for (const v of verify.VERDICTS) assert.ok(seen[v] > 0, `no ${v} in the corpus: ${JSON.stringify(seen)}`);
});

// ---------------------------------------------------------------- short codes (section 12)

// ---------------------------------------------------------------- compact revocation pages

/** A compact page as docs/token-format.md lays it out, built here independently. */
async function compactPage({ sequence, latest, next = '', entries }) {
  const cursor = Buffer.from(next, 'ascii');
  const head = Buffer.alloc(22);
  head.write('PRL1', 0, 'ascii');
  head.writeBigUInt64BE(BigInt(sequence), 4);
  head.writeBigUInt64BE(BigInt(latest), 12);
  head.writeUInt16BE(cursor.length, 20);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  const body = entries.map(([id, until]) => {
    const entry = Buffer.alloc(12);
    const digest = require('node:crypto').createHash('sha256').update(Buffer.from(id.replace(/-/g, ''), 'hex')).digest();
    digest.copy(entry, 0, 0, 8);
    entry.writeUInt32BE(until, 8);
    return entry;
  });
  return new Uint8Array(Buffer.concat([head, cursor, count, ...body])).buffer;
}

test('compact revocation pages: read, looked up by hashed id, ended passes dropped', async () => {
  const ids = Array.from({ length: 5 }, (_, i) => `0f8e7d6c-5b4a-4938-8271-60000000000${i}`);
  const first = revocations.parsePage(await compactPage({
    sequence: 3, latest: 5, next: '3.5', entries: [[ids[0], 2000], [ids[1], 1000], [ids[2], 3000]],
  }));
  assert.deepEqual([first.sequence, first.latest, first.next, first.until.length], [3, 5, '3.5', 3]);
  const last = revocations.parsePage(await compactPage({ sequence: 5, latest: 5, entries: [[ids[3], 2500]] }));
  assert.equal(last.next, null);
  // At 1500 the second pass has ended.
  const index = revocations.buildIndex([first, last], 1500);
  assert.equal(index.length, 3);
  const set = revocations.revokedSet(index);
  const hex = (id) => verify.normalizePassId(id);
  assert.deepEqual(
    await Promise.all(ids.map((id) => set.has(hex(id)))),
    [true, false, true, true, false],
  );
  const pruned = revocations.prunePage(first, 1500);
  assert.deepEqual(Array.from(pruned.until), [2000, 3000]);
  assert.equal(revocations.prunePage(last, 1500), last, 'a page with nothing ended is kept as it is');
  assert.throws(() => revocations.parsePage(new Uint8Array(30).buffer), /not a compact revocation page/);
  const good = new Uint8Array(await compactPage({ sequence: 1, latest: 1, entries: [[ids[0], 1]] }));
  assert.throws(() => revocations.parsePage(good.slice(0, good.length - 1).buffer), /truncated/);
});

test('short codes: the doc\'s example, look-alikes and Cyrillic, typos caught', () => {
  assert.deepEqual(parseShortCode('7K3QX94MM'), { ok: true, code: '7K3QX94MM', display: '7K3-QX9-4MM' });
  assert.equal(parseShortCode('7к3 qх9 4мм').display, '7K3-QX9-4MM');
  assert.equal(parseShortCode(' 7k3-qx9-4mm ').code, '7K3QX94MM');
  assert.equal(parseShortCode('7K3*QX9#4MM').code, '7K3QX94MM');
  assert.deepEqual(parseShortCode(''), { ok: false, error: 'empty' });
  assert.deepEqual(parseShortCode('7K3-QX9-4M'), { ok: false, error: 'length' });
  assert.equal(parseShortCode('7K3-QX9-4M!').error, 'character');
  // Every single wrong symbol and every swap of neighbours is caught.
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXY';
  const good = '7K3QX94MM';
  for (let i = 0; i < 9; i++) {
    for (const ch of alphabet) {
      if (ch === good[i]) continue;
      assert.equal(parseShortCode(good.slice(0, i) + ch + good.slice(i + 1)).ok, false);
    }
    if (i < 8 && good[i] !== good[i + 1]) {
      const swapped = good.slice(0, i) + good[i + 1] + good[i] + good.slice(i + 2);
      assert.equal(parseShortCode(swapped).error, 'check', swapped);
    }
  }
});

// ---------------------------------------------------------------- what ships

test('the vendored jsQR is the npm package\'s file, with its licence', () => {
  const vendored = fs.readFileSync(path.join(APP_DIR, 'vendor/jsQR.js'));
  const npm = fs.readFileSync(require.resolve('jsqr/dist/jsQR.js'));
  assert.ok(vendored.equals(npm), 'vendor/jsQR.js differs from node_modules/jsqr/dist/jsQR.js');
  const licence = fs.readFileSync(path.join(APP_DIR, 'vendor/jsQR.LICENSE.txt'), 'utf8');
  assert.match(licence, /Apache License/);
  assert.equal(require('jsqr/package.json').version, '1.4.0');
  assert.match(fs.readFileSync(path.join(APP_DIR, 'vendor/README.txt'), 'utf8'), /jsqr 1\.4\.0/);
});

test('every string exists in Russian and English, none empty', () => {
  assert.deepEqual(Object.keys(STRINGS.ru).sort(), Object.keys(STRINGS.en).sort());
  for (const lang of ['ru', 'en']) {
    for (const [key, text] of Object.entries(STRINGS[lang])) assert.ok(text.trim(), `${lang}.${key} is empty`);
  }
  // Parameters match between the languages.
  const params = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(STRINGS.ru)) assert.deepEqual(params(STRINGS.ru[key]), params(STRINGS.en[key]), key);
  // Every data-i18n key of the page exists.
  const html = fs.readFileSync(path.join(APP_DIR, 'index.html'), 'utf8');
  for (const [, key] of html.matchAll(/data-i18n(?:-label)?="(\w+)"/g)) assert.ok(key in STRINGS.ru, key);
  // Every verdict has a reason in both languages.
  for (const v of verify.VERDICTS) assert.ok(STRINGS.en[`reason_${v}`] && STRINGS.ru[`reason_${v}`], v);
});
