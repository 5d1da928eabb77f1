"""A speaking bot that holds its seat the way a person's browser does.

It keeps the space's event stream open (that is its presence), unmutes itself when the mute
is its own (never a host's; asked to stay muted, it mutes itself instead), and speaks over
WHIP, offering again with a new connection when the event stream comes back after a drop,
when the space's media moves (``media_moved``), or when its connection fails or is closed.
It gives up after ``give_up_after`` seconds in which it heard nothing, and stops with a
``BotStopped`` that says why in one line. When a newer connection of the same person (a
browser, another bot) takes the seat, the newest wins: the server names the session it ended
in a ``speaker_replaced`` event and the bot stops (``Replaced``) rather than take it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
from aiortc import MediaStreamTrack, RTCIceServer

from salon.bots.events import Lost, SpaceEventStream, refusal
from salon.bots.outcomes import (
    REPLACED_LINE,
    GaveUp,
    Refused,
    Replaced,
    SpaceOver,
    problem_detail,
    unreachable,
)
from salon.bots.retry import Backoff, Clock, Patience
from salon.bots.seat import Seat
from salon.bots.speaker import WhipRefused, WhipSpeaker
from salon.media.pcm import Pcm

DEFAULT_GIVE_UP_SECONDS = 60.0
#: Each offer (gathering, the WHIP POST, applying the answer) is over within this.
ATTEMPT_SECONDS = 10.0
#: A connection that lived this long counts as a success: the next one starts the backoff anew.
#: Shorter-lived ones back off, so a browser of the same account taking the seat back and
#: forth is slowed to one offer per 5 s rather than a tight loop.
STEADY_SECONDS = 10.0
#: The bot hears the space if audio arrived within this long.
FRESH_SECONDS = 1.0
#: How often the bot checks whether it is hearing the space (for its patience).
CHECK_SECONDS = 0.2

TrackSource = Callable[[], MediaStreamTrack]


@dataclass(frozen=True, slots=True)
class SpeakerStatus:
    """What the bot heard over one stretch of time, and what is wrong if anything."""

    #: Audio frames arrived in the stretch (``audio`` is exactly them).
    hearing: bool
    audio: Pcm
    #: Why it hears nothing ("reconnecting: ..."), or how its seat is ("muted by the host").
    note: str


class StageBot:
    """``await StageBot(...).run()`` speaks until cancelled or stopped (``BotStopped``).

    ``source()`` makes the track to speak, a new one for each connection (a microphone does
    not queue what it heard while the connection was down).
    """

    def __init__(
        self,
        base_url: str,
        space_id: str,
        token: str,
        source: TrackSource,
        *,
        give_up_after: float = DEFAULT_GIVE_UP_SECONDS,
        attempt_timeout: float = ATTEMPT_SECONDS,
        muted: bool = False,
        clock: Clock = time.monotonic,
    ) -> None:
        """``muted``: keep the microphone shut (never unmute; mute the seat if it is open)."""
        self.base_url = base_url.rstrip("/")
        self.space_id = space_id
        self.token = token
        self.source = source
        self.attempt_timeout = attempt_timeout
        self.events = SpaceEventStream(
            self.base_url, space_id, token, request_timeout=attempt_timeout
        )
        self.seat = Seat(stay_muted=muted)
        #: The current connection (None between connections).
        self.session: WhipSpeaker | None = None
        #: Offers the server answered, over the bot's life.
        self.offers = 0
        #: What is wrong now, in a few words ("" when nothing is known to be).
        self.problem = "connecting"
        self._clock = clock
        self._patience = Patience(give_up_after, clock)
        self._stream_live = asyncio.Event()
        self._offer_wanted = asyncio.Event()
        self._offer_at_once = False
        self._offer_when_back = False
        self._mic_refused = False
        self._offer_backoff = Backoff()
        self._session_since = 0.0
        self._watchers: set[asyncio.Task[None]] = set()
        self._ice_servers: list[RTCIceServer] | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def hearing(self) -> bool:
        """The event stream is up and audio arrived within the last ``FRESH_SECONDS``."""
        session = self.session
        if not self._stream_live.is_set() or session is None or session.last_heard_at is None:
            return False
        return self._clock() - session.last_heard_at < FRESH_SECONDS

    def status(self, since: float) -> SpeakerStatus:
        """What arrived from ``since`` (``clock`` time) on, never anything older."""
        session = self.session
        audio = session.since(since) if session is not None else np.zeros(0, dtype=np.int16)
        if audio.size:
            return SpeakerStatus(True, audio, self.seat.describe() if self.seat.known else "")
        return SpeakerStatus(False, audio, self.problem or "no audio arriving")

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self._follow_events(), name="bot-events"),
            asyncio.create_task(self._keep_speaking(), name="bot-speaking"),
            asyncio.create_task(self._keep_patience(), name="bot-patience"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in [*tasks, *self._watchers]:
                task.cancel()
            await asyncio.gather(*tasks, *self._watchers, return_exceptions=True)
            await self._close_session(hang_up=True)

    # -- the event stream: presence, the seat, and when to offer ---------------------------

    async def _follow_events(self) -> None:
        async with contextlib.aclosing(self.events.follow()) as stream:
            async for item in stream:
                if isinstance(item, Lost):
                    self._stream_live.clear()
                    # A resync is a new snapshot on a healthy connection: media stays as is.
                    self._offer_when_back = self._offer_when_back or not item.resync
                    self.problem = f"reconnecting: {item.reason}"
                else:
                    await self._on_event(item)

    async def _on_event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind in ("space_ended", "space_cancelled"):
            raise SpaceOver(
                "the space ended" if kind == "space_ended" else "the space was cancelled"
            )
        self.seat.apply(event)
        if kind == "snapshot":
            self._mic_refused = False  # each snapshot may try once more
            if not self.seat.on_stage:
                raise Refused(
                    f"@{self.seat.handle or '?'} is not on the stage of this space "
                    "(a host approves or invites speakers)"
                )
            self._stream_live.set()
            if self._offer_when_back or self.session is None:
                self._offer_when_back = False
                self._want_offer("offering", at_once=True)
        elif kind == "media_moved":
            self._want_offer("the space's media moved: offering again", at_once=True)
        elif kind == "speaker_replaced" and self._holds(str(event.get("session_id"))):
            await self._close_session(hang_up=False)  # the server ended it already
            raise Replaced(REPLACED_LINE)
        elif not self.seat.on_stage:
            raise Refused(f"@{self.seat.handle} is no longer on the stage")
        if self._mic_refused:
            return
        if self.seat.should_unmute:
            await self._set_mic("unmute")
        elif self.seat.should_mute:
            await self._set_mic("mute")

    def _holds(self, session_id: str) -> bool:
        """Whether ``session_id`` is the connection the bot speaks on now (a session it
        replaced itself, by offering again, is not)."""
        location = self.session.location if self.session is not None else None
        return location is not None and location.rsplit("/", 1)[-1] == session_id

    async def _set_mic(self, action: str) -> None:
        """Unmute (or, asked to stay muted, mute) its own seat."""
        path = f"/api/spaces/{self.space_id}/participants/{self.seat.user_id}/{action}"
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.attempt_timeout, headers=self.auth
            ) as client:
                response = await client.post(path)
        except httpx.TransportError as exc:
            self.problem = f"could not {action}: {unreachable(exc)}"  # the next snapshot retries
            return
        if response.status_code < 300:
            me = self.seat.user_id
            self.seat.apply({"type": f"{action}d", "user_id": me, "by": me})
        else:
            self._mic_refused = True
            self.problem = f"could not {action}: {problem_detail(response)}"

    # -- speaking: one WHIP connection at a time -------------------------------------------

    def _want_offer(self, why: str, *, at_once: bool) -> None:
        self.problem = why
        self._offer_at_once = self._offer_at_once or at_once
        self._offer_wanted.set()

    async def _keep_speaking(self) -> None:
        while True:
            await self._offer_wanted.wait()
            await self._stream_live.wait()  # offer only while present in the space
            self._offer_wanted.clear()
            if not self._offer_at_once:
                if self._clock() - self._session_since >= STEADY_SECONDS:
                    self._offer_backoff.reset()
                await asyncio.sleep(self._offer_backoff.next())
            self._offer_at_once = False
            try:
                await self._offer()
            except WhipRefused as exc:
                await self._refused(exc)
                self._want_offer(f"reconnecting: offer refused ({exc.detail})", at_once=False)
            except (httpx.HTTPError, OSError, TimeoutError) as exc:
                self._want_offer(f"reconnecting: offer failed ({unreachable(exc)})", at_once=False)

    async def _offer(self) -> None:
        """A new connection and a new WHIP offer, bounded by ``attempt_timeout``."""
        await self._close_session(hang_up=False)  # the server replaces it with the new one
        session: WhipSpeaker | None = None
        try:
            async with asyncio.timeout(self.attempt_timeout):
                ice_servers = await self._ice()
                session = WhipSpeaker(
                    self.base_url,
                    self.space_id,
                    self.token,
                    self.source(),
                    ice_servers=ice_servers,
                    request_timeout=self.attempt_timeout,
                )
                self.session = session
                await session.connect()
        except BaseException:
            if session is not None:
                await self._close_session(hang_up=False)
            raise
        self.offers += 1
        self._session_since = self._clock()
        self.problem = "connecting"
        watcher = asyncio.create_task(self._watch(session))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _watch(self, session: WhipSpeaker) -> None:
        await session.closed.wait()
        if session is self.session:
            state = session.pc.connectionState
            self._want_offer(f"reconnecting: the connection is {state}", at_once=False)

    async def _refused(self, exc: WhipRefused) -> None:
        """Raise what a refused offer means; return when it is worth trying again."""
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=self.attempt_timeout
        ) as client:
            await refusal(client, self.space_id, exc.status, exc.detail)

    async def _ice(self) -> list[RTCIceServer]:
        """The server's STUN/TURN list, asked once (until it answers, host candidates only)."""
        if self._ice_servers is not None:
            return self._ice_servers
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=self.attempt_timeout, headers=self.auth
        ) as client:
            self._ice_servers = await fetch_ice_servers(client, self.space_id)
        return self._ice_servers or []

    async def _close_session(self, *, hang_up: bool) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        with contextlib.suppress(Exception):
            if hang_up:
                await session.hang_up(timeout=2)
            else:
                await session.pc.close()
        session.track.stop()

    # -- patience ---------------------------------------------------------------------------

    async def _keep_patience(self) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            if self.hearing:
                self._patience.ok()
                self.problem = ""
            elif self._patience.exhausted:
                trouble = self.problem.removeprefix("reconnecting: ") or "no audio arriving"
                raise GaveUp(
                    f"gave up after {self._patience.seconds:g} s without hearing the space: "
                    f"{trouble}"
                )


async def fetch_ice_servers(client: httpx.AsyncClient, space_id: str) -> list[RTCIceServer] | None:
    """A space's STUN/TURN list from ``GET /ice-servers`` (signed in); None when it cannot be
    had now (the caller connects with host candidates and asks again later)."""
    try:
        response = await client.get(f"/api/spaces/{space_id}/ice-servers")
        response.raise_for_status()
        return [
            RTCIceServer(s["urls"], s.get("username"), s.get("credential")) for s in response.json()
        ]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
