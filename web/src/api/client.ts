// The HTTP API, one function per endpoint the client uses. Same-origin cookie session.
import { ApiError, parseProblem } from "./problem";
import type {
  ListedSpace,
  ReplayView,
  AdminUserPage,
  AdminUserUpdate,
  AdminUserView,
  ApiTokenView,
  Eligibility,
  InstanceSetting,
  AudioAccess,
  Me,
  MyTicket,
  NewApiToken,
  ParticipantView,
  Profile,
  PurchaseView,
  SpaceView,
  TicketStatement,
  UserSummary,
} from "./types";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: {}, signal };
  if (body !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    throw parseProblem(
      response.status,
      response.headers.get("Content-Type"),
      await response.text(),
      response.headers.get("Retry-After"),
    );
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

const enc = encodeURIComponent;
const space = (id: string) => `/api/spaces/${enc(id)}`;

export const api = {
  // Account
  register: (body: { handle: string; display_name: string; password: string }) =>
    request<Me>("POST", "/api/accounts", body),
  signIn: (body: { handle: string; password: string }) =>
    request<Me>("POST", "/api/session", body),
  signOut: () => request<void>("DELETE", "/api/session"),
  async me(): Promise<Me | null> {
    try {
      return await request<Me>("GET", "/api/me");
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  },
  updateMe: (body: {
    display_name?: string;
    bio?: string;
    adult_attested?: boolean;
    notify_live?: boolean;
  }) =>
    request<Me>("PATCH", "/api/me", body),

  // People
  profile: (handle: string) => request<Profile>("GET", `/api/users/${enc(handle)}`),
  follow: (handle: string) => request<void>("PUT", `/api/users/${enc(handle)}/follow`),
  unfollow: (handle: string) => request<void>("DELETE", `/api/users/${enc(handle)}/follow`),
  /** "X is live" notifications for a host one follows, on or off. */
  followNotify: (handle: string, notify: boolean) =>
    request<{ notify: boolean }>("PATCH", `/api/users/${enc(handle)}/follow`, { notify }),
  followers: (handle: string) =>
    request<UserSummary[]>("GET", `/api/users/${enc(handle)}/followers?limit=100`),
  following: (handle: string) =>
    request<UserSummary[]>("GET", `/api/users/${enc(handle)}/following?limit=100`),

  // Spaces
  spaces: (state: "live" | "scheduled") =>
    request<SpaceView[]>("GET", `/api/spaces?state=${state}`),
  space: (id: string) => request<SpaceView>("GET", space(id)),
  createSpace: (body: {
    title: string;
    topics: string[];
    scheduled_for?: string;
    recording: boolean;
    ticket?: { price_cents: number; cap: number };
  }) => request<SpaceView>("POST", "/api/spaces", body),
  start: (id: string) => request<SpaceView>("POST", `${space(id)}/start`),
  end: (id: string) => request<SpaceView>("POST", `${space(id)}/end`),
  cancel: (id: string) => request<SpaceView>("POST", `${space(id)}/cancel`),
  setReminder: (id: string, on: boolean) =>
    request<SpaceView>(on ? "PUT" : "DELETE", `${space(id)}/reminder`),
  join: (id: string) => request<ParticipantView>("POST", `${space(id)}/join`),
  leave: (id: string) => request<void>("POST", `${space(id)}/leave`),
  react: (id: string, emoji: string) =>
    request<{ emoji: string }>("POST", `${space(id)}/reactions`, { emoji }),

  // Stage: one's own standing
  raiseHand: (id: string) => request<ParticipantView>("POST", `${space(id)}/hand`),
  lowerHand: (id: string) => request<ParticipantView>("DELETE", `${space(id)}/hand`),
  answerInvitation: (id: string, accept: boolean) =>
    request<ParticipantView>("POST", `${space(id)}/invitation/${accept ? "accept" : "decline"}`),
  leaveStage: (id: string) => request<ParticipantView>("POST", `${space(id)}/stage/leave`),

  // Stage: acting on someone (oneself for mute/unmute)
  participant: (
    id: string,
    userId: number,
    action: "approve" | "deny" | "invite" | "mute" | "unmute" | "move-to-audience",
  ) => request<ParticipantView>("POST", `${space(id)}/participants/${userId}/${action}`),
  remove: (id: string, userId: number) =>
    request<void>("POST", `${space(id)}/participants/${userId}/remove`),
  setCohost: (id: string, userId: number, on: boolean) =>
    request<ParticipantView>(on ? "PUT" : "DELETE", `${space(id)}/cohosts/${userId}`),

  // Tickets
  /** Hold a seat and get the checkout to send the browser to (201 new, 200 one in progress). */
  buyTicket: (id: string) => request<PurchaseView>("POST", `${space(id)}/tickets`),
  purchase: (purchaseId: string) =>
    request<PurchaseView>("GET", `/api/purchases/${enc(purchaseId)}`),
  myTickets: () => request<MyTicket[]>("GET", "/api/me/tickets"),
  ticketEligibility: () => request<Eligibility>("GET", "/api/me/ticket-eligibility"),
  ticketStatement: () => request<TicketStatement>("GET", "/api/me/ticket-statement"),

  // Personal API tokens
  tokens: () => request<ApiTokenView[]>("GET", "/api/me/tokens"),
  createToken: (name: string) => request<NewApiToken>("POST", "/api/me/tokens", { name }),
  revokeToken: (id: number) => request<void>("DELETE", `/api/me/tokens/${id}`),

  // Admin
  findUsers: (q: string, page: number) =>
    request<AdminUserPage>(
      "GET",
      `/api/admin/users?${new URLSearchParams({ q, page: String(page) }).toString()}`,
    ),
  updateUser: (handle: string, changes: AdminUserUpdate) =>
    request<AdminUserView>("PATCH", `/api/admin/users/${enc(handle)}`, changes),
  instance: () => request<InstanceSetting[]>("GET", "/api/admin/instance"),

  // Media
  listen: (id: string) => request<AudioAccess>("GET", `${space(id)}/listen`),
  iceServers: (id: string) => request<RTCIceServer[]>("GET", `${space(id)}/ice-servers`),
};

/** WHIP (RFC 9725): POST an SDP offer, get the answer and the session URL to hang up. */
export async function whipOffer(
  spaceId: string,
  offerSdp: string,
): Promise<{ answer: string; location: string | null }> {
  const response = await fetch(`${space(spaceId)}/whip`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/sdp" },
    body: offerSdp,
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw parseProblem(
      response.status,
      response.headers.get("Content-Type"),
      text,
      response.headers.get("Retry-After"),
    );
  }
  return { answer: text, location: response.headers.get("Location") };
}

/** Hang up a WHIP session; keepalive so it still goes out while the page unloads. */
export function whipHangUp(location: string): Promise<void> {
  return fetch(location, { method: "DELETE", credentials: "same-origin", keepalive: true }).then(
    () => undefined,
    () => undefined,
  );
}

/** The event stream's URL on this page's origin (ws: or wss: to match http: or https:). */
export function eventsUrl(spaceId: string, loc: { protocol: string; host: string }): string {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}${space(spaceId)}/events`;
}

/** Leave a space as the page goes away (SPA navigation): keepalive outlives the page. */
export function leaveKeepalive(spaceId: string): void {
  void fetch(`${space(spaceId)}/leave`, {
    method: "POST",
    credentials: "same-origin",
    keepalive: true,
  }).catch(() => undefined);
}

// Notifications leaving the app: Web Push subscriptions and e-mail (api/channels.py).
import type { EmailSettings, PushKey } from "./types";

export const deliveryApi = {
  /** The instance's push key; null when the server sends no pushes (404). */
  async pushKey(): Promise<string | null> {
    try {
      return (await request<PushKey>("GET", "/api/push/key")).public_key;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  },
  addPushSubscription: (subscription: PushSubscriptionJSON) =>
    request<void>("POST", "/api/me/push-subscriptions", subscription),
  /** Forget this browser; one the server does not have (404) is already forgotten. */
  async removePushSubscription(endpoint: string): Promise<void> {
    try {
      await request<void>(
        "DELETE",
        `/api/me/push-subscriptions?${new URLSearchParams({ endpoint }).toString()}`,
      );
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  },
  email: () => request<EmailSettings>("GET", "/api/me/email"),
  setEmail: (email: string | null) => request<EmailSettings>("PUT", "/api/me/email", { email }),
  setEmailKinds: (kinds: string[]) =>
    request<EmailSettings>("PUT", "/api/me/email/kinds", { kinds }),
};

/** Whether the signed-in person may host now (the follower rule), before any form is filled. */
export function hostingEligibility(): Promise<import("./types").HostingEligibility> {
  return request("GET", "/api/me/hosting");
}

/** Replays: a person's spaces, the followed replays shelf, a replay's timeline, deletion. */
export const replaysApi = {
  userSpaces: (handle: string, offset = 0, limit = 20) =>
    request<ListedSpace[]>(
      "GET",
      `/api/users/${enc(handle)}/spaces?limit=${limit}&offset=${offset}`,
    ),
  myReplays: (offset = 0, limit = 20) =>
    request<ListedSpace[]>("GET", `/api/me/replays?limit=${limit}&offset=${offset}`),
  replay: (id: string) => request<ReplayView>("GET", `${space(id)}/replay`),
  deleteRecording: (id: string) => request<void>("DELETE", `${space(id)}/recording`),
};
