// The service worker: keeps the app shell so that the app opens with no network.
// The server splices the app's version (a hash of all its files) into VERSION, so
// a new release installs a new cache and the old one is dropped. The lists used
// for checking (keys, revocations, regime) are not here but in IndexedDB, kept
// by the page (sync.js); API calls always go to the network.

const VERSION = '__PROPUSK_INSPECTOR_VERSION__';
const CACHE = `propusk-inspector-${VERSION}`;

const SHELL = [
  './',
  'app.css',
  'app.js',
  'verify.js',
  'shortcode.js',
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

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // Bypass the HTTP cache so that the new version's files are what gets stored.
    await cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names
      .filter((name) => name.startsWith('propusk-inspector-') && name !== CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // Every page of the app is the one shell page.
    const key = request.mode === 'navigate' ? scope.href : request;
    const hit = await cache.match(key, { ignoreSearch: true });
    return hit ?? fetch(request);
  })());
});
