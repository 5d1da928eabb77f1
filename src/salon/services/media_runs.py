"""Media runs: each time a live space's media starts (going live, a restart, a new node).

A run's number and the space's start time give its LL-HLS stream an identity that survives
restarts: media sequence numbers continue from the start time and each later run opens with
a discontinuity, so no media name repeats within a space's life.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from salon.store.models import Space


@dataclass(frozen=True, slots=True)
class MediaRun:
    space_id: str
    #: 0 for the first run of the space's media, then 1, 2, ... after each restart.
    run: int
    started_at: datetime
    recording: bool
    ticketed: bool


def next_run(space: Space) -> MediaRun:
    """Count a new run of a live space's media (the caller holds the space's row lock, as
    ``media_leases.claim`` does, so two nodes starting it get different run numbers)."""
    assert space.started_at is not None  # live
    run = space.media_runs
    space.media_runs = run + 1
    return MediaRun(
        space_id=space.id,
        run=run,
        started_at=space.started_at,
        recording=space.recording,
        ticketed=space.ticketed,
    )
