"""What Salon needs from a payment provider, whoever it is.

Salon never calls a provider inside a database transaction: a purchase's seat is held and
committed first, then the provider is asked for a checkout; refunds are queued in the database
and made afterwards (see services/payments.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ProviderError(Exception):
    """The provider could not be reached, or refused the request."""


@dataclass(frozen=True)
class CheckoutRequest:
    purchase_id: str
    space_id: str
    title: str
    amount_cents: int
    currency: str
    #: When the hold on the seat lapses.
    expires_at: datetime
    #: Where the buyer's browser comes back to (absolute URL), paid or not.
    return_url: str


@dataclass(frozen=True)
class Checkout:
    #: Where to send the buyer's browser.
    url: str
    #: The provider's id for this checkout (e.g. a Stripe Checkout Session id).
    provider_ref: str


class Outcome(StrEnum):
    """What a provider event means for a purchase."""

    PAID = "paid"
    DECLINED = "declined"
    EXPIRED = "expired"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class PaymentEvent:
    """One provider event, already authenticated, in Salon's words."""

    #: The provider's unique id for the event: Salon acts on each id at most once.
    event_id: str
    #: The provider's name for it (kept in the ledger).
    type: str
    #: None: nothing for Salon to do (recorded all the same).
    outcome: Outcome | None
    purchase_id: str | None = None
    provider_ref: str | None = None
    #: The provider's id for the payment itself, needed to refund it.
    payment_ref: str | None = None


class PaymentProvider(Protocol):
    #: Stored with each purchase ("test", "stripe").
    name: str

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """Open a checkout for one ticket; raise ProviderError on failure."""
        ...

    async def refund(
        self, *, purchase_id: str, payment_ref: str | None, amount_cents: int, idempotency_key: str
    ) -> str:
        """Return the money of one purchase; safe to repeat with the same key. Returns the
        provider's refund id; raises ProviderError on failure (the caller retries later)."""
        ...

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """Authenticate and read a webhook call; raise BadRequest if it does not verify."""
        ...

    async def close(self) -> None: ...
