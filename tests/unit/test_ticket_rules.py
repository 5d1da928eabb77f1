"""Ticket rules: who may sell, prices and caps, the platform fee, a purchase's life."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salon.domain.errors import Conflict, Forbidden, Invalid
from salon.domain.tickets import (
    FEE_THRESHOLD_CENTS,
    PurchaseState,
    after_decline,
    after_expiry,
    after_payment,
    after_refund,
    after_space_closed,
    check_admitted,
    check_can_buy,
    check_can_sell,
    check_cap,
    check_price,
    check_ticketed_schedule,
    fee_rate_percent,
    format_usd,
    platform_fee,
    seller_eligibility,
    transition,
)

HELD, PAID, DECLINED, EXPIRED, REFUND_PENDING, REFUNDED = (
    PurchaseState.HELD,
    PurchaseState.PAID,
    PurchaseState.DECLINED,
    PurchaseState.EXPIRED,
    PurchaseState.REFUND_PENDING,
    PurchaseState.REFUNDED,
)

# -- eligibility --------------------------------------------------------------------------------

ELIGIBLE = {"followers": 1_000, "adult_attested": True, "hosted_recently": 3}


def test_meeting_every_condition_makes_a_seller() -> None:
    result = seller_eligibility(granted=False, **ELIGIBLE)  # type: ignore[arg-type]
    assert result.eligible
    assert not result.granted
    assert result.reasons == ()
    check_can_sell(granted=False, **ELIGIBLE)  # type: ignore[arg-type]


def test_every_unmet_condition_is_explained() -> None:
    result = seller_eligibility(
        granted=False, followers=12, adult_attested=False, hosted_recently=1
    )
    assert not result.eligible
    assert result.reasons == (
        "have 1,000 followers (you have 12)",
        "attest that you are 18 or older",
        "host 3 spaces in the last 30 days (you hosted 1)",
    )
    with pytest.raises(Forbidden) as refused:
        check_can_sell(granted=False, followers=12, adult_attested=False, hosted_recently=1)
    assert refused.value.detail == (
        "to sell tickets you need to have 1,000 followers (you have 12); "
        "attest that you are 18 or older; host 3 spaces in the last 30 days (you hosted 1)"
        " (or an admin's grant)"
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"followers": 999}, "have 1,000 followers (you have 999)"),
        ({"adult_attested": False}, "attest that you are 18 or older"),
        ({"hosted_recently": 2}, "host 3 spaces in the last 30 days (you hosted 2)"),
    ],
)
def test_each_condition_alone_is_needed(change: dict[str, object], reason: str) -> None:
    facts = {**ELIGIBLE, **change}
    result = seller_eligibility(granted=False, **facts)  # type: ignore[arg-type]
    assert result.reasons == (reason,)
    with pytest.raises(Forbidden, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check_can_sell(granted=False, **facts)  # type: ignore[arg-type]


def test_an_admin_grant_bypasses_every_condition() -> None:
    result = seller_eligibility(granted=True, followers=0, adult_attested=False, hosted_recently=0)
    assert result.eligible
    assert result.granted
    assert result.reasons == ()
    check_can_sell(granted=True, followers=0, adult_attested=False, hosted_recently=0)


# -- price, cap, schedule -----------------------------------------------------------------------


@pytest.mark.parametrize("cents", [100, 101, 4_999, 99_899, 99_900])
def test_prices_from_one_to_999_dollars(cents: int) -> None:
    assert check_price(cents) == cents


@pytest.mark.parametrize("cents", [-100, 0, 1, 99, 99_901, 100_000, 10**9])
def test_prices_outside_the_range_are_refused(cents: int) -> None:
    with pytest.raises(Invalid, match=r"\$1\.00 to \$999\.00"):
        check_price(cents)


@pytest.mark.parametrize("cap", [1, 2, 100_000])
def test_caps_in_range(cap: int) -> None:
    assert check_cap(cap) == cap


@pytest.mark.parametrize("cap", [-1, 0, 100_001])
def test_caps_out_of_range(cap: int) -> None:
    with pytest.raises(Invalid, match="1 to 100,000"):
        check_cap(cap)


def test_a_ticketed_space_is_scheduled() -> None:
    check_ticketed_schedule(True)
    with pytest.raises(Invalid, match="scheduled"):
        check_ticketed_schedule(False)


def test_money_is_shown_in_dollars() -> None:
    assert format_usd(100) == "$1.00"
    assert format_usd(99_900) == "$999.00"
    assert format_usd(5_000_000) == "$50,000.00"
    assert format_usd(7) == "$0.07"
    assert format_usd(-250) == "-$2.50"


# -- the platform fee ---------------------------------------------------------------------------


def test_three_percent_below_the_threshold() -> None:
    split = platform_fee(earned_before_cents=0, amount_cents=10_000)
    assert (split.below_threshold_cents, split.above_threshold_cents) == (10_000, 0)
    assert split.fee_cents == 300
    assert split.net_cents == 9_700


def test_twenty_percent_above_the_threshold() -> None:
    split = platform_fee(earned_before_cents=FEE_THRESHOLD_CENTS, amount_cents=10_000)
    assert (split.below_threshold_cents, split.above_threshold_cents) == (0, 10_000)
    assert split.fee_cents == 2_000
    assert split.net_cents == 8_000


def test_a_sale_crossing_the_threshold_is_split() -> None:
    # $49,990 earned; a $50 ticket: $10 at 3 % (30 ¢) and $40 at 20 % ($8).
    split = platform_fee(earned_before_cents=4_999_000, amount_cents=5_000)
    assert split.below_threshold_cents == 1_000
    assert split.above_threshold_cents == 4_000
    assert split.fee_cents == 30 + 800
    assert split.net_cents == 5_000 - 830


def test_a_sale_ending_exactly_at_the_threshold_is_all_three_percent() -> None:
    split = platform_fee(earned_before_cents=FEE_THRESHOLD_CENTS - 5_000, amount_cents=5_000)
    assert (split.below_threshold_cents, split.above_threshold_cents) == (5_000, 0)
    assert split.fee_cents == 150


def test_each_portion_rounds_half_up_to_the_cent() -> None:
    # 3 % of $1.50 is 4.5 ¢ → 5 ¢; 3 % of $1.49 is 4.47 ¢ → 4 ¢.
    assert platform_fee(earned_before_cents=0, amount_cents=150).fee_cents == 5
    assert platform_fee(earned_before_cents=0, amount_cents=149).fee_cents == 4
    # 20 % of 2.5 ¢ is 0.5 ¢ → 1 ¢ (a portion can be that small only when a sale crosses).
    assert platform_fee(earned_before_cents=FEE_THRESHOLD_CENTS, amount_cents=101).fee_cents == 20
    # Crossing with 50 ¢ below (1.5 ¢ → 2 ¢) and 150 ¢ above (30 ¢): rounded separately, 32 ¢.
    split = platform_fee(earned_before_cents=FEE_THRESHOLD_CENTS - 50, amount_cents=200)
    assert (split.below_threshold_cents, split.above_threshold_cents) == (50, 150)
    assert split.fee_cents == 2 + 30


def test_the_rate_the_next_sale_starts_at() -> None:
    assert fee_rate_percent(0) == 3
    assert fee_rate_percent(FEE_THRESHOLD_CENTS - 1) == 3
    assert fee_rate_percent(FEE_THRESHOLD_CENTS) == 20


def test_negative_amounts_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        platform_fee(earned_before_cents=-1, amount_cents=100)


@given(
    earned=st.integers(min_value=0, max_value=2 * FEE_THRESHOLD_CENTS),
    amount=st.integers(min_value=100, max_value=99_900),
)
def test_the_split_adds_up_and_stays_between_the_rates(earned: int, amount: int) -> None:
    split = platform_fee(earned_before_cents=earned, amount_cents=amount)
    assert split.below_threshold_cents + split.above_threshold_cents == amount
    assert split.below_threshold_cents == max(0, min(amount, FEE_THRESHOLD_CENTS - earned))
    assert amount * 3 // 100 <= split.fee_cents <= -(-amount * 20 // 100) + 1
    assert split.net_cents == amount - split.fee_cents


@given(sales=st.lists(st.integers(min_value=100, max_value=99_900), min_size=1, max_size=120))
def test_a_run_of_sales_pays_three_percent_of_the_first_50000_then_twenty(
    sales: list[int],
) -> None:
    earned = 4_990_000  # close to the threshold, so runs cross it
    fees = 0
    below = above = 0
    for amount in sales:
        split = platform_fee(earned_before_cents=earned, amount_cents=amount)
        fees += split.fee_cents
        below += split.below_threshold_cents
        above += split.above_threshold_cents
        earned += amount
    assert below == min(sum(sales), FEE_THRESHOLD_CENTS - 4_990_000)
    assert above == sum(sales) - below
    # Rounding per sale and portion costs at most half a cent each way per portion.
    exact = below * 3 / 100 + above * 20 / 100
    assert abs(fees - exact) <= len(sales)


# -- the purchase state machine -----------------------------------------------------------------

LEGAL = {
    (HELD, PAID),
    (HELD, DECLINED),
    (HELD, EXPIRED),
    (HELD, REFUND_PENDING),
    (HELD, REFUNDED),
    (DECLINED, PAID),
    (DECLINED, REFUND_PENDING),
    (DECLINED, REFUNDED),
    (EXPIRED, PAID),
    (EXPIRED, REFUND_PENDING),
    (EXPIRED, REFUNDED),
    (PAID, REFUND_PENDING),
    (PAID, REFUNDED),
    (REFUND_PENDING, REFUNDED),
}


@pytest.mark.parametrize(
    ("current", "target"), sorted(itertools.product(PurchaseState, PurchaseState))
)
def test_transitions(current: PurchaseState, target: PurchaseState) -> None:
    if (current, target) in LEGAL:
        assert transition(current, target) == target
    else:
        with pytest.raises(Conflict) as refused:
            transition(current, target)
        assert refused.value.detail == (
            f"a {current.replace('_', ' ')} purchase cannot become {target}"
        )


def test_a_refunded_purchase_is_final() -> None:
    for target in PurchaseState:
        with pytest.raises(Conflict, match="a refunded purchase cannot become"):
            transition(REFUNDED, target)


def _paid(
    state: PurchaseState, *, space_open: bool = True, has_ticket: bool = False, seat_free: bool
) -> PurchaseState | None:
    return after_payment(state, space_open=space_open, has_ticket=has_ticket, seat_free=seat_free)


def test_a_held_purchase_that_is_paid_gets_its_reserved_seat() -> None:
    assert _paid(HELD, seat_free=False) == PAID
    assert _paid(HELD, seat_free=True) == PAID


@pytest.mark.parametrize("state", [EXPIRED, DECLINED])
def test_a_late_payment_gets_a_ticket_if_a_seat_is_free(state: PurchaseState) -> None:
    assert _paid(state, seat_free=True) == PAID


@pytest.mark.parametrize("state", [EXPIRED, DECLINED])
def test_a_late_payment_without_a_free_seat_is_refunded(state: PurchaseState) -> None:
    assert _paid(state, seat_free=False) == REFUND_PENDING


@pytest.mark.parametrize("state", [HELD, EXPIRED, DECLINED])
def test_a_payment_for_a_space_that_is_over_is_refunded(state: PurchaseState) -> None:
    assert _paid(state, space_open=False, seat_free=True) == REFUND_PENDING


@pytest.mark.parametrize("state", [HELD, EXPIRED])
def test_a_second_ticket_for_the_same_buyer_is_refunded(state: PurchaseState) -> None:
    assert _paid(state, has_ticket=True, seat_free=True) == REFUND_PENDING


@pytest.mark.parametrize("state", [PAID, REFUND_PENDING, REFUNDED])
def test_a_payment_reported_again_changes_nothing(state: PurchaseState) -> None:
    assert _paid(state, seat_free=True) is None
    assert _paid(state, seat_free=False, space_open=False) is None


def test_declines_and_expiries_only_free_a_held_seat() -> None:
    assert after_decline(HELD) == DECLINED
    assert after_expiry(HELD) == EXPIRED
    for state in (PAID, DECLINED, EXPIRED, REFUND_PENDING, REFUNDED):
        # e.g. "expired" reported after "completed": the ticket stays.
        assert after_decline(state) is None
        assert after_expiry(state) is None


def test_a_confirmed_refund_settles_any_purchase_once() -> None:
    for state in (HELD, PAID, DECLINED, EXPIRED, REFUND_PENDING):
        assert after_refund(state) == REFUNDED
    assert after_refund(REFUNDED) is None
    # The refund seen before the payment: the payment then changes nothing.
    assert _paid(REFUNDED, seat_free=True) is None


def test_cancelling_releases_holds_and_refunds_tickets() -> None:
    assert after_space_closed(HELD) == EXPIRED
    assert after_space_closed(PAID) == REFUND_PENDING
    for state in (DECLINED, EXPIRED, REFUND_PENDING, REFUNDED):
        assert after_space_closed(state) is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["pay", "decline", "expire", "refund", "cancel"]),
            st.booleans(),
        ),
        max_size=12,
    )
)
def test_any_order_of_events_ends_with_a_ticket_or_the_money_back(
    events: list[tuple[str, bool]],
) -> None:
    """Whatever arrives in whatever order, every step is a legal transition, and once money
    came in the purchase ends either paid (a ticket) or refunded/refund pending, never both
    and never neither."""
    state = HELD
    money_in = False
    space_open = True
    for kind, seat_free in events:
        if kind == "pay":
            money_in = True
            target = _paid(state, space_open=space_open, seat_free=seat_free)
        elif kind == "decline":
            target = after_decline(state)
        elif kind == "expire":
            target = after_expiry(state)
        elif kind == "refund":
            target = after_refund(state)
        else:
            space_open = False
            target = after_space_closed(state)
        if target is not None:
            state = transition(state, target)
    if money_in:
        assert state in (PAID, REFUND_PENDING, REFUNDED)
    if state == PAID:
        assert space_open


# -- buying and entering ------------------------------------------------------------------------


def test_who_can_buy() -> None:
    check_can_buy(is_host=False, space_open=True, has_ticket=False, seats_taken=9, cap=10)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"is_host": True}, "host"),
        ({"space_open": False}, "over"),
        ({"has_ticket": True}, "already have a ticket"),
        ({"seats_taken": 10}, "sold out: all 10 tickets"),
    ]
    for change, needle in cases:
        facts: dict[str, Any] = {
            "is_host": False,
            "space_open": True,
            "has_ticket": False,
            "seats_taken": 9,
            **change,
        }
        with pytest.raises(Conflict, match=needle):
            check_can_buy(cap=10, **facts)


def test_who_may_enter_a_ticketed_space() -> None:
    nobody = {"is_host": False, "on_stage": False, "guest": False, "has_ticket": False}
    check_admitted(**nobody, ticketed=False)
    with pytest.raises(Forbidden, match="buy a ticket"):
        check_admitted(**nobody, ticketed=True)
    for who in ("is_host", "on_stage", "guest", "has_ticket"):
        check_admitted(**{**nobody, who: True}, ticketed=True)
