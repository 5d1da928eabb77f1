// Lists of spaces that may have replays: a profile's spaces, the home "Replays" shelf.
import type { ListedSpace } from "../api/types";
import { SpaceCard } from "../components/SpaceCard";

/** What a past space's replay is: available until a date, expired, or deleted. */
export function replayText(space: ListedSpace): string | null {
  const replay = space.replay;
  if (space.state !== "ended") return null;
  if (!replay) return "Not recorded";
  if (replay.deleted) return "Recording deleted";
  if (!replay.available || !replay.expires_at) return "Replay expired";
  const until = new Date(replay.expires_at).toLocaleDateString([], {
    month: "short",
    day: "numeric",
  });
  return `Replay until ${until}`;
}

export function ListedSpaces({ spaces, label }: { spaces: ListedSpace[]; label: string }) {
  return (
    <ul className="space-list" aria-label={label}>
      {spaces.map((s) => {
        const text = replayText(s);
        return (
          <li key={s.id} className="listed-space" data-testid="listed-space">
            <SpaceCard space={s} />
            {text && (
              <p
                className={`replay-note ${s.replay?.available ? "replay-note-on" : "muted"}`}
                data-testid="replay-note"
              >
                {text}
              </p>
            )}
          </li>
        );
      })}
    </ul>
  );
}
