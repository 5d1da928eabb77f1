"""The test provider: Salon's own checkout page, where the buyer presses Pay or Decline.

No money moves. It is the default on a fresh install so that ticketed spaces work end to end
without an account anywhere; the page says TEST MODE in large letters.
"""

from __future__ import annotations

from collections.abc import Mapping

from salon.domain.errors import NotFound
from salon.payments.provider import Checkout, CheckoutRequest, PaymentEvent


class TestModeProvider:
    name = "test"
    __test__ = False  # not a pytest test class, whatever its name

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        return Checkout(
            url=f"/checkout/test/{request.purchase_id}",
            provider_ref=f"test_{request.purchase_id}",
        )

    async def refund(
        self, *, purchase_id: str, payment_ref: str | None, amount_cents: int, idempotency_key: str
    ) -> str:
        return f"test_refund_{purchase_id}"

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        raise NotFound("the test provider has no webhook; its checkout page reports directly")

    async def close(self) -> None:
        return None
