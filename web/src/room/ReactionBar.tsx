import { useEffect, useState } from "react";
import { api } from "../api/client";
import { ApiError, errorMessage } from "../api/problem";
import { EMOJI } from "../api/types";

export function ReactionBar({ spaceId, enabled }: { spaceId: string; enabled: boolean }) {
  const [hint, setHint] = useState<string | null>(null);
  const [quietUntil, setQuietUntil] = useState(0);

  useEffect(() => {
    if (!hint) return;
    const wait = Math.max(2000, quietUntil - Date.now());
    const timer = window.setTimeout(() => setHint(null), wait);
    return () => window.clearTimeout(timer);
  }, [hint, quietUntil]);

  async function react(emoji: string) {
    try {
      await api.react(spaceId, emoji);
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) {
        const seconds = Math.max(1, Math.ceil(e.retryAfter ?? 2));
        setQuietUntil(Date.now() + seconds * 1000);
        setHint(`Slow down — you can react again in ${seconds} s.`);
      } else {
        setHint(errorMessage(e));
      }
    }
  }

  return (
    <div className="reaction-bar-wrap">
      <div className="reaction-bar" role="group" aria-label="Reactions">
        {EMOJI.map((emoji) => (
          <button
            key={emoji}
            type="button"
            className="reaction-button"
            aria-label={`React ${emoji}`}
            disabled={!enabled}
            onClick={() => void react(emoji)}
          >
            {emoji}
          </button>
        ))}
      </div>
      <p className="reaction-hint" aria-live="polite">
        {hint ?? ""}
      </p>
    </div>
  );
}
