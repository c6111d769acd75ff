// Debian's Chromium driven by playwright-core, and what the tests do with pages:
// phone-sized contexts, axe-core scans, screenshots, CSP violation capture.
//
//   const browser = await launchChromium({ fakeVideo: '/tmp/qr.y4m' });
//   const context = await phoneContext(browser);          // 390×844, touch, ru-RU, incognito
//   const page = await context.newPage();
// or, a phone with a profile of its own (storage kept, apps installable):
//   const context = await launchPhone({ fakeVideo });     // context.close() ends the browser
//   const page = context.pages()[0];
//   watchCsp(page);                                       // before the first goto
//   ...
//   await cspViolations(page)                             // [] when the page kept to its CSP
//   await axeViolations(page)                             // serious and critical only
//   await screenshot(page, 'inspector-verdict')           // screenshots/inspector-verdict.png
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve(here, '../screenshots');

function chromiumArgs(fakeVideo) {
  // No network but the test server's: nothing of Chromium's own may phone home.
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
  ];
  if (fakeVideo) {
    args.push(
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${fakeVideo}`,
    );
  }
  return args;
}

/**
 * Launches headless Chromium. With `fakeVideo` (a .y4m or .mjpeg file) the camera is a
 * fake device that plays that file, and camera permission is granted without a prompt;
 * Chromium opens the file anew each time a page starts the camera.
 */
export function launchChromium({ fakeVideo } = {}) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs(fakeVideo) });
}

/** What a phone-sized context looks like: an iPhone 12-class screen, Russian, Moscow time. */
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'ru-RU',
  timezoneId: 'Europe/Moscow',
};

/** A phone-sized incognito context of a launched browser. */
export function phoneContext(browser, options = {}) {
  return browser.newContext({ ...PHONE, ...options });
}

/**
 * A phone-sized browser with a profile of its own in a temporary folder (not
 * incognito: storage persists and Chromium considers web apps installable).
 * Returns the context; closing it ends the browser and removes the profile.
 */
export async function launchPhone({ fakeVideo, ...options } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'propusk-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: chromiumArgs(fakeVideo),
    ...PHONE,
    ...options,
  });
  // Chromium writes to the profile until its process is gone: remove it after close() returns.
  const close = context.close.bind(context);
  context.close = async (...args) => {
    await close(...args);
    await fs.promises.rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => {});
  };
  return context;
}

/** Records Content-Security-Policy violations of every page load; read with cspViolations(). */
export async function watchCsp(page) {
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page.__consoleCsp = [];
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) page.__consoleCsp.push(message.text());
  });
}

export async function cspViolations(page) {
  const inPage = await page.evaluate(() => window.__cspViolations ?? []);
  return [...inPage, ...(page.__consoleCsp ?? [])];
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page (WCAG 2.0/2.1 A and AA rules plus best practices) and
 * returns the violations of the given impacts, each as {id, impact, help, nodes}.
 * axe is evaluated through the DevTools protocol, so the page's CSP stays in force.
 */
export async function axeViolations(page, { impacts = ['serious', 'critical'], include } = {}) {
  const results = await page.evaluate(async ([source, context]) => {
    if (!window.axe) (0, eval)(source); // eslint-disable-line no-eval -- test tooling, not the app
    return window.axe.run(context ?? document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
  }, [AXE_SOURCE, include ?? null]);
  return results.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

/** Writes screenshots/NAME.png (the folder is git-ignored) and returns its path. */
export async function screenshot(page, name, options = {}) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, ...options });
  return file;
}
