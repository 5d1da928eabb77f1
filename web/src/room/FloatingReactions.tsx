import type { FloatingReaction } from "./reducer";

/** "Ada Lovelace" → "AL"; one word → its first two letters' first ("Ada" → "A"). */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return words
    .slice(0, 2)
    .map((w) => [...w][0]!.toUpperCase())
    .join("");
}

interface Props {
  reactions: FloatingReaction[];
  /** Who sent a reaction, by name, when known (a burst from a large audience names no one). */
  nameOf?: (userId: number) => string | null;
}

/**
 * Emoji that float up and fade (CSS, ~2 s), each with its sender's name, small (initials when
 * the name is long); the reducer drops them when they are done. They float above everything
 * on the page, sticky header and reaction bar included (styles.css, .floating-layer).
 */
export function FloatingReactions({ reactions, nameOf }: Props) {
  if (reactions.length === 0) return null;
  return (
    <span className="floating-layer" aria-hidden="true">
      {reactions.map((r) => {
        const name = r.user_id !== null && nameOf ? nameOf(r.user_id) : null;
        return (
          <span
            key={r.key}
            className="floating-reaction"
            data-testid="floating-reaction"
            // A little sideways spread so a burst doesn't stack into one emoji.
            style={{ left: `${30 + ((r.key * 37) % 40)}%` }}
          >
            <span className="floating-emoji">{r.emoji}</span>
            {name && (
              <span className="floating-sender" data-testid="reaction-sender" title={name}>
                {[...name].length > 12 ? initials(name) : name}
              </span>
            )}
          </span>
        );
      })}
    </span>
  );
}
