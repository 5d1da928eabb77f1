"""Money moving: provider events applied to purchases, holds expiring, refunds made.

Every change to a purchase takes its space's lock first (the same lock as the stage), so the
ticket cap is counted exactly and one purchase is never changed by two events at once. Every
change writes ledger rows; a provider event's id is recorded once, so a repeated event acts
once. Calls to the provider happen outside transactions: refunds are queued as
``refund_pending`` purchases (an outbox) and made by ``sweep`` with an idempotency key.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.domain import tickets as rules
from salon.domain.errors import NotFound
from salon.domain.lifecycle import SpaceState
from salon.domain.tickets import LedgerKind, PurchaseState
from salon.events.types import TicketsLeft, TicketVoided
from salon.metrics import PAYMENT_EVENTS, PURCHASES, REFUNDS
from salon.payments.provider import Outcome, PaymentEvent, ProviderError
from salon.services import notifications
from salon.services.context import Context, Tx
from salon.services.queries import get_space, has_ticket, seats_taken
from salon.store.models import LedgerEntry, Purchase, Space, Ticket, User

log = logging.getLogger(__name__)

OPEN_STATES = frozenset({SpaceState.SCHEDULED, SpaceState.LIVE})
#: Longest wait between two attempts at a refund.
REFUND_RETRY_MAX = timedelta(hours=1)
_BATCH = 100


def record(
    tx: Tx,
    purchase: Purchase | None,
    kind: LedgerKind,
    *,
    now: datetime,
    amount_cents: int = 0,
    detail: str | None = None,
    event_id: str | None = None,
) -> None:
    tx.session.add(
        LedgerEntry(
            purchase_id=purchase.id if purchase is not None else None,
            kind=kind,
            amount_cents=amount_cents,
            provider_event_id=event_id,
            detail=detail[:200] if detail else None,
            created_at=now,
        )
    )


async def tickets_left(session: AsyncSession, space: Space) -> int:
    assert space.ticket_cap is not None
    return max(0, space.ticket_cap - await seats_taken(session, space.id))


async def announce(tx: Tx, space: Space, now: datetime) -> None:
    await tx.session.flush()
    tx.emit(
        TicketsLeft(space_id=space.id, at=now, tickets_left=await tickets_left(tx.session, space))
    )


def _move(purchase: Purchase, target: PurchaseState) -> None:
    purchase.state = rules.transition(purchase.state, target)
    PURCHASES.labels(state=target.value).inc()


async def locked_purchase(tx: Tx, purchase_id: str) -> tuple[Space, Purchase]:
    """Lock a purchase's space, then read the purchase as it stands under that lock."""
    purchase = await tx.session.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound(f"no purchase with id {purchase_id!r}")
    space = await get_space(tx.session, purchase.space_id, lock=True)
    await tx.session.refresh(purchase)
    return space, purchase


# -- what can happen to a purchase (the caller holds the space's lock) -------------------------


async def host_earnings(session: AsyncSession, host_id: int) -> int:
    """Lifetime ticket earnings: gross sales of the host's spaces, less tickets refunded."""
    rows = await session.execute(
        select(LedgerEntry.kind, func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
        .join(Purchase, Purchase.id == LedgerEntry.purchase_id)
        .join(Space, Space.id == Purchase.space_id)
        .where(
            Space.host_id == host_id,
            LedgerEntry.kind.in_([LedgerKind.TICKET, LedgerKind.TICKET_VOIDED]),
        )
        .group_by(LedgerEntry.kind)
    )
    sums = {kind: int(total) for kind, total in rows.all()}
    return sums.get(LedgerKind.TICKET, 0) - sums.get(LedgerKind.TICKET_VOIDED, 0)


async def _issue_ticket(tx: Tx, space: Space, purchase: Purchase, now: datetime) -> None:
    # The host's row lock serializes fee calculations across their spaces, so two sales that
    # straddle the $50,000 threshold are split exactly. (NO KEY UPDATE: rows that merely
    # reference the host, like a new follow, are not held up.)
    await tx.session.execute(
        select(User.id).where(User.id == space.host_id).with_for_update(key_share=True)
    )
    split = rules.platform_fee(
        earned_before_cents=await host_earnings(tx.session, space.host_id),
        amount_cents=purchase.amount_cents,
    )
    _move(purchase, PurchaseState.PAID)
    purchase.ticket_issued_at = now
    purchase.checkout_url = None
    tx.session.add(
        Ticket(
            space_id=space.id, buyer_id=purchase.buyer_id, purchase_id=purchase.id, issued_at=now
        )
    )
    record(tx, purchase, LedgerKind.TICKET, now=now, amount_cents=purchase.amount_cents)
    await notifications.ticket_sold(tx, space, purchase, now)
    record(
        tx,
        purchase,
        LedgerKind.FEE,
        now=now,
        amount_cents=split.fee_cents,
        detail=(
            f"{split.below_threshold_cents} cents at {rules.FEE_BELOW_BPS / 100:g} %, "
            f"{split.above_threshold_cents} cents at {rules.FEE_ABOVE_BPS / 100:g} %"
        ),
    )


async def _void_ticket(tx: Tx, purchase: Purchase, now: datetime, reason: str) -> None:
    """Reverse a sale: the ticket goes, and so does the fee charged on it (and its holder's
    WebRTC listening, hung up by the media engine on ``TicketVoided``)."""
    await tx.session.execute(delete(Ticket).where(Ticket.purchase_id == purchase.id))
    fee = await tx.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.purchase_id == purchase.id, LedgerEntry.kind == LedgerKind.FEE
        )
    )
    record(
        tx,
        purchase,
        LedgerKind.TICKET_VOIDED,
        now=now,
        amount_cents=purchase.amount_cents,
        detail=reason,
    )
    record(tx, purchase, LedgerKind.FEE_REVERSAL, now=now, amount_cents=int(fee or 0))
    tx.tell(TicketVoided(space_id=purchase.space_id, at=now, user_id=purchase.buyer_id))


async def request_refund(tx: Tx, purchase: Purchase, now: datetime, reason: str) -> None:
    """Queue the purchase's money to go back (made by the sweeper, after the commit)."""
    if purchase.state == PurchaseState.PAID:
        await _void_ticket(tx, purchase, now, reason)
    _move(purchase, PurchaseState.REFUND_PENDING)
    purchase.checkout_url = None
    purchase.refund_retry_at = now
    record(
        tx,
        purchase,
        LedgerKind.REFUND_REQUESTED,
        now=now,
        amount_cents=purchase.amount_cents,
        detail=reason,
    )


async def _refunded(tx: Tx, purchase: Purchase, now: datetime, detail: str) -> None:
    """The provider returned the money (our refund, or one made outside Salon)."""
    target = rules.after_refund(purchase.state)
    if target is None:
        return
    if purchase.state == PurchaseState.PAID:
        await _void_ticket(tx, purchase, now, "refunded outside Salon")
    _move(purchase, target)
    purchase.checkout_url = None
    purchase.refunded_at = now
    record(
        tx, purchase, LedgerKind.REFUND, now=now, amount_cents=purchase.amount_cents, detail=detail
    )
    await notifications.ticket_refunded(tx, purchase, now)
    REFUNDS.labels(result="succeeded").inc()


async def _paid(tx: Tx, space: Space, purchase: Purchase, now: datetime) -> None:
    if purchase.payment_received_at is None:
        purchase.payment_received_at = now
        record(tx, purchase, LedgerKind.PAYMENT, now=now, amount_cents=purchase.amount_cents)
    assert space.ticket_cap is not None
    target = rules.after_payment(
        purchase.state,
        space_open=space.state in OPEN_STATES,
        has_ticket=await has_ticket(tx.session, space.id, purchase.buyer_id),
        seat_free=await seats_taken(tx.session, space.id, besides=purchase.id) < space.ticket_cap,
    )
    if target == PurchaseState.PAID:
        await _issue_ticket(tx, space, purchase, now)
    elif target == PurchaseState.REFUND_PENDING:
        await request_refund(tx, purchase, now, _why_refunded(space, purchase))


def _why_refunded(space: Space, purchase: Purchase) -> str:
    if space.state not in OPEN_STATES:
        return f"paid after the space was {space.state}"
    return f"paid after the purchase was {purchase.state}, and no seat or a ticket already held"


async def release_hold(
    tx: Tx, purchase: Purchase, target: PurchaseState, now: datetime, reason: str
) -> None:
    _move(purchase, target)
    purchase.checkout_url = None
    kind = LedgerKind.DECLINED if target == PurchaseState.DECLINED else LedgerKind.EXPIRED
    record(tx, purchase, kind, now=now, detail=reason)


async def apply(tx: Tx, space: Space, purchase: Purchase, outcome: Outcome, now: datetime) -> None:
    """Act on what the provider reported, through the purchase state machine."""
    before = purchase.state
    if outcome == Outcome.PAID:
        await _paid(tx, space, purchase, now)
    elif outcome == Outcome.DECLINED:
        if (target := rules.after_decline(purchase.state)) is not None:
            await release_hold(tx, purchase, target, now, "the payment was declined")
    elif outcome == Outcome.EXPIRED:
        if (target := rules.after_expiry(purchase.state)) is not None:
            await release_hold(tx, purchase, target, now, "the checkout expired")
    else:
        await _refunded(tx, purchase, now, "reported by the payment provider")
    if purchase.state != before:
        await announce(tx, space, now)


async def apply_event(ctx: Context, event: PaymentEvent) -> bool:
    """Record a provider event once and act on it; False when it was already recorded."""
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        purchase = await _find(tx.session, event)
        space = None
        if purchase is not None:
            space, purchase = await locked_purchase(tx, purchase.id)
        seen = await tx.session.scalar(
            select(LedgerEntry.id).where(LedgerEntry.provider_event_id == event.event_id)
        )
        if seen is not None:
            PAYMENT_EVENTS.labels(result="duplicate").inc()
            return False
        record(
            tx,
            purchase,
            LedgerKind.PROVIDER_EVENT,
            now=now,
            detail=event.type,
            event_id=event.event_id,
        )
        if purchase is None or space is None or event.outcome is None:
            if event.outcome is not None:
                log.warning("payment event %s names no known purchase", event.event_id)
            PAYMENT_EVENTS.labels(result="ignored").inc()
            return True
        if event.payment_ref and purchase.payment_ref is None:
            purchase.payment_ref = event.payment_ref
        if event.provider_ref and purchase.provider_ref is None:
            purchase.provider_ref = event.provider_ref
        await apply(tx, space, purchase, event.outcome, now)
        PAYMENT_EVENTS.labels(result="applied").inc()
        return True


async def _find(session: AsyncSession, event: PaymentEvent) -> Purchase | None:
    if event.purchase_id is not None:
        found = await session.get(Purchase, event.purchase_id)
        if found is not None:
            return found
    for column, value in (
        (Purchase.provider_ref, event.provider_ref),
        (Purchase.payment_ref, event.payment_ref),
    ):
        if value is not None:
            found = (
                await session.execute(select(Purchase).where(column == value).limit(1))
            ).scalar_one_or_none()
            if found is not None:
                return found
    return None


# -- a space closing ---------------------------------------------------------------------------


async def close_sales(tx: Tx, space: Space, now: datetime, *, refund: bool) -> None:
    """A space is over (the caller holds its lock): holds are released; when it was
    cancelled (``refund``), every ticket is queued for a refund."""
    if not space.ticketed:
        return
    states = [PurchaseState.HELD, PurchaseState.PAID] if refund else [PurchaseState.HELD]
    rows = await tx.session.execute(
        select(Purchase).where(Purchase.space_id == space.id, Purchase.state.in_(states))
    )
    for purchase in rows.scalars():
        if purchase.state == PurchaseState.HELD:
            await release_hold(
                tx, purchase, PurchaseState.EXPIRED, now, f"the space was {space.state}"
            )
        else:
            await request_refund(tx, purchase, now, f"the space was {space.state}")


# -- the sweeper: lapsed holds, the refund outbox ----------------------------------------------


async def sweep(ctx: Context) -> None:
    """Expire lapsed holds and make queued refunds. Safe to run on several nodes at once."""
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        lapsed = list(
            (
                await tx.session.execute(
                    select(Purchase.id)
                    .where(Purchase.state == PurchaseState.HELD, Purchase.hold_expires_at <= now)
                    .limit(_BATCH)
                )
            ).scalars()
        )
        due = list(
            (
                await tx.session.execute(
                    select(Purchase.id)
                    .where(
                        Purchase.state == PurchaseState.REFUND_PENDING,
                        Purchase.refund_retry_at <= now,
                    )
                    .limit(_BATCH)
                )
            ).scalars()
        )
    for purchase_id in lapsed:
        await _expire_if_lapsed(ctx, purchase_id)
    for purchase_id in due:
        await refund_now(ctx, purchase_id)


async def expire_lapsed(tx: Tx, space: Space, now: datetime) -> None:
    """Expire the space's lapsed holds (the caller holds its lock)."""
    rows = await tx.session.execute(
        select(Purchase).where(
            Purchase.space_id == space.id,
            Purchase.state == PurchaseState.HELD,
            Purchase.hold_expires_at <= now,
        )
    )
    for purchase in rows.scalars():
        await release_hold(tx, purchase, PurchaseState.EXPIRED, now, "the hold lapsed")


async def _expire_if_lapsed(ctx: Context, purchase_id: str) -> None:
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space, purchase = await locked_purchase(tx, purchase_id)
        if purchase.state == PurchaseState.HELD and purchase.hold_expires_at <= now:
            await release_hold(tx, purchase, PurchaseState.EXPIRED, now, "the hold lapsed")
            await announce(tx, space, now)


async def refund_now(ctx: Context, purchase_id: str) -> None:
    """Make one queued refund. The provider call is outside any transaction; the idempotency
    key makes a repeat (another node, a retry after a timeout) return the same refund."""
    async with ctx.transaction() as tx:
        purchase = await tx.session.get(Purchase, purchase_id)
        if purchase is None or purchase.state != PurchaseState.REFUND_PENDING:
            return
        provider, payment_ref, amount = (
            purchase.provider,
            purchase.payment_ref,
            purchase.amount_cents,
        )
    try:
        if provider == ctx.payments.name:
            refund_ref = await ctx.payments.refund(
                purchase_id=purchase_id,
                payment_ref=payment_ref,
                amount_cents=amount,
                idempotency_key=f"salon-refund-{purchase_id}",
            )
        elif provider == "test":
            # Made in test mode before the operator switched providers: no money moved.
            refund_ref = f"test_refund_{purchase_id}"
        else:
            raise ProviderError(f"this purchase was made with the {provider} provider")
    except ProviderError as exc:
        log.warning("refund of purchase %s failed: %s", purchase_id, exc)
        REFUNDS.labels(result="failed").inc()
        await _refund_failed(ctx, purchase_id, str(exc))
        return
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        _, purchase = await locked_purchase(tx, purchase_id)
        if purchase.state == PurchaseState.REFUND_PENDING:
            purchase.refund_ref = refund_ref
            await _refunded(tx, purchase, now, f"refund {refund_ref}")


async def _refund_failed(ctx: Context, purchase_id: str, reason: str) -> None:
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        _, purchase = await locked_purchase(tx, purchase_id)
        if purchase.state != PurchaseState.REFUND_PENDING:
            return
        purchase.refund_attempts += 1
        wait = timedelta(seconds=ctx.settings.refund_retry_seconds) * 2 ** min(
            purchase.refund_attempts - 1, 16
        )
        purchase.refund_retry_at = now + min(wait, REFUND_RETRY_MAX)
        record(tx, purchase, LedgerKind.REFUND_FAILED, now=now, detail=reason)
