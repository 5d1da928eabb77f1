"""The stage: requests to speak, invitations, approvals, mutes, co-hosts and removals.

Every function here takes the space's lock first (SELECT ... FOR UPDATE on PostgreSQL, the
write lock on SQLite), so seat counts are exact and the caps hold under any concurrency.
"""

from __future__ import annotations

from salon.domain import lifecycle
from salon.domain.errors import Conflict, Forbidden, NotFound
from salon.domain.notifications import Kind
from salon.domain.stage import STAGE_ROLES, Role, StageAction, check_may_act_on, check_seat_free
from salon.domain.stage import role_after_cohost_dismissed as _after_dismissal
from salon.events.types import (
    HandLowered,
    HandRaised,
    InvitationAnswered,
    Invited,
    Muted,
    RoleChanged,
    Unmuted,
)
from salon.services import notifications
from salon.services.context import Context, Tx
from salon.services.presence import announce_audience, let_go
from salon.services.queries import find_participant, get_space, participant_view, seated
from salon.store.models import Participant, Space, User
from salon.views import ParticipantView


async def _enter(tx: Tx, space_id: str, actor: User) -> tuple[Space, Participant]:
    """Lock a live space and find the actor in it (present, not removed)."""
    space = await get_space(tx.session, space_id, lock=True)
    lifecycle.check_live(space.state)
    me = await find_participant(tx.session, space.id, actor.id)
    if me is None or not me.present:
        raise Forbidden("join the space first")
    return space, me


async def _target(tx: Tx, space: Space, user_id: int) -> Participant:
    target = await find_participant(tx.session, space.id, user_id)
    if target is None or not target.present:
        raise NotFound(f"user {user_id} is not in this space")
    return target


async def _change_role(tx: Tx, ctx: Context, target: Participant, role: Role) -> None:
    previous = target.role
    target.role = role
    target.hand_raised_at = None
    target.invited_at = None
    target.inviter = None
    if role == Role.LISTENER:
        target.muted = False
    elif previous == Role.LISTENER:
        # New speakers come on stage muted: nobody is put on air without choosing to be.
        target.muted = True
    tx.emit(
        RoleChanged(
            space_id=target.space_id,
            at=ctx.clock.now(),
            user_id=target.user_id,
            role=role,
            previous=previous,
        )
    )
    if (role == Role.LISTENER) != (previous == Role.LISTENER):
        # Someone moved between the stage and the audience: the audience changed.
        await tx.session.flush()
        await announce_audience(ctx, tx, target.space_id, ctx.clock.now())


async def raise_hand(ctx: Context, *, actor: User, space_id: str) -> ParticipantView:
    """A listener asks to speak. Asking again changes nothing."""
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        if me.role != Role.LISTENER:
            raise Conflict("you are already on the stage")
        if me.hand_raised_at is None:
            me.hand_raised_at = ctx.clock.now()
            tx.emit(HandRaised(space_id=space.id, at=me.hand_raised_at, user_id=actor.id))
        return participant_view(me)


async def lower_hand(ctx: Context, *, actor: User, space_id: str) -> ParticipantView:
    """A listener withdraws their request. Withdrawing when none is pending changes nothing."""
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        if me.hand_raised_at is not None:
            me.hand_raised_at = None
            tx.emit(
                HandLowered(
                    space_id=space.id, at=ctx.clock.now(), user_id=actor.id, reason="withdrawn"
                )
            )
        return participant_view(me)


async def approve(ctx: Context, *, actor: User, space_id: str, user_id: int) -> ParticipantView:
    """A host or co-host brings a listener who asked to speak onto the stage."""
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        target = await _target(tx, space, user_id)
        check_may_act_on(me.role, StageAction.APPROVE, target.role)
        if target.hand_raised_at is None:
            raise Conflict(f"@{target.user.handle} has not asked to speak")
        check_seat_free(Role.SPEAKER, await seated(tx.session, space.id))
        tx.emit(
            HandLowered(space_id=space.id, at=ctx.clock.now(), user_id=user_id, reason="approved")
        )
        await _change_role(tx, ctx, target, Role.SPEAKER)
        return participant_view(target)


async def deny(ctx: Context, *, actor: User, space_id: str, user_id: int) -> ParticipantView:
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        target = await _target(tx, space, user_id)
        check_may_act_on(me.role, StageAction.DENY, target.role)
        if target.hand_raised_at is None:
            raise Conflict(f"@{target.user.handle} has not asked to speak")
        target.hand_raised_at = None
        tx.emit(
            HandLowered(space_id=space.id, at=ctx.clock.now(), user_id=user_id, reason="denied")
        )
        return participant_view(target)


async def _invitee(tx: Tx, space: Space, user_id: int) -> Participant:
    """Someone a ticketed space's host may invite: present, or an account not yet there."""
    target = await find_participant(tx.session, space.id, user_id)
    if target is None:
        if await tx.session.get(User, user_id) is None:
            raise NotFound(f"no account with id {user_id}")
        target = Participant(
            space_id=space.id, user_id=user_id, role=Role.LISTENER, present=False, muted=False
        )
        tx.session.add(target)
        await tx.session.flush()
        await tx.session.refresh(target)
    elif target.removed_at is not None:
        raise Forbidden("that person was removed from this space")
    return target


async def invite(ctx: Context, *, actor: User, space_id: str, user_id: int) -> ParticipantView:
    """A host or co-host invites a listener to speak; the listener accepts or declines.

    In a ticketed space the invitee need not be there yet: the invitation lets them in
    without a ticket, to join and then accept.
    """
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        if space.ticketed:
            target = await _invitee(tx, space, user_id)
        else:
            target = await _target(tx, space, user_id)
        check_may_act_on(me.role, StageAction.INVITE, target.role)
        check_seat_free(Role.SPEAKER, await seated(tx.session, space.id))
        target.guest = True
        if target.invited_at is None:
            target.invited_at = ctx.clock.now()
            target.inviter = me.user
            tx.emit(Invited(space_id=space.id, at=target.invited_at, user_id=user_id, by=actor.id))
            await notifications.tell(
                tx,
                [user_id],
                kind=Kind.INVITED_TO_SPEAK,
                key=f"{Kind.INVITED_TO_SPEAK}:{space.id}:{target.invited_at.isoformat()}",
                now=target.invited_at,
                space_id=space.id,
                actor_id=actor.id,
            )
        return participant_view(target)


async def answer_invitation(
    ctx: Context, *, actor: User, space_id: str, accept: bool
) -> ParticipantView:
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        if me.invited_at is None:
            raise Conflict("you have no pending invitation to speak")
        if accept:
            check_seat_free(Role.SPEAKER, await seated(tx.session, space.id))
        tx.emit(
            InvitationAnswered(
                space_id=space.id, at=ctx.clock.now(), user_id=actor.id, accepted=accept
            )
        )
        if accept:
            await _change_role(tx, ctx, me, Role.SPEAKER)
        else:
            me.invited_at = None
            me.inviter = None
        return participant_view(me)


async def mute(ctx: Context, *, actor: User, space_id: str, user_id: int) -> ParticipantView:
    """Mute a stage member: oneself, or (as host/co-host) a speaker below you."""
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        target = me if user_id == actor.id else await _target(tx, space, user_id)
        if target is me:
            if me.role not in STAGE_ROLES:
                raise Conflict("only people on the stage have a microphone to mute")
        else:
            check_may_act_on(me.role, StageAction.MUTE, target.role)
        if not target.muted:
            target.muted = True
            tx.emit(Muted(space_id=space.id, at=ctx.clock.now(), user_id=user_id, by=actor.id))
        return participant_view(target)


async def unmute(ctx: Context, *, actor: User, space_id: str, user_id: int) -> ParticipantView:
    """Only a speaker can unmute themself; nobody can open someone else's microphone."""
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        if user_id != actor.id:
            raise Forbidden("only a speaker can unmute themself")
        if me.role not in STAGE_ROLES:
            raise Conflict("only people on the stage have a microphone to unmute")
        if me.muted:
            me.muted = False
            tx.emit(Unmuted(space_id=space.id, at=ctx.clock.now(), user_id=actor.id))
        return participant_view(me)


async def move_to_audience(
    ctx: Context, *, actor: User, space_id: str, user_id: int
) -> ParticipantView:
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        target = await _target(tx, space, user_id)
        check_may_act_on(me.role, StageAction.MOVE_TO_AUDIENCE, target.role)
        await _change_role(tx, ctx, target, Role.LISTENER)
        return participant_view(target)


async def leave_stage(ctx: Context, *, actor: User, space_id: str) -> ParticipantView:
    """A speaker or co-host steps down to the audience."""
    async with ctx.transaction() as tx:
        _, me = await _enter(tx, space_id, actor)
        if me.role == Role.HOST:
            raise Conflict("the host stays on the stage; end the space instead")
        if me.role == Role.LISTENER:
            raise Conflict("you are not on the stage")
        await _change_role(tx, ctx, me, Role.LISTENER)
        return participant_view(me)


async def remove(ctx: Context, *, actor: User, space_id: str, user_id: int) -> None:
    """Eject someone and bar them from coming back to this space."""
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        target = await _target(tx, space, user_id)
        check_may_act_on(me.role, StageAction.REMOVE, target.role)
        now = ctx.clock.now()
        target.removed_at = now
        await let_go(ctx, tx, target, reason="removed", now=now)


async def appoint_cohost(
    ctx: Context, *, actor: User, space_id: str, user_id: int
) -> ParticipantView:
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        target = await _target(tx, space, user_id)
        check_may_act_on(me.role, StageAction.APPOINT_COHOST, target.role)
        check_seat_free(Role.COHOST, await seated(tx.session, space.id))
        target.guest = True  # keeps a ticketed space open to them after the appointment
        await _change_role(tx, ctx, target, Role.COHOST)
        return participant_view(target)


async def dismiss_cohost(
    ctx: Context, *, actor: User, space_id: str, user_id: int
) -> ParticipantView:
    """A dismissed co-host keeps a speaker seat if one is free, else returns to the audience."""
    async with ctx.transaction() as tx:
        space, me = await _enter(tx, space_id, actor)
        target = await _target(tx, space, user_id)
        check_may_act_on(me.role, StageAction.DISMISS_COHOST, target.role)
        await _change_role(tx, ctx, target, _after_dismissal(await seated(tx.session, space.id)))
        return participant_view(target)
