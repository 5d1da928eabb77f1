import { api } from "../api/client";
import type { ParticipantView, UserSummary } from "../api/types";
import { isStageRole } from "../api/types";
import { MicIcon, MicOffIcon } from "../components/icons";
import { MicLevel } from "./MicLevel";
import type { Speaker } from "./useSpeaker";
import { useAction } from "./useAction";

const SPEAKER_STATUS: Record<Speaker["status"], string> = {
  off: "",
  mic: "Asking for your microphone…",
  connecting: "Connecting your audio…",
  connected: "You’re on air",
  reconnecting: "Reconnecting your audio…",
  mic_blocked: "",
  failed: "",
};

interface Props {
  spaceId: string;
  me: ParticipantView;
  invitedBy: UserSummary | null;
  /** Who muted the viewer, in words ("the host"), when it was not the viewer themself. */
  mutedBy: string | null;
  speaker: Speaker;
  /** The viewer's standing as the server answered a request (hand, invitation): a listener
   * following the audience view hears of it no other way, and switches to the event stream. */
  onStanding: (me: ParticipantView) => void;
}

/** The viewer's own standing: ask to speak, answer an invitation, or (on stage) their mic. */
export function MyStageControls({ spaceId, me, invitedBy, mutedBy, speaker, onStanding }: Props) {
  const { busy, error, run } = useAction();
  const stand = (request: () => Promise<ParticipantView>) =>
    void run(async () => onStanding(await request()));

  if (!isStageRole(me.role)) {
    return (
      <div className="my-controls">
        {me.invited ? (
          <div className="invitation" role="group" aria-labelledby="invitation-text">
            <p id="invitation-text">
              {invitedBy ? `${invitedBy.display_name} invited you to speak.` : "You’re invited to speak."}
            </p>
            <button
              type="button"
              className="button button-primary"
              disabled={busy}
              onClick={() => stand(() => api.answerInvitation(spaceId, true))}
            >
              Accept invitation
            </button>
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => stand(() => api.answerInvitation(spaceId, false))}
            >
              Decline invitation
            </button>
          </div>
        ) : me.hand_raised ? (
          <>
            <button
              type="button"
              className="button button-on"
              disabled={busy}
              onClick={() => stand(() => api.lowerHand(spaceId))}
            >
              <span aria-hidden="true">✋ </span>Withdraw request
            </button>
            <span className="muted small">Waiting for the host…</span>
          </>
        ) : (
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => stand(() => api.raiseHand(spaceId))}
          >
            <span aria-hidden="true">✋ </span>Request to speak
          </button>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </div>
    );
  }

  const status = SPEAKER_STATUS[speaker.status];
  return (
    <div className="my-controls" data-testid="my-mic">
      {me.muted ? (
        <button
          type="button"
          className="button button-primary"
          disabled={busy}
          onClick={() => void run(() => api.participant(spaceId, me.user.id, "unmute"))}
        >
          <MicIcon /> Unmute
        </button>
      ) : (
        <button
          type="button"
          className="button button-on"
          disabled={busy}
          onClick={() => void run(() => api.participant(spaceId, me.user.id, "mute"))}
        >
          <MicOffIcon /> Mute
        </button>
      )}
      {speaker.mic && <MicLevel stream={speaker.mic} />}
      {me.role !== "host" && (
        <button
          type="button"
          className="button"
          disabled={busy}
          onClick={() => void run(() => api.leaveStage(spaceId))}
        >
          Leave stage
        </button>
      )}
      <span className="speaker-status small" aria-live="polite">
        {status}
        {speaker.status === "connected" && me.muted && !mutedBy ? " · muted" : ""}
      </span>
      {me.muted && mutedBy && (
        // Only the speaker can unmute themself: say who muted them, and that they may.
        <p className="muted-by" role="status" data-testid="muted-by">
          <MicOffIcon /> Muted by {mutedBy}. Unmute when you’re ready to speak.
        </p>
      )}
      {(speaker.status === "mic_blocked" || speaker.status === "failed") && (
        <p className="form-error" role="alert">
          {speaker.detail}{" "}
          <button type="button" className="button button-small" onClick={speaker.retry}>
            Try again
          </button>
        </p>
      )}
      {speaker.remoteBlocked && (
        <button type="button" className="button button-small" onClick={speaker.resumeRemote}>
          Tap to hear the stage
        </button>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
