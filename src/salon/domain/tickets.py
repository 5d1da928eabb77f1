"""Ticketed spaces: who may sell, prices and caps, the platform fee, and a purchase's life.

Money is always an integer number of cents (USD); nothing here does I/O or reads the clock.

A purchase's life::

    held ──pay──▶ paid ──refund requested──▶ refund_pending ──refund confirmed──▶ refunded
      │ ╲                 ╲__________________ refund confirmed (outside Salon) ___▲
      │  ╲──decline──▶ declined ─┐
      ╰────expire───▶ expired  ──┴─ late payment ─▶ paid (a seat is free) or refund_pending

A hold reserves a seat until it expires; a payment that arrives for a purchase that no longer
holds a seat gets a ticket only if one is still free, and is refunded otherwise: money is never
kept without a ticket, and a ticket is never issued twice (one per purchase, one per buyer).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from salon.domain.errors import Conflict, Forbidden, Invalid

CURRENCY = "usd"
PRICE_MIN_CENTS = 100
PRICE_MAX_CENTS = 99_900
CAP_MIN = 1
CAP_MAX = 100_000

SELLER_MIN_FOLLOWERS = 1_000
SELLER_MIN_HOSTED = 3
SELLER_WINDOW_DAYS = 30

#: Lifetime ticket earnings after which the higher fee applies ($50,000).
FEE_THRESHOLD_CENTS = 5_000_000
#: Fees in basis points (1/100 of a percent): 3 % up to the threshold, 20 % beyond it.
FEE_BELOW_BPS = 300
FEE_ABOVE_BPS = 2_000


def format_usd(cents: int) -> str:
    """``123456`` → ``"$1,234.56"``."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


def check_price(price_cents: int) -> int:
    if not PRICE_MIN_CENTS <= price_cents <= PRICE_MAX_CENTS:
        raise Invalid(
            f"a ticket costs {format_usd(PRICE_MIN_CENTS)} to {format_usd(PRICE_MAX_CENTS)}"
            f" (price_cents {PRICE_MIN_CENTS} to {PRICE_MAX_CENTS})"
        )
    return price_cents


def check_cap(cap: int) -> int:
    if not CAP_MIN <= cap <= CAP_MAX:
        raise Invalid(f"a ticket cap is {CAP_MIN} to {CAP_MAX:,}")
    return cap


def check_ticketed_schedule(scheduled: bool) -> None:
    """A ticketed space is sold ahead of time: it is scheduled, never started on the spot."""
    if not scheduled:
        raise Invalid("a ticketed space must be scheduled: give scheduled_for")


# -- who may sell ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    #: An admin granted ticket selling (the other conditions then do not matter).
    granted: bool
    #: What is still missing, in words a host can act on; empty when eligible.
    reasons: tuple[str, ...]


def seller_eligibility(
    *, granted: bool, followers: int, adult_attested: bool, hosted_recently: int
) -> Eligibility:
    """An admin's grant, or all of: 1,000 followers, 18+ attested, 3 spaces hosted in 30 days.

    ``hosted_recently`` counts spaces that went live within the last 30 days.
    """
    if granted:
        return Eligibility(eligible=True, granted=True, reasons=())
    reasons: list[str] = []
    if followers < SELLER_MIN_FOLLOWERS:
        reasons.append(f"have {SELLER_MIN_FOLLOWERS:,} followers (you have {followers:,})")
    if not adult_attested:
        reasons.append("attest that you are 18 or older")
    if hosted_recently < SELLER_MIN_HOSTED:
        reasons.append(
            f"host {SELLER_MIN_HOSTED} spaces in the last {SELLER_WINDOW_DAYS} days"
            f" (you hosted {hosted_recently})"
        )
    return Eligibility(eligible=not reasons, granted=False, reasons=tuple(reasons))


def check_can_sell(
    *, granted: bool, followers: int, adult_attested: bool, hosted_recently: int
) -> None:
    """Raise Forbidden naming every unmet condition."""
    eligibility = seller_eligibility(
        granted=granted,
        followers=followers,
        adult_attested=adult_attested,
        hosted_recently=hosted_recently,
    )
    if not eligibility.eligible:
        raise Forbidden(
            "to sell tickets you need to "
            + "; ".join(eligibility.reasons)
            + " (or an admin's grant)"
        )


# -- the platform fee --------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeSplit:
    amount_cents: int
    #: The part of the sale below the $50,000 threshold, charged 3 %.
    below_threshold_cents: int
    #: The part above it, charged 20 %.
    above_threshold_cents: int
    fee_cents: int

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.fee_cents


def _percent_half_up(cents: int, basis_points: int) -> int:
    """``cents × basis_points / 10,000`` rounded to the nearest cent, halves up."""
    return (cents * basis_points + 5_000) // 10_000


def platform_fee(*, earned_before_cents: int, amount_cents: int) -> FeeSplit:
    """The fee on one sale, given the host's lifetime earnings before it.

    Earnings are the host's gross ticket sales that have not been refunded. A sale that crosses
    the threshold is split: the part up to $50,000 pays 3 %, the rest 20 %. Each part's fee is
    rounded to the nearest cent, halves up, and the two are added.
    """
    if earned_before_cents < 0 or amount_cents < 0:
        raise ValueError("earnings and amounts are never negative")
    room_below = max(0, FEE_THRESHOLD_CENTS - earned_before_cents)
    below = min(amount_cents, room_below)
    above = amount_cents - below
    fee = _percent_half_up(below, FEE_BELOW_BPS) + _percent_half_up(above, FEE_ABOVE_BPS)
    return FeeSplit(
        amount_cents=amount_cents,
        below_threshold_cents=below,
        above_threshold_cents=above,
        fee_cents=fee,
    )


def fee_rate_percent(earned_cents: int) -> int:
    """The rate the host's next sale starts at."""
    return (FEE_BELOW_BPS if earned_cents < FEE_THRESHOLD_CENTS else FEE_ABOVE_BPS) // 100


# -- a purchase's life -------------------------------------------------------------------------


class PurchaseState(StrEnum):
    HELD = "held"
    PAID = "paid"
    DECLINED = "declined"
    EXPIRED = "expired"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"


_NEXT: dict[PurchaseState, frozenset[PurchaseState]] = {
    # A refund can be confirmed before the payment it returns is reported (events reordered).
    PurchaseState.HELD: frozenset(
        {
            PurchaseState.PAID,
            PurchaseState.DECLINED,
            PurchaseState.EXPIRED,
            PurchaseState.REFUND_PENDING,
            PurchaseState.REFUNDED,
        }
    ),
    # A payment can still succeed after the hold lapsed or a decline was reported.
    PurchaseState.DECLINED: frozenset(
        {PurchaseState.PAID, PurchaseState.REFUND_PENDING, PurchaseState.REFUNDED}
    ),
    PurchaseState.EXPIRED: frozenset(
        {PurchaseState.PAID, PurchaseState.REFUND_PENDING, PurchaseState.REFUNDED}
    ),
    PurchaseState.PAID: frozenset({PurchaseState.REFUND_PENDING, PurchaseState.REFUNDED}),
    PurchaseState.REFUND_PENDING: frozenset({PurchaseState.REFUNDED}),
    PurchaseState.REFUNDED: frozenset(),
}

#: States in which a purchase takes a seat: a live hold, or a ticket.
SEAT_TAKING = frozenset({PurchaseState.HELD, PurchaseState.PAID})


def transition(current: PurchaseState, target: PurchaseState) -> PurchaseState:
    """Return ``target`` if a purchase in ``current`` may move there; raise Conflict otherwise."""
    if target not in _NEXT[current]:
        raise Conflict(f"a {current.replace('_', ' ')} purchase cannot become {target}")
    return target


def after_payment(
    state: PurchaseState, *, space_open: bool, has_ticket: bool, seat_free: bool
) -> PurchaseState | None:
    """Where a successful payment takes a purchase (None: it changes nothing).

    ``has_ticket``: the buyer already holds a ticket to this space (from another purchase).
    ``seat_free``: a seat is free besides any this purchase holds (tickets + live holds < cap).
    A purchase still held has its seat reserved; one whose hold lapsed or was declined gets a
    ticket only if a seat is free; otherwise, and for a space that is over, the money goes back.
    """
    if state in (PurchaseState.PAID, PurchaseState.REFUND_PENDING, PurchaseState.REFUNDED):
        return None  # already settled: the same payment reported again
    if not space_open or has_ticket:
        return PurchaseState.REFUND_PENDING
    if state == PurchaseState.HELD or seat_free:
        return PurchaseState.PAID
    return PurchaseState.REFUND_PENDING


def after_decline(state: PurchaseState) -> PurchaseState | None:
    """A failed payment frees a held seat; it changes nothing once the purchase moved on."""
    return PurchaseState.DECLINED if state == PurchaseState.HELD else None


def after_expiry(state: PurchaseState) -> PurchaseState | None:
    """A lapsed hold frees its seat; an expiry reported after the payment changes nothing."""
    return PurchaseState.EXPIRED if state == PurchaseState.HELD else None


def after_refund(state: PurchaseState) -> PurchaseState | None:
    """The provider confirms the money went back (our refund, or one made outside Salon)."""
    return None if state == PurchaseState.REFUNDED else PurchaseState.REFUNDED


def after_space_closed(state: PurchaseState) -> PurchaseState | None:
    """A cancelled space: held seats are released, tickets refunded."""
    if state == PurchaseState.HELD:
        return PurchaseState.EXPIRED
    if state == PurchaseState.PAID:
        return PurchaseState.REFUND_PENDING
    return None


def check_can_buy(
    *, is_host: bool, space_open: bool, has_ticket: bool, seats_taken: int, cap: int
) -> None:
    """Checked under the space's lock, with ``seats_taken`` (tickets + live holds) counted there."""
    if is_host:
        raise Conflict("the host does not need a ticket to their own space")
    if not space_open:
        raise Conflict("tickets are no longer sold: this space is over")
    if has_ticket:
        raise Conflict("you already have a ticket to this space")
    if seats_taken >= cap:
        raise Conflict(f"sold out: all {cap:,} tickets are taken")


def check_admitted(
    *, is_host: bool, on_stage: bool, guest: bool, has_ticket: bool, ticketed: bool
) -> None:
    """Only ticket holders, the host, co-hosts and invited speakers enter a ticketed space."""
    if not ticketed or is_host or on_stage or guest or has_ticket:
        return
    raise Forbidden("this is a ticketed space: buy a ticket to join or listen")


class LedgerKind(StrEnum):
    """What one ledger row records. Amounts are in cents, positive."""

    HOLD = "hold"  # a purchase started; a seat is held
    PROVIDER_EVENT = "provider_event"  # a payment provider reported something (recorded once)
    PAYMENT = "payment"  # money received from the buyer
    TICKET = "ticket"  # a ticket issued: the host's sale
    FEE = "fee"  # the platform's fee on that sale
    DECLINED = "declined"  # the payment failed; the seat is free again
    EXPIRED = "expired"  # the hold lapsed; the seat is free again
    TICKET_VOIDED = "ticket_voided"  # a sold ticket is being refunded: the sale is reversed
    FEE_REVERSAL = "fee_reversal"  # the fee on that sale is returned to the host
    REFUND_REQUESTED = "refund_requested"  # money to be returned (outbox)
    REFUND = "refund"  # the provider returned the money
    REFUND_FAILED = "refund_failed"  # a refund attempt failed; it will be retried
