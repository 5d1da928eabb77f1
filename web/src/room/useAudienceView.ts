// Following a live space as its audience does: the shared audience view, fetched like a
// blocking playlist reload, never a connection of one's own to the origin.
import { useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import { ApiError } from "../api/problem";
import type { AudienceView } from "../api/types";
import {
  NOT_STARTED_RETRY_MS,
  REFUSED_RETRY_MS,
  audienceViewUrl,
  isAudienceView,
  nextRequest,
  viewFailure,
} from "./audienceView";
import { initialConnection, nextConnection, type ConnectionInput, type ConnectionState } from "./connection";
import { AudioCredential } from "./credential";

/** The server holds a blocking request a few seconds at most; past this, something hangs. */
const REQUEST_TIMEOUT_MS = 20_000;
/** Any failure counts like a dropped connection for the backoff (not a WebSocket close code). */
const DROPPED = 1006;

declare global {
  interface Window {
    /** How many audience views this page took, and the last one, for tests. */
    salonAudienceViews?: number;
    salonAudienceView?: AudienceView;
  }
}

export interface AudienceViewOptions {
  spaceId: string;
  /** Follow while true (the audience of a space that is live or about to be). */
  enabled: boolean;
  /** A ticketed space: the view lives under the audio credential, got and renewed via /listen. */
  ticketed: boolean;
  /** Each view taken; `first` for the first since following (re)started. */
  onView: (view: AudienceView, first: boolean) => void;
}

/** Follows the audience view while enabled; returns the same connection state as the stream. */
export function useAudienceView(options: AudienceViewOptions): ConnectionState {
  const [connection, setConnection] = useState<ConnectionState>(initialConnection);
  const latest = useRef(options);
  latest.current = options;
  const { spaceId, enabled, ticketed } = options;

  useEffect(() => {
    if (!enabled) return;
    let state = initialConnection;
    setConnection(state);
    let stopped = false;
    let request: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | null = null;
    let credential: AudioCredential | null = null;
    let credentialLost: "refused" | "ended" | null = null;

    const update = (input: ConnectionInput): ConnectionState => {
      state = nextConnection(state, input);
      setConnection(state);
      return state;
    };
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, ms);
      });
    const backOff = () => sleep(update({ type: "closed", code: DROPPED }).retryInMs ?? 1000);

    /** A ticketed space's credential from /listen: got, not now (waited), or never. */
    const obtainCredential = async (): Promise<"ok" | "wait" | "stop"> => {
      const requestedAt = performance.now();
      try {
        const access = await api.listen(spaceId);
        if (stopped) return "stop";
        const fresh = AudioCredential.forSpace(spaceId, {
          onRenewed: () => undefined,
          onRefused: () => {
            credentialLost = "refused";
          },
          onEnded: () => {
            credentialLost = "ended";
          },
        });
        fresh.accept(access, requestedAt);
        credential = fresh;
        return "ok";
      } catch (error) {
        if (stopped) return "stop";
        const status = error instanceof ApiError ? error.status : null;
        const failure = viewFailure(status);
        if (failure === "refused") update({ type: "refused" });
        else if (failure === "not_found") update({ type: "not_found" });
        else if (failure === "not_started") {
          update({ type: "snapshot" });
          await sleep(NOT_STARTED_RETRY_MS);
          return "wait";
        } else {
          await backOff();
          return "wait";
        }
        return "stop";
      }
    };

    const follow = async () => {
      let previous: number | null = null;
      let version: number | null = null;
      let first = true;
      let refusals = 0;
      while (!stopped) {
        let segment: string | null = null;
        if (ticketed) {
          if (credentialLost === "refused") return void update({ type: "refused" });
          if (credentialLost === "ended") return void update({ type: "space_over" });
          if (credential === null) {
            const outcome = await obtainCredential();
            if (outcome === "stop") return;
            continue;
          }
          await credential.fresh();
          segment = credential.current;
        }
        const url = audienceViewUrl(spaceId, segment, version);
        request = new AbortController();
        const hung = setTimeout(() => request?.abort(), REQUEST_TIMEOUT_MS);
        let response: Response;
        let body: unknown = null;
        try {
          // No cookies: the view is the same for everyone, and a cache may share it.
          response = await fetch(url, { credentials: "omit", signal: request.signal });
          if (response.ok) body = await response.json();
        } catch {
          clearTimeout(hung);
          if (stopped) return;
          version = null;
          await backOff();
          continue;
        }
        clearTimeout(hung);
        if (stopped) return;

        if (response.ok && isAudienceView(body)) {
          window.salonAudienceViews = (window.salonAudienceViews ?? 0) + 1;
          window.salonAudienceView = body;
          latest.current.onView(body, first);
          first = false;
          refusals = 0;
          update({ type: "snapshot" });
          if (body.space.state === "ended" || body.space.state === "cancelled") {
            return void update({ type: "space_over" });
          }
          const next = nextRequest(previous, body.version);
          previous = body.version;
          version = next.version;
          if (next.delayMs > 0) await sleep(next.delayMs);
          continue;
        }

        version = null;
        switch (response.ok ? "retry" : viewFailure(response.status)) {
          case "not_started":
            // Scheduled: connected, waiting for the host (the view opens when it goes live).
            update({ type: "snapshot" });
            await sleep(NOT_STARTED_RETRY_MS);
            break;
          case "refused":
            if (credential === null) return void update({ type: "refused" });
            // Renew (unless a newer credential is already here), then ask again with it.
            credential.refused(url);
            refusals += 1;
            if (refusals === 1) await sleep(REFUSED_RETRY_MS);
            else await backOff();
            break;
          case "not_found":
            return void update({ type: "not_found" });
          case "retry":
            await backOff();
            break;
        }
      }
    };

    void follow();
    return () => {
      stopped = true;
      request?.abort();
      clearTimeout(timer);
      wake?.();
      credential?.stop();
    };
  }, [spaceId, enabled, ticketed]);

  return connection;
}
