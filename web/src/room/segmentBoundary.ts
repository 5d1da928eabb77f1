// hls.js (1.7) moves on to the parts of the segment still being written only once the buffer
// ends *at or past* the last complete segment's end (it looks the next fragment up by the
// buffer's end). At that boundary the two figures are the same instant computed two ways:
// Chromium reports the buffer's end in whole microseconds, rounded down (15.359999), and
// hls.js sums the playlist's durations (15.360000000000003). A hair short, hls.js picks the
// complete segment again, finds it loaded, and waits for the open segment to complete and
// be listed whole: one to two seconds of silence, at about one boundary a minute. Taking
// "within a millisecond" (a twentieth of an AAC frame) as the boundary itself fixes it.
import Hls, { type LevelDetails } from "hls.js/light";

/** Closer than this to the last complete segment's end counts as past it (seconds). */
export const BOUNDARY_EPSILON_S = 0.001;

/** The buffer end hls.js should plan the next load from. */
export function pastTheBoundary(
  targetBufferTime: number | null,
  fragmentEnd: number,
  hasOpenSegment: boolean,
): number | null {
  if (!hasOpenSegment || targetBufferTime === null) return targetBufferTime;
  return Math.abs(targetBufferTime - fragmentEnd) < BOUNDARY_EPSILON_S
    ? fragmentEnd + BOUNDARY_EPSILON_S
    : targetBufferTime;
}

/** hls.js's own stream controller, looking for the next fragment from `pastTheBoundary`. */
export class BoundaryStreamController extends Hls.DefaultConfig.streamController {
  protected override getNextFragment(pos: number, levelDetails: LevelDetails) {
    const from = pastTheBoundary(pos, levelDetails.fragmentEnd, levelDetails.fragmentHint !== undefined);
    return super.getNextFragment(from ?? pos, levelDetails);
  }
}
