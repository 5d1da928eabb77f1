"""Ticketed spaces: who may sell, buying a ticket, who may enter, the host's statement."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.domain import tickets as rules
from salon.domain.errors import Conflict, Forbidden, NotFound, Unavailable
from salon.domain.stage import STAGE_ROLES
from salon.domain.tickets import LedgerKind, PurchaseState
from salon.metrics import PURCHASES
from salon.payments.provider import CheckoutRequest, Outcome, PaymentEvent, ProviderError
from salon.services import payments
from salon.services.context import Context
from salon.services.queries import find_participant, get_space, has_ticket, seats_taken
from salon.store.models import Follow, LedgerEntry, Purchase, Space, Ticket, User
from salon.views import (
    Eligibility,
    MyTicket,
    PurchaseView,
    SpaceStatement,
    StatementLine,
    TicketStatement,
)

# -- selling -----------------------------------------------------------------------------------


async def _seller_counts(session: AsyncSession, user_id: int, now: datetime) -> tuple[int, int]:
    """Followers, and spaces that went live in the last 30 days."""
    followers = await session.scalar(
        select(func.count()).select_from(Follow).where(Follow.followee_id == user_id)
    )
    hosted = await session.scalar(
        select(func.count())
        .select_from(Space)
        .where(
            Space.host_id == user_id,
            Space.started_at.is_not(None),
            Space.started_at >= now - timedelta(days=rules.SELLER_WINDOW_DAYS),
        )
    )
    return int(followers or 0), int(hosted or 0)


async def check_seller(session: AsyncSession, host: User, now: datetime) -> None:
    """Raise Forbidden, naming every unmet condition, unless ``host`` may sell tickets."""
    followers, hosted = await _seller_counts(session, host.id, now)
    rules.check_can_sell(
        granted=host.can_sell_tickets,
        followers=followers,
        adult_attested=host.adult_attested_at is not None,
        hosted_recently=hosted,
    )


async def eligibility(ctx: Context, *, user: User) -> Eligibility:
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        row = await tx.session.get(User, user.id)
        assert row is not None
        followers, hosted = await _seller_counts(tx.session, row.id, now)
    facts = rules.seller_eligibility(
        granted=row.can_sell_tickets,
        followers=followers,
        adult_attested=row.adult_attested_at is not None,
        hosted_recently=hosted,
    )
    return Eligibility(
        eligible=facts.eligible,
        granted=facts.granted,
        reasons=list(facts.reasons),
        followers=followers,
        followers_needed=rules.SELLER_MIN_FOLLOWERS,
        adult_attested=row.adult_attested_at is not None,
        hosted_recently=hosted,
        hosted_needed=rules.SELLER_MIN_HOSTED,
        window_days=rules.SELLER_WINDOW_DAYS,
    )


# -- who may enter -----------------------------------------------------------------------------


async def check_admitted(session: AsyncSession, space: Space, user: User | None) -> None:
    """Only ticket holders, the host, co-hosts and invited speakers enter a ticketed space."""
    if not space.ticketed:
        return
    if user is None:
        raise Forbidden("this is a ticketed space: sign in with a ticket to join or listen")
    me = await find_participant(session, space.id, user.id)
    rules.check_admitted(
        is_host=space.host_id == user.id,
        on_stage=me is not None and me.role in STAGE_ROLES,
        # Invited to speak or made co-host at some point: the host let them in.
        guest=me is not None and (me.guest or me.invited_at is not None),
        has_ticket=await has_ticket(session, space.id, user.id),
        ticketed=True,
    )


async def check_can_follow(ctx: Context, *, space_id: str, viewer: User | None) -> None:
    """May ``viewer`` open the space's event stream? Not if removed, nor without a ticket."""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
        if viewer is not None:
            me = await find_participant(tx.session, space.id, viewer.id)
            if me is not None and me.removed_at is not None:
                raise Forbidden("you were removed from this space")
        await check_admitted(tx.session, space, viewer)


# -- buying ------------------------------------------------------------------------------------


def purchase_view(purchase: Purchase) -> PurchaseView:
    return PurchaseView(
        id=purchase.id,
        space_id=purchase.space_id,
        state=purchase.state,
        amount_cents=purchase.amount_cents,
        currency=purchase.currency,
        checkout_url=purchase.checkout_url,
        hold_expires_at=purchase.hold_expires_at,
        created_at=purchase.created_at,
        ticket=purchase.state == PurchaseState.PAID,
    )


async def buy(
    ctx: Context, *, actor: User, space_id: str, base_url: str
) -> tuple[PurchaseView, bool]:
    """Hold a seat and open a checkout; returns the purchase and whether it is new.

    A buyer with a purchase still in progress gets that one back (one live hold per buyer).
    The seat is held in one transaction, the provider is called outside it, and its checkout
    is stored in a second one.
    """
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        if not space.ticketed or space.ticket_price_cents is None or space.ticket_cap is None:
            raise Conflict("this space is free: join it, no ticket needed")
        await payments.expire_lapsed(tx, space, now)
        await tx.session.flush()
        pending = (
            await tx.session.execute(
                select(Purchase).where(
                    Purchase.space_id == space.id,
                    Purchase.buyer_id == actor.id,
                    Purchase.state == PurchaseState.HELD,
                )
            )
        ).scalar_one_or_none()
        if pending is not None and space.state in payments.OPEN_STATES:
            if pending.checkout_url is None:
                raise Conflict("your purchase is being prepared; try again in a moment")
            return purchase_view(pending), False
        rules.check_can_buy(
            is_host=space.host_id == actor.id,
            space_open=space.state in payments.OPEN_STATES,
            has_ticket=await has_ticket(tx.session, space.id, actor.id),
            seats_taken=await seats_taken(tx.session, space.id),
            cap=space.ticket_cap,
        )
        purchase = Purchase(
            id=secrets.token_urlsafe(12),
            space_id=space.id,
            buyer_id=actor.id,
            state=PurchaseState.HELD,
            amount_cents=space.ticket_price_cents,
            currency=rules.CURRENCY,
            provider=ctx.payments.name,
            created_at=now,
            hold_expires_at=now + timedelta(seconds=ctx.settings.ticket_hold_seconds),
            refund_attempts=0,
        )
        tx.session.add(purchase)
        await tx.session.flush()
        payments.record(tx, purchase, LedgerKind.HOLD, now=now, amount_cents=purchase.amount_cents)
        PURCHASES.labels(state=PurchaseState.HELD.value).inc()
        await payments.announce(tx, space, now)
        request = CheckoutRequest(
            purchase_id=purchase.id,
            space_id=space.id,
            title=space.title,
            amount_cents=purchase.amount_cents,
            currency=purchase.currency,
            expires_at=purchase.hold_expires_at,
            return_url=f"{(ctx.settings.public_url or base_url).rstrip('/')}"
            f"/spaces/{space.id}?purchase={purchase.id}",
        )
    try:
        checkout = await ctx.payments.create_checkout(request)
    except ProviderError as exc:
        await _abandon(ctx, purchase.id, str(exc))
        raise Unavailable("the payment provider could not be reached; try again") from exc
    async with ctx.transaction() as tx:
        _, row = await payments.locked_purchase(tx, purchase.id)
        row.provider_ref = row.provider_ref or checkout.provider_ref
        if row.state == PurchaseState.HELD:
            row.checkout_url = checkout.url
        return purchase_view(row), True


async def _abandon(ctx: Context, purchase_id: str, reason: str) -> None:
    """The provider could not open a checkout: free the seat at once."""
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space, purchase = await payments.locked_purchase(tx, purchase_id)
        if purchase.state == PurchaseState.HELD:
            await payments.release_hold(
                tx, purchase, PurchaseState.DECLINED, now, f"no checkout: {reason}"
            )
            await payments.announce(tx, space, now)


async def get_purchase(ctx: Context, *, actor: User, purchase_id: str) -> PurchaseView:
    async with ctx.transaction() as tx:
        purchase = await tx.session.get(Purchase, purchase_id)
        if purchase is None or purchase.buyer_id != actor.id:
            # Someone else's purchase is none of your business, not even its existence.
            raise NotFound(f"no purchase with id {purchase_id!r}")
        return purchase_view(purchase)


async def my_tickets(ctx: Context, *, user: User) -> list[MyTicket]:
    async with ctx.transaction() as tx:
        rows = await tx.session.execute(
            select(Ticket, Purchase, Space)
            .join(Purchase, Purchase.id == Ticket.purchase_id)
            .join(Space, Space.id == Ticket.space_id)
            .where(Ticket.buyer_id == user.id)
            .order_by(Ticket.issued_at.desc(), Ticket.id.desc())
        )
        return [
            MyTicket(
                purchase_id=purchase.id,
                space_id=space.id,
                title=space.title,
                space_state=space.state,
                scheduled_for=space.scheduled_for,
                amount_cents=purchase.amount_cents,
                currency=purchase.currency,
                issued_at=ticket.issued_at,
            )
            for ticket, purchase, space in rows.all()
        ]


# -- the test provider's checkout page --------------------------------------------------------


async def testmode_checkout(
    ctx: Context, *, actor: User, purchase_id: str
) -> tuple[PurchaseView, str]:
    """The buyer's own test-mode purchase and its space's title."""
    async with ctx.transaction() as tx:
        purchase = await tx.session.get(Purchase, purchase_id)
        if purchase is None or purchase.provider != "test" or ctx.payments.name != "test":
            raise NotFound(f"no test-mode purchase with id {purchase_id!r}")
        if purchase.buyer_id != actor.id:
            raise Forbidden("only the buyer can pay for this purchase")
        space = await get_space(tx.session, purchase.space_id)
        return purchase_view(purchase), space.title


async def finish_testmode_checkout(
    ctx: Context, *, actor: User, purchase_id: str, paid: bool
) -> PurchaseView:
    """The buyer pressed Pay or Decline: the same path a provider's webhook takes."""
    await testmode_checkout(ctx, actor=actor, purchase_id=purchase_id)
    outcome = Outcome.PAID if paid else Outcome.DECLINED
    await payments.apply_event(
        ctx,
        PaymentEvent(
            event_id=f"test:{purchase_id}:{outcome}",
            type=f"test.checkout.{outcome}",
            outcome=outcome,
            purchase_id=purchase_id,
            payment_ref=f"test_payment_{purchase_id}" if paid else None,
        ),
    )
    return (await testmode_checkout(ctx, actor=actor, purchase_id=purchase_id))[0]


# -- the host's statement ----------------------------------------------------------------------

_STATEMENT_KINDS = (
    LedgerKind.TICKET,
    LedgerKind.FEE,
    LedgerKind.TICKET_VOIDED,
    LedgerKind.FEE_REVERSAL,
)


def _line(sums: dict[LedgerKind, tuple[int, int]]) -> StatementLine:
    sold, gross = sums.get(LedgerKind.TICKET, (0, 0))
    refunds, refunded = sums.get(LedgerKind.TICKET_VOIDED, (0, 0))
    fees = sums.get(LedgerKind.FEE, (0, 0))[1] - sums.get(LedgerKind.FEE_REVERSAL, (0, 0))[1]
    return StatementLine(
        tickets_sold=sold,
        gross_cents=gross,
        refunds=refunds,
        refunded_cents=refunded,
        fees_cents=fees,
        net_cents=gross - refunded - fees,
    )


async def statement(ctx: Context, *, user: User) -> TicketStatement:
    """Per ticketed space and in total: tickets sold, gross, refunds, fees, net."""
    async with ctx.transaction() as tx:
        spaces = list(
            (
                await tx.session.execute(
                    select(Space)
                    .where(Space.host_id == user.id, Space.ticket_price_cents.is_not(None))
                    .order_by(Space.created_at.desc(), Space.id)
                )
            ).scalars()
        )
        rows = await tx.session.execute(
            select(
                Purchase.space_id,
                LedgerEntry.kind,
                func.count(),
                func.coalesce(func.sum(LedgerEntry.amount_cents), 0),
            )
            .join(Purchase, Purchase.id == LedgerEntry.purchase_id)
            .join(Space, Space.id == Purchase.space_id)
            .where(Space.host_id == user.id, LedgerEntry.kind.in_(list(_STATEMENT_KINDS)))
            .group_by(Purchase.space_id, LedgerEntry.kind)
        )
        per_space: dict[str, dict[LedgerKind, tuple[int, int]]] = defaultdict(dict)
        total: dict[LedgerKind, tuple[int, int]] = {}
        for space_id, kind, count, amount in rows.all():
            per_space[space_id][kind] = (int(count), int(amount))
            before = total.get(kind, (0, 0))
            total[kind] = (before[0] + int(count), before[1] + int(amount))
        earnings = await payments.host_earnings(tx.session, user.id)
    return TicketStatement(
        currency=rules.CURRENCY,
        earnings_cents=earnings,
        fee_rate_percent=rules.fee_rate_percent(earnings),
        total=_line(total),
        spaces=[
            SpaceStatement(
                space_id=space.id,
                title=space.title,
                state=space.state,
                price_cents=space.ticket_price_cents or 0,
                **_line(per_space.get(space.id, {})).model_dump(),
            )
            for space in spaces
        ],
    )
