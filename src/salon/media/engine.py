"""The media engine: one Room per live space, steered by the space's events."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter as MetricCounter

from salon.clock import Clock, SystemClock
from salon.config import Settings
from salon.events.bus import EventBus
from salon.events.types import (
    Event,
    Muted,
    ParticipantLeft,
    RoleChanged,
    SpaceCancelled,
    SpaceEnded,
    Speaking,
    TicketVoided,
    Unmuted,
)
from salon.media.hls.recorder import Recorder
from salon.media.hls.stream import SEGMENT_SECONDS, LiveStream, first_msn_for
from salon.media.room import Room
from salon.media.viewer import ProgramViewer
from salon.metrics import HLS_REQUESTS, LIVE_ROOMS, RECORDING_GAPS, TALLY, WHEP_REFUSED

log = logging.getLogger(__name__)

ENDED_ROOM_SECONDS = 120.0

#: What a speaking session that ended because its person left is remembered as.
_LEFT_WHY = {
    "left": "you left the space",
    "disconnected": "you dropped out of the space",
    "removed": "a host removed you from the space",
    "banned": "a host banned you from the space",
}


class WhepFull(Exception):
    """This node serves as many WHEP viewers as ``settings.whep_max_viewers`` allows (or
    WHEP is off: 0); the viewer should play LL-HLS instead."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"this server already has its {limit} WebRTC (WHEP) listeners"
            if limit
            else "WebRTC (WHEP) listening is turned off on this server"
        )
        self.limit = limit


def _report_gap(space_id: str, recorder: Recorder, first_msn: int) -> None:
    """A recording continued by a later run (a restart, another node) skips what was lost."""
    recorded = recorder.segments()
    if recorded and first_msn > recorded[-1].msn + 1:
        gap = (first_msn - recorded[-1].msn - 1) * SEGMENT_SECONDS
        RECORDING_GAPS.inc(gap)
        log.warning("the recording of space %s continues after a gap of %.1f s", space_id, gap)


class MediaEngine:
    """Owns the rooms of this node. No HTTP and no SQL: callers authorize, then call in."""

    def __init__(self, settings: Settings, bus: EventBus, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self._bus = bus
        self._clock = clock or SystemClock()
        self.rooms: dict[str, Room] = {}
        #: The recorder of each recorded room here: told who speaks, for the replay's stage.
        self._recorders: dict[str, Recorder] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        #: Audio requests answered by this node, by kind: what the edge did not absorb.
        self.hls_requests: Counter[str] = Counter()
        self._hls_metric: dict[str, MetricCounter] = {}
        #: Called as ``hook(space_id, name, via_edge)`` for every live playlist or media
        #: request answered (``via_edge``: it came through the shipped edge). Hooks run on the
        #: request's hot path: keep them tiny; an exception in one is logged, not raised.
        self.listener_hooks: list[Callable[[str, str, bool], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        #: WHEP offers being answered: counted against the cap before they connect.
        self._whep_answering = 0
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            SpaceEnded: self._on_over,
            SpaceCancelled: self._on_over,
            Muted: self._on_muted,
            Unmuted: self._on_unmuted,
            RoleChanged: self._on_role_changed,
            ParticipantLeft: self._on_left,
            TicketVoided: self._on_ticket_voided,
        }
        bus.add_listener(self._on_event)

    def room(self, space_id: str) -> Room | None:
        return self.rooms.get(space_id)

    def speaking(self, space_id: str) -> list[int]:
        """Who speaks in the space now (as last published): for people arriving mid-speech,
        since ``speaking`` events go out only when the set changes."""
        room = self.rooms.get(space_id)
        return sorted(room.speakers.speaking) if room is not None else []

    def count_hls(self, kind: str) -> None:
        self.hls_requests[kind] += 1
        metric = self._hls_metric.get(kind)
        if metric is None:  # labels() costs a lock and a lookup: look each kind up once
            metric = self._hls_metric[kind] = HLS_REQUESTS.labels(kind=kind)
        TALLY.inc(metric)  # in bulk: the hot path counts ten times a second per player

    def note_listener_request(self, space_id: str, name: str, via_edge: bool) -> None:
        """Tell the listener hooks about a live playlist or media request being answered."""
        for hook in self.listener_hooks:
            try:
                hook(space_id, name, via_edge)
            except Exception:
                log.exception("listener hook failed for space %s", space_id)

    def whep_viewers(self) -> int:
        """WHEP viewers connected to this node, over all its spaces."""
        return sum(len(room.viewers) for room in self.rooms.values())

    async def watch(self, space_id: str, offer_sdp: str, *, user_id: int | None) -> ProgramViewer:
        """Open a WHEP viewer of a live space's program mix. The room must be running here
        (open it as for WHIP); raises LookupError if it is not, WhepFull at the node's cap,
        UnusableOffer for an offer that cannot be answered."""
        limit = self.settings.whep_max_viewers
        if self.whep_viewers() + self._whep_answering >= limit:
            WHEP_REFUSED.inc()
            raise WhepFull(limit)
        room = self.rooms.get(space_id)
        if room is None or room.ended:
            raise LookupError(f"the media of space {space_id} does not run on this node")
        self._whep_answering += 1
        try:
            return await room.watch(offer_sdp, user_id=user_id)
        finally:
            self._whep_answering -= 1

    @asynccontextmanager
    async def opening(self, space_id: str) -> AsyncIterator[None]:
        """Held while deciding to open a space's room, so concurrent first requests open one."""
        lock = self._opening.setdefault(space_id, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._opening.get(space_id) is lock:
                del self._opening[space_id]

    def open_room(
        self,
        space_id: str,
        *,
        recording: bool,
        ticketed: bool = False,
        run: int = 0,
        started_at: datetime | None = None,
    ) -> Room:
        """The running room of a live space, started on first use.

        ``run`` counts the earlier runs of this space's media (restarts) and ``started_at`` is
        when the space went live: the stream's media sequence continues from that time, so
        no media name repeats. A recorded space's parts are also written under
        ``recordings_dir/<space id>/``.
        """
        room = self.rooms.get(space_id)
        if room is None or room.ended:
            elapsed = (self._clock.now() - (started_at or self._clock.now())).total_seconds()
            stream = LiveStream(first_msn=first_msn_for(elapsed, SEGMENT_SECONDS), run=run)
            if recording:
                directory = self.settings.recordings_dir / space_id
                recorder = Recorder(directory, stream.init)
                stream.on_part = recorder.on_part
                _report_gap(space_id, recorder, stream.first_msn)
                recorder.begin_run(stream.first_msn, self._clock.now())
                self._recorders[space_id] = recorder
            else:
                self._recorders.pop(space_id, None)
            room = Room(
                space_id,
                ticketed=ticketed,
                stream=stream,
                ice_servers=list(self.settings.ice_servers),
                on_speaking=self._publish_speaking,
            )
            room.start()
            self.rooms[space_id] = room
            LIVE_ROOMS.set(sum(not r.ended for r in self.rooms.values()))
            log.info("media started for space %s", space_id)
        return room

    def _publish_speaking(self, space_id: str, user_ids: list[int]) -> None:
        recorder = self._recorders.get(space_id)
        if recorder is not None and not self.rooms[space_id].ended:
            recorder.on_speaking(self._clock.now(), user_ids)
        event = Speaking(space_id=space_id, at=datetime.now(UTC), user_ids=user_ids)
        self._spawn(self._bus.publish(event))

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_event(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None and event.space_id in self.rooms:
            handler(event)

    def _on_over(self, event: SpaceEnded | SpaceCancelled) -> None:
        room = self.rooms[event.space_id]
        room.stop()  # before anyone asks again, the playlist carries ENDLIST
        self._spawn(room.end())
        # Keep the ended stream a little while so players fetch the final playlist (ENDLIST).
        asyncio.get_running_loop().call_later(
            ENDED_ROOM_SECONDS, self._drop_ended, event.space_id, room
        )
        LIVE_ROOMS.set(sum(not r.ended for r in self.rooms.values()))
        log.info("media ended for space %s", event.space_id)

    def halt_room(self, space_id: str) -> None:
        """Stop running a space's media here at once, its stream left open (no ENDLIST): its
        lease went to another node, which continues the stream. Requests go there now."""
        room = self.rooms.pop(space_id, None)
        self._recorders.pop(space_id, None)
        if room is None:
            return
        self._spawn(room.halt())
        LIVE_ROOMS.set(sum(not r.ended for r in self.rooms.values()))
        log.info("media halted for space %s (another node runs it)", space_id)

    def _drop_ended(self, space_id: str, room: Room) -> None:
        if self.rooms.get(space_id) is room:
            del self.rooms[space_id]
            self._recorders.pop(space_id, None)

    def _on_muted(self, event: Muted) -> None:
        self.rooms[event.space_id].set_muted(event.user_id, True)

    def _on_unmuted(self, event: Unmuted) -> None:
        self.rooms[event.space_id].set_muted(event.user_id, False)

    def _on_role_changed(self, event: RoleChanged) -> None:
        if event.role == "listener":
            room = self.rooms[event.space_id]
            self._spawn(room.hang_up(event.user_id, why="you were moved off the stage"))

    def _on_left(self, event: ParticipantLeft) -> None:
        room = self.rooms[event.space_id]
        self._spawn(room.hang_up(event.user_id, why=_LEFT_WHY[event.reason]))
        if event.reason in ("removed", "banned"):
            # Only then: WHEP listening needs no presence (a restreamer never joins), and a
            # dropped event stream must not cut off audio that still flows.
            self._spawn(room.hang_up_viewers_of(event.user_id, why=_LEFT_WHY[event.reason]))

    def _on_ticket_voided(self, event: TicketVoided) -> None:
        room = self.rooms[event.space_id]
        if room.ticketed:
            why = "your ticket was refunded"
            self._spawn(room.hang_up_viewers_of(event.user_id, why=why))

    async def close(self) -> None:
        """Stop every room here, their streams left open (no ENDLIST): the spaces are not over,
        and continue on another node, or here after a restart."""
        for room in self.rooms.values():
            if not room.ended:
                await room.halt()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
