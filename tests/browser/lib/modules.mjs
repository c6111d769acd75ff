// Imports one of the inspector app's self-contained ES modules (verify.js,
// shortcode.js, strings.js) into Node, for tests that need no browser. The app's
// folder has no package.json saying "type": "module", so the file is imported
// through a copy named .mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './server.mjs';

export const APP_DIR = path.join(REPO, 'crates/server/static/inspector');

export async function importAppModule(name) {
  const source = fs.readFileSync(path.join(APP_DIR, name), 'utf8');
  if (/^\s*import\s/m.test(source)) throw new Error(`${name} imports other modules; load it in a browser instead`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'propusk-module-'));
  const file = path.join(dir, name.replace(/\.js$/, '.mjs'));
  fs.writeFileSync(file, source);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
