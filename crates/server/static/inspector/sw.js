// The service worker: keeps the app shell so that the app opens with no network (the
// shared pwa/sw.js does the work). The server splices the app's version (a hash of all its
// files) into VERSION, so a new release installs a new cache and the old one is dropped. The
// lists used for checking (keys, revocations, regime) are not here but in IndexedDB, kept by
// the page (sync.js); API calls always go to the network.

importScripts('pwa/sw.js');

const VERSION = '__PROPUSK_INSPECTOR_VERSION__';

const SHELL = [
  './',
  'pwa/base.css',
  'pwa/i18n.js',
  'app.css',
  'app.js',
  'verify.js',
  'shortcode.js',
  'strings.js',
  'i18n.js',
  'db.js',
  'sync.js',
  'revocations.js',
  'scanner.js',
  'qr-worker.js',
  'vendor/jsQR.js',
  'manifest.webmanifest',
  'icons/icon.svg',
  'icons/icon-192.png',
  'icons/icon-512.png',
];

serveShell('propusk-inspector-', VERSION, SHELL);
