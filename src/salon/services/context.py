"""What every service needs, and the transaction that publishes events only after commit."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salon.clock import Clock
from salon.config import Settings
from salon.domain.audio_credentials import AudioCredentials
from salon.domain.errors import Conflict
from salon.domain.reactions import ReactionTally
from salon.events.bus import EventBus
from salon.events.types import Event
from salon.payments.provider import PaymentProvider
from salon.services.audience import AudienceMeter
from salon.services.bell import Bell
from salon.services.rate_limits import RateLimits
from salon.store.models import Space


@dataclass
class Tx:
    """An open transaction and the events to publish once it commits."""

    session: AsyncSession
    events: list[Event] = field(default_factory=list)
    #: Events for one person (``addressed_to``), published after the commit without a
    #: sequence number: a number would be a gap in everyone else's stream.
    private_events: list[Event] = field(default_factory=list)
    #: People with something new on their bell, woken once this commits.
    rings: set[int] = field(default_factory=set)
    #: Fan-outs committed here, to start working on once this commits.
    fanouts: bool = False
    #: Pushes and e-mails queued here (the outbox), to send once this commits.
    deliveries: bool = False
    #: The instance's settings (which delivery channels are on).
    settings: Settings | None = None

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def tell(self, event: Event) -> None:
        """Publish an event for one person once this commits (see ``private_events``)."""
        self.private_events.append(event)


@dataclass
class Context:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    bus: EventBus
    clock: Clock
    hasher: PasswordHasher
    rate_limits: RateLimits
    audio_credentials: AudioCredentials
    payments: PaymentProvider
    #: Players counted from the audio they fetch, per live space (this node's view).
    audience: AudienceMeter
    #: Reactions of large audiences, counted until the next burst goes out.
    reaction_tally: ReactionTally = field(default_factory=ReactionTally)
    #: Long-polls waiting for their person's next notification (this node's).
    bell: Bell = field(default_factory=Bell)
    #: Called after a commit that added a fan-out (the app starts working on it at once).
    on_fanout: Callable[[], None] | None = None
    #: Called after a commit that queued pushes or e-mails.
    on_delivery: Callable[[], None] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Run a unit of work; on success commit, then publish what it emitted.

        A unique-constraint violation (two requests racing to create the same row) becomes a
        409 rather than a 500.
        """
        async with self.sessions() as session:
            tx = Tx(session, settings=self.settings)
            try:
                async with session.begin():
                    yield tx
                    if tx.events:
                        tx.events = await _number(session, tx.events)
            except IntegrityError as exc:
                raise Conflict("that conflicts with a change made at the same time") from exc
        for event in (*tx.events, *tx.private_events):
            await self.bus.publish(event)
        if tx.rings:
            self.bell.ring(tx.rings)
        if tx.fanouts and self.on_fanout is not None:
            self.on_fanout()
        if tx.deliveries and self.on_delivery is not None:
            self.on_delivery()

    async def hash_password(self, password: str) -> str:
        # Argon2 is deliberately slow: keep it off the event loop.
        return await asyncio.to_thread(self.hasher.hash, password)


async def _number(session: AsyncSession, events: list[Event]) -> list[Event]:
    """Give each event its space's next sequence number, in the transaction that commits it.

    The UPDATE takes the space's row lock until commit, so numbers follow commit order per
    space. Spaces in id order: two transactions touching the same two spaces cannot deadlock.
    """
    counts = Counter(event.space_id for event in events)
    last: dict[str, int] = {}
    for space_id in sorted(counts):
        result = await session.execute(
            update(Space)
            .where(Space.id == space_id)
            .values(event_seq=Space.event_seq + counts[space_id])
            .returning(Space.event_seq)
        )
        last[space_id] = result.scalar_one() - counts[space_id]
    numbered = []
    for event in events:
        last[event.space_id] += 1
        numbered.append(event.model_copy(update={"seq": last[event.space_id]}))
    return numbered


def make_hasher(settings: Settings) -> PasswordHasher:
    """Argon2id with the operator's cost settings."""
    return PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
    )
