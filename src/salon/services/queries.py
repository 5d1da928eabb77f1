"""Reads shared by the services: loading rows with locks and building views."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.domain.audience import audience_size
from salon.domain.errors import NotFound
from salon.domain.stage import STAGE_ROLES, Role
from salon.domain.tickets import CURRENCY, PurchaseState
from salon.store.models import Participant, Purchase, Reminder, Space, Ticket, User
from salon.views import ParticipantView, SpaceView, TicketInfo, UserSummary

_STAGE_ORDER = {Role.HOST: 0, Role.COHOST: 1, Role.SPEAKER: 2, Role.LISTENER: 3}


async def get_space(session: AsyncSession, space_id: str, *, lock: bool = False) -> Space:
    """Load a space; with ``lock``, hold its row (FOR UPDATE) until the transaction ends.

    Every change to a space's stage takes this lock first, so changes to one stage are
    serialized and seat counts read inside it are exact.
    """
    query = select(Space).where(Space.id == space_id)
    if lock:
        query = query.with_for_update(of=Space)
    space = (await session.execute(query)).scalar_one_or_none()
    if space is None:
        raise NotFound(f"no space with id {space_id!r}")
    return space


async def get_user_by_handle(session: AsyncSession, handle: str) -> User:
    user = (
        await session.execute(select(User).where(User.handle_key == handle.lower()))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no account with handle {handle!r}")
    return user


async def find_participant(
    session: AsyncSession, space_id: str, user_id: int
) -> Participant | None:
    return await session.get(Participant, (space_id, user_id))


async def seated(session: AsyncSession, space_id: str) -> Mapping[Role, int]:
    """How many people hold each stage role right now."""
    rows = await session.execute(
        select(Participant.role, func.count())
        .where(Participant.space_id == space_id, Participant.role.in_(list(STAGE_ROLES)))
        .group_by(Participant.role)
    )
    return Counter({role: count for role, count in rows.all()})


async def joined_listeners(session: AsyncSession, space_id: str) -> int:
    """Signed-in people present in the space and not on its stage."""
    count = await session.scalar(
        select(func.count())
        .select_from(Participant)
        .where(
            Participant.space_id == space_id,
            Participant.present.is_(True),
            Participant.role == Role.LISTENER,
        )
    )
    return int(count or 0)


async def seats_taken(session: AsyncSession, space_id: str, *, besides: str | None = None) -> int:
    """Tickets issued plus seats held by purchases in progress (``besides`` one purchase).

    Read under the space's lock for a count that cannot change before the transaction ends.
    """
    tickets = await session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.space_id == space_id)
    )
    holds = (
        select(func.count())
        .select_from(Purchase)
        .where(Purchase.space_id == space_id, Purchase.state == PurchaseState.HELD)
    )
    if besides is not None:
        holds = holds.where(Purchase.id != besides)
    return int(tickets or 0) + int(await session.scalar(holds) or 0)


async def has_ticket(session: AsyncSession, space_id: str, user_id: int) -> bool:
    found = await session.scalar(
        select(Ticket.id).where(Ticket.space_id == space_id, Ticket.buyer_id == user_id)
    )
    return found is not None


def is_guest(space: Space, user_id: int, participant: Participant | None) -> bool:
    """Enters a ticketed space without a ticket: the host, stage members, invited speakers."""
    if space.host_id == user_id:
        return True
    if participant is None:
        return False
    return (
        participant.role in STAGE_ROLES or participant.guest or participant.invited_at is not None
    )


async def ticket_info(
    session: AsyncSession, space: Space, *, viewer_id: int | None, me: Participant | None
) -> TicketInfo | None:
    if space.ticket_price_cents is None or space.ticket_cap is None:
        return None
    have = viewer_id is not None and await has_ticket(session, space.id, viewer_id)
    return TicketInfo(
        price_cents=space.ticket_price_cents,
        currency=CURRENCY,
        cap=space.ticket_cap,
        tickets_left=max(0, space.ticket_cap - await seats_taken(session, space.id)),
        have_ticket=have,
        admitted=viewer_id is not None and (have or is_guest(space, viewer_id, me)),
    )


def user_summary(user: User) -> UserSummary:
    return UserSummary.model_validate(user)


def participant_view(participant: Participant) -> ParticipantView:
    return ParticipantView(
        user=user_summary(participant.user),
        role=participant.role,
        present=participant.present,
        muted=participant.muted,
        hand_raised=participant.hand_raised_at is not None,
        invited=participant.invited_at is not None,
        invited_by=(
            user_summary(participant.inviter)
            if participant.invited_at is not None and participant.inviter is not None
            else None
        ),
    )


async def participants(
    session: AsyncSession, space_id: str, *, present_only: bool = True
) -> list[ParticipantView]:
    """Participants, stage first (host, co-hosts, speakers), then raised hands, then by handle."""
    query = select(Participant).where(Participant.space_id == space_id)
    if present_only:
        query = query.where(Participant.present.is_(True))
    rows = list((await session.execute(query)).scalars())
    rows.sort(
        key=lambda p: (
            _STAGE_ORDER[p.role],
            p.hand_raised_at is None,
            p.user.handle_key,
        )
    )
    return [participant_view(p) for p in rows]


async def space_view(
    session: AsyncSession, space: Space, *, viewer_id: int | None, players: int
) -> SpaceView:
    """The space as ``viewer_id`` sees it; ``players`` is the audience counted by the audio
    fetched (``services/audience.py``), so the count includes people who never joined."""
    stage_rows = (
        await session.execute(
            select(Participant).where(
                Participant.space_id == space.id, Participant.role.in_(list(STAGE_ROLES))
            )
        )
    ).scalars()
    stage = sorted(stage_rows, key=lambda p: (_STAGE_ORDER[p.role], p.user.handle_key))
    me = None
    mine = None
    reminder_set = False
    if viewer_id is not None:
        mine = await find_participant(session, space.id, viewer_id)
        me = participant_view(mine) if mine is not None else None
        reminder_set = await session.get(Reminder, (space.id, viewer_id)) is not None
    return SpaceView(
        id=space.id,
        title=space.title,
        topics=list(space.topics),
        state=space.state,
        host=user_summary(space.host),
        recording=space.recording,
        created_at=space.created_at,
        scheduled_for=space.scheduled_for,
        started_at=space.started_at,
        ended_at=space.ended_at,
        audience_count=audience_size(
            joined_listeners=await joined_listeners(session, space.id), players=players
        ),
        stage=[participant_view(p) for p in stage],
        reminder_set=reminder_set,
        me=me,
        ticket=await ticket_info(session, space, viewer_id=viewer_id, me=mine),
    )
