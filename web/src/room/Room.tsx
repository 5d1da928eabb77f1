// The space room: one reducer for everything the server tells us, fed by the shared audience
// view (the audience) or the event stream (signed-in people who act), hooks for listening
// (LL-HLS) and speaking (WebRTC), and components per noun.
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { api, leaveKeepalive } from "../api/client";
import { ApiError, errorMessage } from "../api/problem";
import type { AudienceView, ParticipantView, SpaceEvent } from "../api/types";
import { CLOSE, isModerator, isStageRole } from "../api/types";
import { ReminderToggle } from "../components/SpaceCard";
import { UserName } from "../components/UserName";
import { formatWhen } from "../lib/time";
import { useTitle } from "../lib/useTitle";
import { Link } from "../router";
import { useSession } from "../session";
import { Audience } from "./Audience";
import { followsAudienceView, namedAsRemoved, ownRemoval, removalFromJoin } from "./audienceView";
import {
  TICKET_ONLY_TEXT,
  connectionClass,
  connectionText,
  initialConnection,
  nextConnection,
} from "./connection";
import { ReplayPlayer } from "../replay/ReplayPlayer";
import { ListenButton } from "./ListenButton";
import { MyStageControls } from "./MyStageControls";
import { ReactionBar } from "./ReactionBar";
import {
  audienceReactions,
  findParticipant,
  initialRoomState,
  roomReducer,
  selectAudience,
  selectHandsRaised,
  selectInviter,
  selectMe,
  selectRequests,
  selectStage,
} from "./reducer";
import { Requests } from "./Requests";
import { SpaceControls } from "./SpaceControls";
import { Stage } from "./Stage";
import type { MemberCommands } from "./StageMember";
import { mustReoffer } from "./stageReoffer";
import { replacedSession } from "./stageReplaced";
import { TicketPanel } from "./TicketPanel";
import { useAction } from "./useAction";
import { useAudienceView } from "./useAudienceView";
import { useEventStream } from "./useEventStream";
import { useListener } from "./useListener";
import { purchaseIdFromUrl, usePurchase } from "./usePurchase";
import { useSpeaker } from "./useSpeaker";

const EXPIRE_TICK_MS = 250;
/** While a reaction_burst's floats are still to go up, the reactions' clock ticks faster. */
const BURST_TICK_MS = 80;
/**
 * Back on the audience view after the event stream: the server marks us as dropped when it
 * notices the stream closed (a grace period, then we would be let go), so we join again once
 * it surely has. Joining clears the mark; joining twice is a no-op.
 */
const REJOIN_AFTER_STREAM_MS = 3000;
/** Without a ticket there is no event stream: the space is fetched again this often. */
const LOCKED_REFRESH_MS = 10_000;

export function RoomPage({ spaceId }: { spaceId: string }) {
  const { me, loading } = useSession();
  if (loading) {
    return (
      <main className="page room" id="main">
        <p role="status" data-testid="connection-state" className="conn conn-connecting">
          Connecting…
        </p>
      </main>
    );
  }
  // Signing in or out changes who we are in the room: start it afresh.
  return <Room key={`${spaceId}:${me?.id ?? "anonymous"}`} spaceId={spaceId} meId={me?.id ?? null} />;
}

function Room({ spaceId, meId }: { spaceId: string; meId: number | null }) {
  const [state, dispatch] = useReducer(roomReducer, meId, initialRoomState);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loadAttempt, setLoadAttempt] = useState(0);
  const [streamOpen, setStreamOpen] = useState(false);
  const [loadedOver, setLoadedOver] = useState(false);
  const listenAudio = useRef<HTMLAudioElement>(null);
  const stageAudio = useRef<HTMLAudioElement>(null);
  const spaceRef = useRef(state.space);
  spaceRef.current = state.space;
  const joined = useRef(false);
  /** The event stream was open at some point (see REJOIN_AFTER_STREAM_MS). */
  const streamed = useRef(false);
  // Coming back from a ticket checkout: /spaces/{id}?purchase={purchase_id}.
  const [purchaseId] = useState(() => purchaseIdFromUrl(window.location.search));
  useTitle(state.space?.title ?? null);

  useEffect(() => {
    let cancelled = false;
    setLoadError(null);
    api.space(spaceId).then(
      (space) => {
        if (cancelled) return;
        dispatch({ type: "space_loaded", space });
        const open = space.state === "live" || space.state === "scheduled";
        setStreamOpen(open);
        setLoadedOver(!open);
      },
      (error: unknown) => !cancelled && setLoadError(error),
    );
    return () => {
      cancelled = true;
    };
  }, [spaceId, loadAttempt]);

  /** GET the space again: after a purchase settles, and now and then while without a ticket. */
  const refreshSpace = useCallback(async () => {
    try {
      const space = await api.space(spaceId);
      dispatch({ type: "space_refreshed", space });
      const open = space.state === "live" || space.state === "scheduled";
      setStreamOpen(open);
      if (!open) setLoadedOver(true);
    } catch {
      // Keep showing what we have; the next refresh may work.
    }
  }, [spaceId]);

  const purchaseSettled = useCallback(() => {
    void refreshSpace();
    // The outcome stays on screen; the address goes back to the space's own, to share or reload.
    if (window.location.search.includes("purchase=")) {
      window.history.replaceState(window.history.state, "", window.location.pathname);
    }
  }, [refreshSpace]);
  const purchaseCheck = usePurchase(purchaseId, purchaseSettled);

  const beforeConnect = useCallback(async (): Promise<"ok" | "removed"> => {
    if (meId === null || spaceRef.current?.state !== "live") return "ok";
    try {
      await api.join(spaceId);
      joined.current = true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) return "removed";
    }
    return "ok";
  }, [meId, spaceId]);

  /** The speaker's reoffer (useSpeaker comes after the event stream, which needs it). */
  const reofferStage = useRef<() => void>(() => undefined);
  const replacedStage = useRef<(sessionId: string) => void>(() => undefined);
  const onEvent = useCallback(
    (event: SpaceEvent, reconnected: boolean) => {
      dispatch({ type: "event", event, now: performance.now() });
      if (mustReoffer(event, reconnected, meId)) reofferStage.current();
      const ended = replacedSession(event, meId);
      if (ended !== null) replacedStage.current(ended);
      if (event.type === "space_started" && meId !== null) {
        api.join(spaceId).then(
          () => (joined.current = true),
          () => undefined,
        );
      }
    },
    [meId, spaceId],
  );

  /** A follower refused by /join (removed, or signed out by a ban): shown as the stream would. */
  const refusedJoin = useCallback(
    (error: unknown): boolean => {
      const reason = removalFromJoin(error instanceof ApiError ? error.status : null);
      if (reason === null || meId === null) return false;
      const event = ownRemoval(spaceId, meId, reason, new Date().toISOString());
      dispatch({ type: "event", event, now: performance.now() });
      return true;
    },
    [meId, spaceId],
  );

  /** The view named us among the removed: asked once (until it stops naming us). */
  const removalAsked = useRef(false);
  const onView = useCallback(
    (view: AudienceView, first: boolean) => {
      dispatch({ type: "audience_view", view, first, now: performance.now() });
      if (!namedAsRemoved(view, meId)) {
        removalAsked.current = false;
        return;
      }
      if (removalAsked.current) return;
      removalAsked.current = true;
      // Joining again answers for our own standing: refused if we were put out.
      api.join(spaceId).then(
        () => undefined,
        (error: unknown) => {
          if (!refusedJoin(error)) removalAsked.current = false;
        },
      );
    },
    [meId, spaceId, refusedJoin],
  );

  // A ticketed space without a ticket: the server refuses /join, /events and /listen (403), so
  // none is tried; the ticket panel says why and sells one.
  const ticket = state.space?.ticket ?? null;
  const locked = ticket !== null && !ticket.admitted;
  // The audience follows the shared audience view; the event stream is for those who act.
  const viewing = followsAudienceView(state.space, meId, selectMe(state));
  // Removed, or signed out by a ban (the stream or the view says so): follow nothing more.
  const following = streamOpen && !locked && !state.signedOut && !state.removed;
  const stream = useEventStream({
    spaceId,
    enabled: following && !viewing,
    beforeConnect,
    onEvent,
    meId,
  });
  useEffect(() => {
    if (following && !viewing) streamed.current = true;
  }, [following, viewing]);
  const view = useAudienceView({
    spaceId,
    enabled: following && viewing,
    ticketed: ticket !== null,
    onView,
  });
  const notFound = loadError instanceof ApiError && (loadError.status === 404 || loadError.status === 422);
  const connection = notFound
    ? nextConnection(initialConnection, { type: "not_found" })
    : state.signedOut
      ? nextConnection(initialConnection, { type: "closed", code: CLOSE.UNAUTHORIZED })
      : state.removed
        ? nextConnection(initialConnection, { type: "removed" })
        : loadedOver
          ? nextConnection(initialConnection, { type: "space_over" })
          : !viewing
            ? stream
            : view;

  // Following the view, a signed-in listener still joins (presence: reacting needs it); the
  // event stream's beforeConnect does it otherwise.
  const viewingLive = following && viewing && meId !== null && state.space?.state === "live";
  useEffect(() => {
    if (!viewingLive) return;
    let cancelled = false;
    const join = () =>
      api.join(spaceId).then(
        (me) => {
          if (cancelled) return;
          joined.current = true;
          dispatch({ type: "participant_updated", participant: me });
        },
        (error: unknown) => !cancelled && refusedJoin(error),
      );
    void join();
    const timer = streamed.current ? window.setTimeout(() => void join(), REJOIN_AFTER_STREAM_MS) : undefined;
    // Closing the tab: with no stream, nothing would tell the server this listener left.
    // A page brought back from the back-forward cache joins again.
    const gone = () => leaveKeepalive(spaceId);
    const back = (event: PageTransitionEvent) => event.persisted && void join();
    window.addEventListener("pagehide", gone);
    window.addEventListener("pageshow", back);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
      window.removeEventListener("pagehide", gone);
      window.removeEventListener("pageshow", back);
    };
  }, [viewingLive, spaceId, refusedJoin]);

  // Leaving the room inside the app gives up one's place; closing the tab relies on the
  // server's presence grace period instead, so a reload keeps a speaker's seat.
  useEffect(
    () => () => {
      const space = spaceRef.current;
      if (joined.current && space?.state === "live" && space.host.id !== meId) leaveKeepalive(spaceId);
    },
    [spaceId, meId],
  );

  const hasReactions = state.reactions.length > 0;
  const hasPending = state.pendingReactions.length > 0;
  useEffect(() => {
    if (!hasReactions && !hasPending) return;
    const timer = window.setInterval(
      () => dispatch({ type: "expire_reactions", now: performance.now() }),
      hasPending ? BURST_TICK_MS : EXPIRE_TICK_MS,
    );
    return () => window.clearInterval(timer);
  }, [hasReactions, hasPending]);

  const space = state.space;
  const myself = selectMe(state);
  const removed = state.removed || connection.cause === "removed";
  // The server closed the stream for bad credentials (4401: signed out elsewhere, banned):
  // ask the person to sign in rather than retry.
  const signedOut = state.signedOut || connection.cause === "unauthorized";
  const over =
    space?.state === "ended" ||
    space?.state === "cancelled" ||
    connection.phase === "ended" ||
    removed ||
    signedOut;
  const live = space?.state === "live" && !over;
  const onStage = live && myself !== null && isStageRole(myself.role);
  const replay = space?.state === "ended" && space.recording && !removed && !locked;

  useEffect(() => {
    if (!locked || over) return;
    const timer = window.setInterval(() => void refreshSpace(), LOCKED_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [locked, over, refreshSpace]);

  const listener = useListener(spaceId, listenAudio, live && !onStage && !locked);
  const speaker = useSpeaker(spaceId, onStage, myself?.muted ?? true, stageAudio);
  reofferStage.current = speaker.reoffer;
  replacedStage.current = speaker.replaced;
  const { stop: stopListening } = listener;
  useEffect(() => {
    if (over) stopListening();
  }, [over, stopListening]);

  const stageAction = useAction();
  const audienceAction = useAction();
  const requestAction = useAction();
  const commands: MemberCommands = {
    mute: (p) => void stageAction.run(() => api.participant(spaceId, p.user.id, "mute")),
    moveToAudience: (p) =>
      void stageAction.run(() => api.participant(spaceId, p.user.id, "move-to-audience")),
    remove: (p) => void stageAction.run(() => api.remove(spaceId, p.user.id)),
    setCohost: (p, on) => void stageAction.run(() => api.setCohost(spaceId, p.user.id, on)),
  };

  const status =
    locked && !over ? (
      <p role="status" data-testid="connection-state" className="conn conn-locked">
        {TICKET_ONLY_TEXT}
      </p>
    ) : (
      <p
        role="status"
        data-testid="connection-state"
        className={`conn conn-${connectionClass(connection, space?.state ?? null)}`}
      >
        {connectionText(connection, space?.state ?? null, space?.scheduled_for ?? null)}
      </p>
    );
  const audio = (
    <>
      <audio data-testid="listen-audio" ref={listenAudio} preload="none" />
      <audio data-testid="stage-audio" ref={stageAudio} autoPlay />
    </>
  );

  if (!space) {
    return (
      <main className="page room" id="main">
        {notFound ? (
          <>
            <h1>Space not found</h1>
            {status}
            <p>
              This space does not exist. <Link href="/">Back home</Link>
            </p>
          </>
        ) : loadError ? (
          <>
            <h1>Could not open this space</h1>
            {status}
            <p className="form-error" role="alert">
              {errorMessage(loadError)}
            </p>
            <button type="button" className="button" onClick={() => setLoadAttempt((n) => n + 1)}>
              Try again
            </button>
          </>
        ) : (
          <>
            {status}
            <p className="muted">Loading the space…</p>
          </>
        )}
        {audio}
      </main>
    );
  }

  const viewerRole = myself?.role ?? null;
  const moderator = live && viewerRole !== null && isModerator(viewerRole);
  const isHost = meId !== null && space.host.id === meId;
  const stage = selectStage(state);
  const inviter = selectInviter(state);
  const mutedBy =
    state.mutedBy === null
      ? null
      : state.mutedBy === space.host.id
        ? "the host"
        : `${findParticipant(state, state.mutedBy)?.user.display_name ?? "a co-host"} (co-host)`;
  const nameOf = (userId: number) => findParticipant(state, userId)?.user.display_name ?? null;
  const lastReaction = state.reactions[state.reactions.length - 1];
  const reactor =
    lastReaction && lastReaction.user_id !== null ? findParticipant(state, lastReaction.user_id) : null;

  return (
    <main className="page room" id="main">
      <div className="room-head">
        <div className="room-title-row">
          {live && <span className="pill pill-live">LIVE</span>}
          {space.state === "scheduled" && <span className="pill pill-scheduled">Scheduled</span>}
          {space.recording && <span className="pill pill-muted">Recorded</span>}
          {space.ticket && <span className="pill pill-ticket">Ticketed</span>}
        </div>
        <h1>{space.title}</h1>
        {space.topics.length > 0 && (
          <ul className="topics" aria-label="Topics">
            {space.topics.map((t) => (
              <li key={t} className="topic">
                {t}
              </li>
            ))}
          </ul>
        )}
        <p className="room-host">
          Hosted by <UserName user={space.host} />
        </p>
        {status}
        {live && state.hostAway && (
          <p className="notice notice-warn">
            The host lost their connection. The space ends in about{" "}
            {Math.max(1, Math.round(state.hostAway.graceSeconds / 60))} min unless they come back.
          </p>
        )}
      </div>

      {space.ticket && (
        <TicketPanel
          space={space}
          ticket={space.ticket}
          meId={meId}
          isHost={isHost}
          check={purchaseId !== null ? purchaseCheck : null}
          onStale={() => void refreshSpace()}
        />
      )}

      {over ? (
        <section className="ended-panel" aria-labelledby="ended-heading">
          <h2 id="ended-heading">
            {removed
              ? "You were removed from this space"
              : signedOut && space.state === "live"
                ? "You were signed out"
                : space.state === "cancelled"
                ? "This space was cancelled"
                : "This space has ended"}
          </h2>
          {signedOut && space.state === "live" && (
            <p>
              <Link href={`/signin?next=/spaces/${encodeURIComponent(space.id)}`}>Sign in again</Link> to
              come back to this space.
            </p>
          )}
          {replay && <ReplayPlayer space={space} isHost={isHost} />}
          {locked && space.recording && space.state === "ended" && (
            <p className="muted">The recording is for ticket holders.</p>
          )}
          <p>
            <Link href="/">Find another space</Link>
          </p>
        </section>
      ) : space.state === "scheduled" ? (
        <section className="scheduled-panel" aria-label="Scheduled">
          {space.scheduled_for && <p className="starts">Starts {formatWhen(space.scheduled_for)}</p>}
          {isHost ? <SpaceControls space={space} /> : meId !== null && <ReminderToggle space={space} />}
          {meId === null && (
            <p className="muted">
              <Link href={`/signin?next=/spaces/${encodeURIComponent(space.id)}`}>Sign in</Link> to set a reminder.
            </p>
          )}
        </section>
      ) : locked ? (
        // Live, without a ticket: who is on stage, but no listening, requests or reactions.
        <Stage
          members={space.stage.filter((p) => p.present)}
          speaking={[]}
          meId={meId}
          viewerRole={null}
          reactions={[]}
          commands={commands}
          busy={false}
          error={null}
        />
      ) : (
        <>
          {/* Your controls, then the stage: on a phone both show without scrolling. */}
          <section className="room-actions" aria-label="Your controls">
            {onStage ? (
              <p className="muted small on-stage-note">You hear the stage live while you’re on it.</p>
            ) : (
              <ListenButton listener={listener} replay={false} />
            )}
            {myself ? (
              <MyStageControls
                spaceId={spaceId}
                me={myself}
                invitedBy={inviter}
                mutedBy={mutedBy}
                speaker={speaker}
                onStanding={(me) => dispatch({ type: "participant_updated", participant: me })}
              />
            ) : (
              meId === null && (
                <p className="muted small">
                  <Link href={`/signin?next=/spaces/${encodeURIComponent(space.id)}`}>Sign in</Link> to react
                  or ask to speak.
                </p>
              )
            )}
            {isHost && <SpaceControls space={space} />}
          </section>

          <Stage
            members={stage}
            speaking={state.speaking}
            meId={meId}
            viewerRole={live ? viewerRole : null}
            reactions={state.reactions}
            commands={commands}
            busy={stageAction.busy}
            error={stageAction.error}
          />

          {moderator && (
            <Requests
              requests={selectRequests(state)}
              busy={requestAction.busy}
              error={requestAction.error}
              onAnswer={(p: ParticipantView, approve) =>
                void requestAction.run(() => api.participant(spaceId, p.user.id, approve ? "approve" : "deny"))
              }
            />
          )}

          <Audience
            listeners={selectAudience(state)}
            count={state.audienceCount}
            hands={selectHandsRaised(state)}
            meId={meId}
            viewerRole={live ? viewerRole : null}
            reactions={audienceReactions(state)}
            nameOf={nameOf}
            busy={audienceAction.busy}
            error={audienceAction.error}
            onInvite={(p) => void audienceAction.run(() => api.participant(spaceId, p.user.id, "invite"))}
            onRemove={(p) => void audienceAction.run(() => api.remove(spaceId, p.user.id))}
          />

          <ReactionBar spaceId={spaceId} enabled={myself !== null} />
          <p className="visually-hidden" aria-live="polite">
            {lastReaction && reactor ? `${reactor.user.display_name} reacted ${lastReaction.emoji}` : ""}
          </p>
        </>
      )}
      {audio}
    </main>
  );
}
