// The service worker: keeps the app's own files for offline use (network first, so a new
// version is picked up at once; the cached copy when the network is away). The API is never
// cached: reads need the network, and events wait in the outbox (IndexedDB), not here.
const CACHE = 'fouta-app-v15';
const SHELL = [
  '/app/', '/app/index.html', '/app/manifest.webmanifest', '/app/css/app.css',
  '/app/icons/icon.svg', '/app/icons/icon-192.png', '/app/icons/icon-512.png',
  '/app/js/main.js', '/app/js/api.js', '/app/js/outbox.js', '/app/js/forms.js', '/app/js/specs.js',
  '/app/js/views.js', '/app/js/live.js', '/app/js/scan.js', '/app/js/dom.js', '/app/js/uuid.js',
  '/app/js/i18n.js', '/app/js/fr.js', '/app/js/en.js', '/app/js/verdict.js', '/app/js/label.js', '/app/js/notify.js', '/app/js/catalog.js', '/app/js/screens.js', '/app/js/desks.js', '/app/js/users.js', '/app/js/upkeep.js',
];

// Installed by npm (scripts/setup): kept when present, the app works without (typed ids).
const OPTIONAL = ['/app/node_modules/jsqr/dist/jsQR.js'];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const c = await caches.open(CACHE);
    await c.addAll(SHELL);
    await Promise.all(OPTIONAL.map((u) => c.add(u).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin || !url.pathname.startsWith('/app/')) return;
  event.respondWith((async () => {
    try {
      const res = await fetch(event.request);
      if (res.ok) {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put(event.request, copy));
      }
      return res;
    } catch (e) {
      const hit = await caches.match(event.request, { ignoreSearch: true });
      if (hit) return hit;
      if (event.request.mode === 'navigate') return (await caches.match('/app/index.html')) || Response.error();
      return Response.error();
    }
  })());
});
