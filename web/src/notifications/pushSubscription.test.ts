import { describe, expect, it } from "vitest";
import {
  applicationServerKey,
  checkPush,
  decodeBase64Url,
  initialPushState,
  pushReducer,
  sameKey,
  switchView,
  turnOff,
  turnOn,
  type PushEnv,
  type PushState,
  type SubscriptionLike,
} from "./pushSubscription";

// A P-256 public point as the server sends it: 0x04, then 64 bytes.
const POINT = new Uint8Array(65).map((_, i) => (i === 0 ? 4 : (i * 37) % 256));
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const text = (s: string) => new TextEncoder().encode(s);
const KEY = b64url(POINT);

describe("decodeBase64Url", () => {
  it("reads base64url with and without padding", () => {
    expect([...decodeBase64Url("AQID")]).toEqual([1, 2, 3]);
    expect([...decodeBase64Url("_-8")]).toEqual([255, 239]);
    expect([...decodeBase64Url("_-8=")]).toEqual([255, 239]);
    expect([...decodeBase64Url("")]).toEqual([]);
    expect([...decodeBase64Url(b64url(text("hello?>")))]).toEqual([
      ...text("hello?>"),
    ]);
  });

  it("refuses what is not base64url", () => {
    expect(() => decodeBase64Url("ab+c")).toThrow();
    expect(() => decodeBase64Url("a/bc")).toThrow();
    expect(() => decodeBase64Url("abcde")).toThrow(); // 5 characters: not whole bytes
  });

  it("gives the server's key as the 65-byte point subscribe wants", () => {
    expect([...applicationServerKey(KEY)]).toEqual([...POINT]);
    expect(() => applicationServerKey("AQID")).toThrow(/P-256/);
    const compressed = b64url(POINT.map((b, i) => (i === 0 ? 2 : b)));
    expect(() => applicationServerKey(compressed)).toThrow(/P-256/);
  });

  it("compares a subscription's key with the server's", () => {
    expect(sameKey(POINT.slice().buffer, POINT)).toBe(true);
    expect(sameKey(new Uint8Array(65).buffer, POINT)).toBe(false);
    expect(sameKey(null, POINT)).toBe(true); // unknown: assume it is
  });
});

/** A browser and a server in memory, recording what happened. */
function fakeEnv(over: Partial<PushEnv> & { subscribed?: boolean; key?: string | null } = {}) {
  const log: string[] = [];
  let permission: NotificationPermission = "default";
  let current: SubscriptionLike | null = null;
  const makeSub = (endpoint: string, key: ArrayBuffer | null): SubscriptionLike => ({
    endpoint,
    options: { applicationServerKey: key },
    toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: "p", auth: "a" } }),
    unsubscribe: async () => {
      log.push(`unsubscribe ${endpoint}`);
      current = null;
      return true;
    },
  });
  let registered = false;
  const manager = {
    getSubscription: async () => current,
    subscribe: async (options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }) => {
      log.push(`subscribe visible=${options.userVisibleOnly} key=${options.applicationServerKey.length}`);
      current = makeSub("https://push.example/new", options.applicationServerKey.slice().buffer);
      return current;
    },
  };
  if (over.subscribed) {
    permission = "granted";
    registered = true;
    current = makeSub("https://push.example/old", POINT.slice().buffer);
  }
  const env: PushEnv = {
    supported: true,
    permission: () => permission,
    requestPermission: async () => {
      log.push("ask");
      permission = "granted";
      return permission;
    },
    existing: async () => (registered ? manager : null),
    register: async () => {
      log.push("register");
      registered = true;
      return manager;
    },
    serverKey: async () => (over.key === undefined ? KEY : over.key),
    save: async (json) => {
      log.push(`POST ${json.endpoint}`);
    },
    forget: async (endpoint) => {
      log.push(`DELETE ${endpoint}`);
    },
    ...over,
  };
  return { env, log, setPermission: (p: NotificationPermission) => (permission = p) };
}

describe("checkPush", () => {
  it("explains a browser without the Push API and a server without push", async () => {
    expect(await checkPush(fakeEnv({ supported: false }).env)).toEqual({ status: "unsupported" });
    expect(await checkPush(fakeEnv({ key: null }).env)).toEqual({ status: "unavailable" });
  });

  it("is off until subscribed, and blocked when permission is denied", async () => {
    const { env, setPermission, log } = fakeEnv();
    expect(await checkPush(env)).toEqual({ status: "off" });
    setPermission("denied");
    expect(await checkPush(env)).toEqual({ status: "denied" });
    expect(log).toEqual([]); // nothing asked, nothing installed
  });

  it("saves an existing subscription again, for whoever is signed in now", async () => {
    const { env, log } = fakeEnv({ subscribed: true });
    expect(await checkPush(env)).toEqual({ status: "on", endpoint: "https://push.example/old" });
    expect(log).toEqual(["POST https://push.example/old"]);
  });

  it("drops a subscription made with another key", async () => {
    const { env, log } = fakeEnv({ subscribed: true, key: b64url(new Uint8Array(65).fill(4)) });
    expect(await checkPush(env)).toEqual({ status: "off" });
    expect(log).toEqual(["unsubscribe https://push.example/old"]);
  });
});

describe("turnOn / turnOff", () => {
  it("asks, registers, subscribes visibly with the server's key, then saves", async () => {
    const { env, log } = fakeEnv();
    expect(await turnOn(env)).toEqual({ status: "on", endpoint: "https://push.example/new" });
    expect(log).toEqual([
      "ask",
      "register",
      "subscribe visible=true key=65",
      "POST https://push.example/new",
    ]);
  });

  it("stops when permission is refused or dismissed", async () => {
    const refused = fakeEnv({ requestPermission: async () => "denied" });
    expect(await turnOn(refused.env)).toEqual({ status: "denied" });
    const dismissed = fakeEnv({ requestPermission: async () => "default" });
    expect((await turnOn(dismissed.env)).status).toBe("off");
    expect([...refused.log, ...dismissed.log]).toEqual([]);
  });

  it("turns off: the server forgets, the browser unsubscribes", async () => {
    const { env, log } = fakeEnv({ subscribed: true });
    expect(await turnOff(env, "https://push.example/old")).toEqual({ status: "off" });
    expect(log).toEqual(["DELETE https://push.example/old", "unsubscribe https://push.example/old"]);
  });

  it("turns off what the server has even if the browser lost it", async () => {
    const { env, log } = fakeEnv();
    await turnOff(env, "https://push.example/gone");
    expect(log).toEqual(["DELETE https://push.example/gone"]);
  });
});

describe("pushReducer", () => {
  const run = (...events: Parameters<typeof pushReducer>[1][]): PushState =>
    events.reduce(pushReducer, initialPushState);

  it("goes off → turning on → on, and back", () => {
    const off = run({ type: "settled", result: { status: "off" } });
    const turning = pushReducer(off, { type: "toggle", on: true });
    expect(turning).toEqual({ status: "turning-on" });
    expect(switchView(turning)).toEqual({ shown: true, checked: true, disabled: true, busy: true });
    const on = pushReducer(turning, { type: "settled", result: { status: "on", endpoint: "e" } });
    expect(switchView(on)).toEqual({ shown: true, checked: true, disabled: false, busy: false });
    expect(pushReducer(on, { type: "toggle", on: false })).toEqual({
      status: "turning-off",
      endpoint: "e",
    });
  });

  it("ignores clicks while busy or blocked", () => {
    const turning = run({ type: "settled", result: { status: "off" } }, { type: "toggle", on: true });
    expect(pushReducer(turning, { type: "toggle", on: false })).toBe(turning);
    const denied = run({ type: "settled", result: { status: "denied" } });
    expect(pushReducer(denied, { type: "toggle", on: true })).toBe(denied);
    expect(switchView(denied).disabled).toBe(true);
  });

  it("falls back to where it was, with the error", () => {
    const failedOn = run(
      { type: "settled", result: { status: "off" } },
      { type: "toggle", on: true },
      { type: "failed", message: "no" },
    );
    expect(failedOn).toEqual({ status: "off", error: "no" });
    const failedOff = run(
      { type: "settled", result: { status: "on", endpoint: "e" } },
      { type: "toggle", on: false },
      { type: "failed", message: "no" },
    );
    expect(failedOff).toEqual({ status: "on", endpoint: "e", error: "no" });
    expect(run({ type: "failed", message: "x" })).toEqual({ status: "off", error: "x" });
  });

  it("hides the switch when the browser or the server cannot push", () => {
    expect(switchView({ status: "unsupported" }).shown).toBe(false);
    expect(switchView({ status: "unavailable" }).shown).toBe(false);
    expect(switchView(initialPushState)).toMatchObject({ shown: true, busy: true });
  });
});
