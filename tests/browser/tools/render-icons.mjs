// Renders an app's PNG icons from its SVG with Debian's Chromium:
//   node tools/render-icons.mjs [inspector|patient-app]     (default: inspector)
// Writes crates/server/static/APP/icons/icon-{192,512}.png and
// icon-maskable-512.png (full-bleed background, the mark inside the 80 % safe zone).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../lib/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const app = process.argv[2] ?? 'inspector';
const icons = path.resolve(here, '../../../crates/server/static', app, 'icons');
const svg = fs.readFileSync(path.join(icons, 'icon.svg'), 'utf8');
const maskable = svg
  .replace('rx="96" ', '')
  .replace(/<path /g, '<path transform="translate(64 64) scale(0.75)" ');

const browser = await launchChromium();
const page = await browser.newPage();
for (const [name, source, size] of [
  ['icon-192.png', svg, 192],
  ['icon-512.png', svg, 512],
  ['icon-maskable-512.png', maskable, 512],
]) {
  await page.setViewportSize({ width: size, height: size });
  const sized = source.replace('width="512" height="512"', `width="${size}" height="${size}"`);
  await page.setContent(`<html><body style="margin:0;background:transparent">${sized}</body></html>`);
  await page.screenshot({ path: path.join(icons, name), omitBackground: true });
  console.log('wrote', name);
}
await browser.close();
