// The service worker: keeps the app shell so that the app opens with no network (the
// shared pwa/sw.js does the work). It is registered only once the phone is enrolled, and
// unregistered (with its caches) when the device retires. The server splices the app's
// version (a hash of all its files) into VERSION, so a new release installs a new cache and
// the old one is dropped. Reports, answers and settings are not here but in IndexedDB
// (db.js); API calls always go to the network.

importScripts('pwa/sw.js');

const VERSION = '__PROPUSK_PATIENT_APP_VERSION__';

const SHELL = [
  './',
  'pwa/base.css',
  'pwa/i18n.js',
  'app.css',
  'app.js',
  'api.js',
  'camera.js',
  'db.js',
  'i18n.js',
  'strings.js',
  'reports.js',
  'manifest.webmanifest',
  'icons/icon.svg',
  'icons/icon-192.png',
];

serveShell('propusk-patient-', VERSION, SHELL);
