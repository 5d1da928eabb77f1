"""The audience view: what a listener sees of a live space, as one document everyone shares.

Listeners (signed out ones included) follow a space without a connection of their own to the
origin: they fetch ``audience.json`` beside the playlist, with a blocking reload like the
playlist's (``?v=N`` answers once version N exists). Every listener asks for the same URL at
the same moment, so an edge or CDN collapses them into one origin request per version, and
the origin keeps one document per space, whatever the audience: no per-person socket, no
database snapshot per viewer, no fan-out per reaction.

The document is rebuilt from the space's events (one bus listener for all spaces), read from
the database at most once per publication, and published at most every
``MIN_INTERVAL_SECONDS``, and at least every ``HEARTBEAT_SECONDS`` so a waiting request is
always answered with something new (a blocking request never has to time out through a
cache). Versions count from the time the document was opened (tenths of a second), so a
restarted origin continues above any version the previous one published.

A follower who acts has the event stream; one who does not learns of their own removal from
the view: it lists who was put out of the space (removed, or banned) in the last
``REMOVALS_KEPT_SECONDS``, by user id only (as ``invited`` does) and without saying which,
and the follower who finds their own id asks the origin once for their own standing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select

from salon.domain.lifecycle import SpaceState
from salon.domain.reactions import Emoji
from salon.domain.stage import Role
from salon.events.types import (
    AudienceCount,
    Event,
    ParticipantLeft,
    ReactionBurst,
    ReactionSent,
    Speaking,
)
from salon.services.context import Context
from salon.services.queries import get_space, space_view
from salon.store.models import Participant
from salon.views import SpaceView, View

log = logging.getLogger(__name__)

#: Publications are coalesced: at most one per this interval.
MIN_INTERVAL_SECONDS = 0.25
#: A new version at least this often, even with nothing new (see the module's docstring).
HEARTBEAT_SECONDS = 5.0
#: Reactions stay in the document this long (a follower polls far more often).
REACTIONS_KEPT_SECONDS = 5.0
#: A document of a space that is over is kept this long for late followers, then dropped.
LINGER_SECONDS = 60.0
#: Who was put out of the space stays in the document this long: a follower that missed a
#: few versions (a failed request, a backoff) still finds it, and a ticketed space's view,
#: like its audio, closes to them within a minute (the audio credential's longest life).
REMOVALS_KEPT_SECONDS = 60.0
#: And at most this many of them (the newest), so the document stays small whatever happens.
MAX_REMOVALS = 100


class PersonReaction(View):
    """One person's reaction (a small audience)."""

    seq: int
    at: datetime
    user_id: int
    emoji: Emoji


class ReactionCounts(View):
    """A large audience's reactions over one window, counted per emoji."""

    seq: int
    at: datetime
    window_seconds: float
    counts: dict[Emoji, int]


class AudienceView(View):
    """``GET /api/spaces/{id}/hls/audience.json``: the space as its audience sees it."""

    type: Literal["audience_view"] = "audience_view"
    space_id: str
    #: Ask ``?v={version + 1}`` for the next one.
    version: int
    at: datetime
    #: As a signed-out viewer sees it (``me`` is null); ``audience_count`` below is newer.
    space: SpaceView
    #: People holding an open invitation to speak (so an invited listener learns of it).
    invited: list[int]
    #: People put out of the space lately, removed or banned (so a follower learns they were).
    removed: list[int]
    #: How many hands are raised (who raised them is for the moderators).
    hands: int
    speaking: list[int]
    #: Listeners not on the stage.
    audience_count: int
    #: The last few seconds of reactions, oldest first; ``seq`` grows by one per entry.
    reactions: list[PersonReaction | ReactionCounts]


class AudienceFeed:
    """One live space's audience view: the current document, its version, and its waiters."""

    def __init__(self, ctx: Context, space_id: str, speaking: list[int] | None = None) -> None:
        self._ctx = ctx
        self.space_id = space_id
        self._version = int(ctx.clock.now().timestamp() * 10)
        self._body = b""
        self._space: SpaceView | None = None
        self._invited: list[int] = []
        self._hands = 0
        #: (when, who) of recent removals and bans, oldest first.
        self._removals: deque[tuple[datetime, int]] = deque(maxlen=MAX_REMOVALS)
        #: Who speaks when the view opens (later changes come as ``speaking`` events).
        self._speaking: list[int] = speaking or []
        self._count: int | None = None
        self._reactions: deque[PersonReaction | ReactionCounts] = deque()
        self._seq = 0
        self._reload = True
        self._changed = asyncio.Event()
        self._published = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    @property
    def version(self) -> int:
        return self._version

    @property
    def ticketed(self) -> bool:
        return self._space is not None and self._space.ticket is not None

    @property
    def state(self) -> SpaceState | None:
        return self._space.state if self._space is not None else None

    @property
    def body(self) -> bytes:
        """The current document, rendered once per version."""
        return self._body

    async def open(self) -> None:
        """Read the space and publish the first document (NotFound for no such space)."""
        await self._publish()
        self._task = asyncio.create_task(self._run(), name=f"salon-audience-{self.space_id}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.closed.set()

    def apply(self, event: Event) -> None:
        """Take one of the space's events into the next document (never blocks)."""
        if isinstance(event, Speaking):
            self._speaking = list(event.user_ids)
        elif isinstance(event, AudienceCount):
            self._count = event.count
        elif isinstance(event, ReactionSent):
            self._seq += 1
            self._reactions.append(
                PersonReaction(seq=self._seq, at=event.at, user_id=event.user_id, emoji=event.emoji)
            )
        elif isinstance(event, ParticipantLeft) and event.reason in ("removed", "banned"):
            self._removals.append((event.at, event.user_id))
            self._reload = True
        elif isinstance(event, ReactionBurst):
            self._seq += 1
            self._reactions.append(
                ReactionCounts(
                    seq=self._seq,
                    at=event.at,
                    window_seconds=event.window_seconds,
                    counts=event.counts,
                )
            )
        else:
            # Stage, hands, invitations, the space's own state: read again from the database.
            self._reload = True
        self._changed.set()

    async def wait_for(self, version: int, timeout: float) -> None:  # noqa: ASYNC109
        """Return once ``version`` is published (or at once if it is, or is not the next one).

        Only the next version is waited for: a follower asking further ahead (one that
        followed an earlier run of the origin) is answered at once and catches up from there.
        """
        if version != self._version + 1:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._version < version:
                    await self._published.wait()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        over_since: float | None = None
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HEARTBEAT_SECONDS):
                    await self._changed.wait()
            try:
                await self._publish()
            except Exception:
                log.exception("audience view of %s failed; will try again", self.space_id)
            space = self._space
            if space is not None and space.state != SpaceState.LIVE:
                over_since = over_since or loop.time()
                if loop.time() - over_since >= LINGER_SECONDS:
                    self.closed.set()
                    return
            await asyncio.sleep(MIN_INTERVAL_SECONDS)

    async def _publish(self) -> None:
        self._changed.clear()
        ctx = self._ctx
        if self._reload or self._space is None:
            opening = self._space is None
            self._reload = False
            async with ctx.transaction() as tx:
                space = await get_space(tx.session, self.space_id)
                self._space = await space_view(
                    tx.session,
                    space,
                    viewer_id=None,
                    players=ctx.audience.players(space.id),
                )
                people = await tx.session.execute(
                    select(
                        Participant.user_id, Participant.invited_at, Participant.hand_raised_at
                    ).where(
                        Participant.space_id == space.id,
                        Participant.present.is_(True),
                        Participant.role == Role.LISTENER,
                        (Participant.invited_at.is_not(None))
                        | (Participant.hand_raised_at.is_not(None)),
                    )
                )
                rows = people.all()
                self._invited = sorted(user for user, invited, _ in rows if invited is not None)
                self._hands = sum(1 for _, _, hand in rows if hand is not None)
                if opening:
                    # Removals from before this view opened (a restarted origin): the rows
                    # remember them. Bans from then are not known here; the follower's next
                    # request to the origin tells them.
                    removals = await tx.session.execute(
                        select(Participant.removed_at, Participant.user_id)
                        .where(
                            Participant.space_id == space.id,
                            Participant.removed_at
                            >= ctx.clock.now() - timedelta(seconds=REMOVALS_KEPT_SECONDS),
                        )
                        .order_by(Participant.removed_at)
                    )
                    for at, user in removals.all():
                        if at is not None:
                            self._removals.append((at, user))
            if self._count is None:
                self._count = self._space.audience_count
        now = ctx.clock.now()
        while self._reactions and (now - self._reactions[0].at).total_seconds() > (
            REACTIONS_KEPT_SECONDS
        ):
            self._reactions.popleft()
        while self._removals and (now - self._removals[0][0]).total_seconds() > (
            REMOVALS_KEPT_SECONDS
        ):
            self._removals.popleft()
        assert self._space is not None
        count = self._count if self._count is not None else self._space.audience_count
        self._version = max(self._version + 1, int(now.timestamp() * 10))
        self._body = (
            AudienceView(
                space_id=self.space_id,
                version=self._version,
                at=now,
                space=self._space.model_copy(update={"audience_count": count}),
                invited=self._invited,
                removed=sorted({user for _, user in self._removals}),
                hands=self._hands,
                speaking=self._speaking,
                audience_count=count,
                reactions=list(self._reactions),
            )
            .model_dump_json()
            .encode()
        )
        self._published.set()
        self._published = asyncio.Event()


class AudienceFeeds:
    """This node's audience views, one per space someone follows, fed by one bus listener."""

    def __init__(self, ctx: Context, speaking: Callable[[str], list[int]]) -> None:
        self._ctx = ctx
        self._speaking = speaking
        self._feeds: dict[str, AudienceFeed] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        ctx.bus.add_listener(self._on_event)

    async def feed(self, space_id: str) -> AudienceFeed:
        """The space's feed, opened on first use (NotFound when there is no such space)."""
        feed = self._feeds.get(space_id)
        if feed is not None and not feed.closed.is_set():
            return feed
        lock = self._opening.setdefault(space_id, asyncio.Lock())
        async with lock:
            feed = self._feeds.get(space_id)
            if feed is None or feed.closed.is_set():
                feed = AudienceFeed(self._ctx, space_id, self._speaking(space_id))
                await feed.open()
                self._feeds[space_id] = feed
        return feed

    def _on_event(self, event: Event) -> None:
        feed = self._feeds.get(event.space_id)
        if feed is not None:
            feed.apply(event)

    async def close(self) -> None:
        for feed in list(self._feeds.values()):
            await feed.close()
        self._feeds.clear()
