// "Notify this browser": Web Push subscribing and unsubscribing, as pure steps over a small
// environment (the browser's Push API and the server's endpoints), so they run under Vitest
// with fakes. The React side is DeliverySettings.tsx; the worker is public/service-worker.js.

/** Where the service worker is served (the build root: its scope is the whole app). */
export const SERVICE_WORKER_URL = "/service-worker.js";

/** base64url (no padding, as GET /api/push/key gives it) → the bytes `subscribe` wants. */
export function decodeBase64Url(value: string): Uint8Array<ArrayBuffer> {
  const trimmed = value.trim().replace(/=+$/, "");
  if (!/^[A-Za-z0-9_-]*$/.test(trimmed) || trimmed.length % 4 === 1) {
    throw new Error("not base64url");
  }
  const base64 = trimmed.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The instance's key as a P-256 public point (65 bytes, uncompressed: 0x04 ‖ x ‖ y). */
export function applicationServerKey(publicKey: string): Uint8Array<ArrayBuffer> {
  const bytes = decodeBase64Url(publicKey);
  if (bytes.length !== 65 || bytes[0] !== 0x04) {
    throw new Error("the server's push key is not an uncompressed P-256 point");
  }
  return bytes;
}

/** Whether a subscription was made with this key (unknown: assume it was). */
export function sameKey(made: ArrayBuffer | null | undefined, key: Uint8Array): boolean {
  if (!made) return true;
  const bytes = new Uint8Array(made);
  return bytes.length === key.length && bytes.every((b, i) => b === key[i]);
}

// --- The environment -------------------------------------------------------------------

/** What the browser's PushSubscription gives (and what a test's fake gives). */
export interface SubscriptionLike {
  endpoint: string;
  options?: { applicationServerKey: ArrayBuffer | null } | undefined;
  toJSON(): PushSubscriptionJSON;
  unsubscribe(): Promise<boolean>;
}

export interface PushManagerLike {
  getSubscription(): Promise<SubscriptionLike | null>;
  subscribe(options: {
    userVisibleOnly: boolean;
    applicationServerKey: Uint8Array<ArrayBuffer>;
  }): Promise<SubscriptionLike>;
}

export interface PushEnv {
  /** The Push API is there (service workers, PushManager, Notification, a secure page). */
  supported: boolean;
  permission(): NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  /** The registration already there, if any (no prompt, nothing installed). */
  existing(): Promise<PushManagerLike | null>;
  /** Install the worker and wait for it to be active. */
  register(): Promise<PushManagerLike>;
  /** GET /api/push/key; null when the server does not send pushes (404). */
  serverKey(): Promise<string | null>;
  /** POST /api/me/push-subscriptions. */
  save(subscription: PushSubscriptionJSON): Promise<void>;
  /** DELETE /api/me/push-subscriptions (one the server does not know is fine). */
  forget(endpoint: string): Promise<void>;
}

/** Where the switch stands after a step. */
export type PushResult =
  | { status: "unsupported" }
  | { status: "unavailable" }
  | { status: "denied" }
  | { status: "off"; note?: string }
  | { status: "on"; endpoint: string };

/** On opening Settings: is this browser subscribed? A subscription it has is saved again,
 * so it is tied to whoever is signed in now (the server moves it to them). */
export async function checkPush(env: PushEnv): Promise<PushResult> {
  if (!env.supported) return { status: "unsupported" };
  const key = await env.serverKey();
  if (key === null) return { status: "unavailable" };
  if (env.permission() === "denied") return { status: "denied" };
  const manager = await env.existing();
  const subscription = manager ? await manager.getSubscription() : null;
  if (!subscription || env.permission() !== "granted") return { status: "off" };
  if (!sameKey(subscription.options?.applicationServerKey, applicationServerKey(key))) {
    // Made with a key this instance no longer has: pushes to it would be refused.
    await subscription.unsubscribe();
    return { status: "off" };
  }
  await env.save(subscription.toJSON());
  return { status: "on", endpoint: subscription.endpoint };
}

/** The switch turned on: permission first (it needs the click), then worker, then push. */
export async function turnOn(env: PushEnv): Promise<PushResult> {
  if (!env.supported) return { status: "unsupported" };
  const permission =
    env.permission() === "granted" ? "granted" : await env.requestPermission();
  if (permission === "denied") return { status: "denied" };
  if (permission !== "granted") {
    return { status: "off", note: "Notifications were not allowed, so nothing changed." };
  }
  const key = await env.serverKey();
  if (key === null) return { status: "unavailable" };
  const serverKey = applicationServerKey(key);
  const manager = await env.register();
  let subscription = await manager.getSubscription();
  if (subscription && !sameKey(subscription.options?.applicationServerKey, serverKey)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await manager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: serverKey,
  });
  await env.save(subscription.toJSON());
  return { status: "on", endpoint: subscription.endpoint };
}

/** The switch turned off: the server forgets the browser, the browser drops the push. */
export async function turnOff(env: PushEnv, endpoint: string | null): Promise<PushResult> {
  const manager = await env.existing();
  const subscription = manager ? await manager.getSubscription() : null;
  const known = subscription?.endpoint ?? endpoint;
  if (known) await env.forget(known);
  if (subscription) await subscription.unsubscribe();
  return { status: "off" };
}

// --- The switch's state ----------------------------------------------------------------

export type PushState =
  | { status: "checking" }
  | { status: "unsupported" }
  | { status: "unavailable" }
  | { status: "denied" }
  | { status: "off"; note?: string; error?: string }
  | { status: "on"; endpoint: string; error?: string }
  | { status: "turning-on" }
  | { status: "turning-off"; endpoint: string | null };

export type PushEvent =
  | { type: "settled"; result: PushResult }
  | { type: "toggle"; on: boolean }
  | { type: "failed"; message: string };

export const initialPushState: PushState = { status: "checking" };

export function pushReducer(state: PushState, event: PushEvent): PushState {
  switch (event.type) {
    case "settled":
      return event.result;
    case "toggle":
      if (event.on && state.status === "off") return { status: "turning-on" };
      if (!event.on && state.status === "on") {
        return { status: "turning-off", endpoint: state.endpoint };
      }
      return state; // busy, or nothing to switch
    case "failed":
      if (state.status === "turning-on") return { status: "off", error: event.message };
      if (state.status === "turning-off" && state.endpoint !== null) {
        return { status: "on", endpoint: state.endpoint, error: event.message };
      }
      if (state.status === "checking" || state.status === "turning-off") {
        return { status: "off", error: event.message };
      }
      return state;
  }
}

/** Whether the switch shows as on, can be used, and is busy. */
export function switchView(state: PushState): {
  shown: boolean;
  checked: boolean;
  disabled: boolean;
  busy: boolean;
} {
  const shown = !["unsupported", "unavailable"].includes(state.status);
  const busy = ["checking", "turning-on", "turning-off"].includes(state.status);
  const checked = state.status === "on" || state.status === "turning-on";
  return { shown, checked, disabled: busy || state.status === "denied", busy };
}

// --- The real browser --------------------------------------------------------------------

/** The Push API of this page, with the server's endpoints. */
export function browserPushEnv(server: {
  pushKey(): Promise<string | null>;
  addPushSubscription(subscription: PushSubscriptionJSON): Promise<void>;
  removePushSubscription(endpoint: string): Promise<void>;
}): PushEnv {
  const supported =
    typeof window !== "undefined" &&
    window.isSecureContext &&
    "serviceWorker" in navigator &&
    "PushManager" in window &&
    "Notification" in window;
  return {
    supported,
    permission: () => Notification.permission,
    requestPermission: () => Notification.requestPermission(),
    async existing() {
      const registration = await navigator.serviceWorker.getRegistration("/");
      return registration ? registration.pushManager : null;
    },
    async register() {
      await navigator.serviceWorker.register(SERVICE_WORKER_URL, { scope: "/" });
      return (await navigator.serviceWorker.ready).pushManager;
    },
    serverKey: () => server.pushKey(),
    save: (subscription) => server.addPushSubscription(subscription),
    forget: (endpoint) => server.removePushSubscription(endpoint),
  };
}
