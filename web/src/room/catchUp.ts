// Keeping a listener near the live edge. hls.js only speeds playback up while more than one
// second is buffered ahead, which at Salon's ~0.7 s target never happens: a listener who
// started late or stalled once would stay ~0.5 s further behind for good. So we steer the
// playback rate ourselves, gently, and never while the buffer is nearly empty.

/** Fastest catch-up: 1.15× is hard to notice in speech. */
export const MAX_CATCH_UP_RATE = 1.15;
/** Below this much audio buffered ahead, play at 1× so we don't cause a stall. */
export const MIN_BUFFER_AHEAD = 0.3;
/** Start catching up this far behind the target; stop once within STOP_WITHIN. */
const START_BEYOND = 0.12;
const STOP_WITHIN = 0.03;

export function catchUpRate(
  currentRate: number,
  latency: number | null,
  target: number | null,
  bufferAhead: number,
): number {
  if (latency === null || target === null || bufferAhead < MIN_BUFFER_AHEAD) return 1;
  const behind = latency - target;
  const catchingUp = currentRate > 1;
  if (behind <= (catchingUp ? STOP_WITHIN : START_BEYOND)) return 1;
  // Proportional, in steps of 0.05 so the rate doesn't flutter with every measurement.
  const rate = 1 + Math.min(MAX_CATCH_UP_RATE - 1, Math.max(0.05, behind * 0.25));
  return Math.round(rate * 20) / 20;
}
