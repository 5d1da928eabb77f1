// A large audience's reactions arrive counted (reaction_burst: counts per emoji per window, no
// names). They float in proportion to the counts, capped so a huge audience does not bury the
// page, and spread over the window they were counted in, as they were sent.
import type { Emoji } from "../api/types";

export interface BurstFloat {
  emoji: Emoji;
  /** When it floats, as a fraction of the window: 0 at once, up to (but not) 1. */
  offset: number;
}

/**
 * How many of each emoji float: all of them up to `cap` in total, else `cap` shared in
 * proportion to the counts (largest remainders), every emoji sent keeping at least one
 * (a single 💜 among a thousand 👏 still shows that someone sent it).
 */
export function burstShares(
  counts: Partial<Record<Emoji, number>>,
  cap: number,
): [Emoji, number][] {
  const entries = (Object.entries(counts) as [Emoji, number | undefined][])
    .map(([emoji, n]): [Emoji, number] => [emoji, Math.max(0, Math.floor(n ?? 0))])
    .filter(([, n]) => n > 0);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total <= cap) return entries;
  const shares = entries.map(([emoji, n]) => {
    const exact = (n * cap) / total;
    return { emoji, n: Math.floor(exact), remainder: exact - Math.floor(exact) };
  });
  // The seats rounding left over go to the largest remainders (ties: the server's order).
  let left = cap - shares.reduce((sum, s) => sum + s.n, 0);
  for (const share of [...shares].sort((a, b) => b.remainder - a.remainder)) {
    if (left <= 0) break;
    share.n += 1;
    left -= 1;
  }
  // An emoji rounded away takes one from the largest share, while that keeps more than one.
  for (const share of shares) {
    if (share.n > 0) continue;
    const largest = shares.reduce((a, b) => (b.n > a.n ? b : a));
    if (largest.n <= 1) break;
    largest.n -= 1;
    share.n = 1;
  }
  return shares.filter((s) => s.n > 0).map((s): [Emoji, number] => [s.emoji, s.n]);
}

/**
 * The floats of one burst, in the order they go up: the emoji interleaved evenly (each one's
 * k-th of n sits at (k + ½) / n of the way), so 👏👏💜👏👏 rather than 👏👏👏👏💜, at evenly
 * spaced moments across the window, the first at once.
 */
export function burstFloats(counts: Partial<Record<Emoji, number>>, cap: number): BurstFloat[] {
  const slots: { emoji: Emoji; place: number; order: number }[] = [];
  burstShares(counts, cap).forEach(([emoji, n], order) => {
    for (let k = 0; k < n; k++) slots.push({ emoji, place: (k + 0.5) / n, order });
  });
  slots.sort((a, b) => a.place - b.place || a.order - b.order);
  return slots.map((slot, i) => ({ emoji: slot.emoji, offset: i / slots.length }));
}
