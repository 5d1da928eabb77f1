import { useState } from "react";
import { api } from "../api/client";
import type { SpaceView } from "../api/types";
import { ConfirmDialog } from "./ConfirmDialog";
import { useAction } from "./useAction";

/** The host's control of the space itself: start or cancel a scheduled one, end a live one. */
export function SpaceControls({ space }: { space: SpaceView }) {
  const { busy, error, run } = useAction();
  const [confirming, setConfirming] = useState<"end" | "cancel" | null>(null);

  async function act(action: () => Promise<unknown>) {
    if (await run(action)) setConfirming(null);
  }

  return (
    <div className="space-controls">
      {space.state === "scheduled" && (
        <>
          <button
            type="button"
            className="button button-primary"
            disabled={busy}
            onClick={() => void run(() => api.start(space.id))}
          >
            Start space
          </button>
          <button type="button" className="button" disabled={busy} onClick={() => setConfirming("cancel")}>
            Cancel space
          </button>
        </>
      )}
      {space.state === "live" && (
        <button type="button" className="button button-danger" disabled={busy} onClick={() => setConfirming("end")}>
          End space
        </button>
      )}
      {error && !confirming && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {confirming === "end" && (
        <ConfirmDialog
          title="End this space?"
          confirmLabel="End space"
          cancelLabel="Keep going"
          danger
          busy={busy}
          onConfirm={() => void act(() => api.end(space.id))}
          onCancel={() => setConfirming(null)}
        >
          <p>Everyone will be disconnected{space.recording ? "; the recording stays available" : ""}.</p>
          {error && <p className="form-error" role="alert">{error}</p>}
        </ConfirmDialog>
      )}
      {confirming === "cancel" && (
        <ConfirmDialog
          title="Cancel this space?"
          confirmLabel="Cancel space"
          cancelLabel="Keep it"
          danger
          busy={busy}
          onConfirm={() => void act(() => api.cancel(space.id))}
          onCancel={() => setConfirming(null)}
        >
          <p>It will not go live, and this cannot be undone.</p>
          {space.ticket && (
            <p className="notice notice-warn">
              Every ticket holder is refunded, and no more tickets are sold.
            </p>
          )}
          {error && <p className="form-error" role="alert">{error}</p>}
        </ConfirmDialog>
      )}
    </div>
  );
}
