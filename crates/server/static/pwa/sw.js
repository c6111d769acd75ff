// What the apps' service workers share, loaded with importScripts from each app's sw.js:
// keep the app shell so that the app opens with no network. `serveShell(prefix, version,
// shell)` caches the shell on install under `${prefix}${version}`, drops the app's older
// caches on activate, and answers in-scope GET requests from the cache (every navigation
// with the one shell page). API calls are out of scope and always go to the network.

/* exported serveShell */
function serveShell(prefix, version, shell) {
  const cache = `${prefix}${version}`;

  self.addEventListener('install', (event) => {
    event.waitUntil((async () => {
      const open = await caches.open(cache);
      // Bypass the HTTP cache so that the new version's files are what gets stored.
      await open.addAll(shell.map((path) => new Request(path, { cache: 'reload' })));
      await self.skipWaiting();
    })());
  });

  self.addEventListener('activate', (event) => {
    event.waitUntil((async () => {
      const names = await caches.keys();
      await Promise.all(names
        .filter((name) => name.startsWith(prefix) && name !== cache)
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
      const open = await caches.open(cache);
      // Every page of the app is the one shell page.
      const key = request.mode === 'navigate' ? scope.href : request;
      const hit = await open.match(key, { ignoreSearch: true });
      return hit ?? fetch(request);
    })());
  });
}
