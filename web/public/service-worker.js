// Salon's service worker: it shows Web Push notifications and opens them. Nothing else: it has
// no fetch handler, so it never stands between the app and the network or caches anything.
// Served from the build root (/service-worker.js, no-cache) so its scope is the whole app.
// What a push carries (src/salon/services/push.py): {"id", "kind", "title", "body", "url"}.

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  // Take the open tabs at once, so a click can bring one of them to the notification's page.
  event.waitUntil(self.clients.claim());
});

/** The notification's page: only an http(s) URL, else the app's home. */
function pageUrl(value) {
  try {
    const url = new URL(String(value ?? "/"), self.location.origin);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch {
    // fall through
  }
  return new URL("/", self.location.origin).href;
}

function readPush(data) {
  if (!data) return {};
  try {
    const parsed = data.json();
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return { body: data.text() };
  }
}

self.addEventListener("push", (event) => {
  const push = readPush(event.data);
  const title = typeof push.title === "string" && push.title ? push.title : "Salon";
  const options = {
    body: typeof push.body === "string" ? push.body : "",
    // The same notification pushed twice (a retry) replaces itself instead of stacking.
    tag: push.id !== undefined ? `salon-n${push.id}` : "salon",
    data: { url: pageUrl(push.url), kind: push.kind ?? null, id: push.id ?? null },
  };
  // A push must show something (userVisibleOnly): even an unreadable one shows "Salon".
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = pageUrl(event.notification.data?.url);
  event.waitUntil(
    (async () => {
      const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const same = tabs.find((tab) => tab.url === url);
      if (same) return same.focus();
      const salon = tabs.find((tab) => new URL(tab.url).origin === self.location.origin);
      if (salon && new URL(url).origin === self.location.origin) {
        // navigate() works on a tab this worker controls; one that is not (opened before
        // the worker) refuses, and a new tab opens at the page instead.
        try {
          const moved = await salon.navigate(url);
          if (moved) return moved.focus();
        } catch {
          // fall through
        }
      }
      return self.clients.openWindow(url);
    })(),
  );
});
