import type { FloatingReaction } from "./reducer";

/** Emoji that float up and fade (CSS, ~2 s); the reducer drops them when they are done. */
export function FloatingReactions({ reactions }: { reactions: FloatingReaction[] }) {
  if (reactions.length === 0) return null;
  return (
    <span className="floating-layer" aria-hidden="true">
      {reactions.map((r) => (
        <span
          key={r.key}
          className="floating-reaction"
          data-testid="floating-reaction"
          // A little sideways spread so a burst doesn't stack into one emoji.
          style={{ left: `${30 + ((r.key * 37) % 40)}%` }}
        >
          {r.emoji}
        </span>
      ))}
    </span>
  );
}
