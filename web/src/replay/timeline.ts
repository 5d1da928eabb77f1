// The replay's timeline, pure: who speaks at a moment, reactions a playhead passes, times.
import type { ReplayReaction, SpokenInterval } from "../api/types";

/** The people whose speaking interval covers `t` (seconds of recorded audio). */
export function speakersAt(intervals: SpokenInterval[], t: number): Set<number> {
  const found = new Set<number>();
  for (const i of intervals) if (i.start <= t && t < i.end) found.add(i.user_id);
  return found;
}

/** Largest forward step still "playing through" (a bigger one is a seek: nothing floats). */
export const MAX_STEP_SECONDS = 1.5;

/**
 * Reactions whose moment the playhead passed going from `from` to `to` (both seconds).
 * A seek (backwards, or a jump) floats nothing.
 */
export function reactionsPassed(
  reactions: ReplayReaction[],
  from: number,
  to: number,
): ReplayReaction[] {
  if (to <= from || to - from > MAX_STEP_SECONDS) return [];
  return reactions.filter((r) => from < r.at && r.at <= to);
}

/** 75.4 → "1:15"; 3725 → "1:02:05". */
export function formatClock(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** `?t=` as seconds of recorded audio within `[0, duration)`, or 0 when absent or unreadable. */
export function startFrom(search: string, duration: number): number {
  const raw = new URLSearchParams(search).get("t");
  if (raw === null || !/^\d+(\.\d+)?$/.test(raw)) return 0;
  const t = Number(raw);
  return t < duration ? t : 0;
}

/** The space page's URL that opens its replay at `t` (whole seconds). */
export function shareUrl(origin: string, spaceId: string, t: number): string {
  return `${origin}/spaces/${encodeURIComponent(spaceId)}?t=${Math.floor(Math.max(0, t))}`;
}
