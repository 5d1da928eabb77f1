"""Stripe: Checkout Sessions to pay, the Refunds API to refund, signed webhooks to learn.

Uses the official ``stripe`` package with its asynchronous HTTPX client. The API base is a
setting (SALON_STRIPE_API_BASE) so tests can point it at a local stand-in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe

from salon.domain.errors import BadRequest
from salon.payments.provider import (
    Checkout,
    CheckoutRequest,
    Outcome,
    PaymentEvent,
    ProviderError,
)

#: Stripe refuses a Checkout Session that expires less than 30 minutes after it is created.
_MIN_SESSION_LIFETIME = timedelta(minutes=30, seconds=60)

#: Longest id Salon keeps (Stripe's are far shorter).
_REF_MAX = 255

_SESSION_OUTCOMES: Mapping[str, Outcome] = {
    "checkout.session.completed": Outcome.PAID,
    "checkout.session.async_payment_succeeded": Outcome.PAID,
    "checkout.session.async_payment_failed": Outcome.DECLINED,
    "checkout.session.expired": Outcome.EXPIRED,
}


class StripeProvider:
    name = "stripe"

    def __init__(self, *, secret_key: str, webhook_secret: str, api_base: str) -> None:
        self._webhook_secret = webhook_secret
        self._http = stripe.HTTPXClient(timeout=30)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            http_client=self._http,
            max_network_retries=1,
        )

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        purchase = {"purchase_id": request.purchase_id, "space_id": request.space_id}
        # Stripe's own expiry cannot be sooner than 30 minutes; a payment made after Salon's
        # hold lapsed is still handled (a ticket if a seat is free, a refund otherwise).
        expires_at = max(request.expires_at, datetime.now(UTC) + _MIN_SESSION_LIFETIME)
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                params={
                    "mode": "payment",
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": request.currency,
                                "unit_amount": request.amount_cents,
                                "product_data": {"name": f"Ticket: {request.title}"},
                            },
                        }
                    ],
                    "client_reference_id": request.purchase_id,
                    "metadata": purchase,
                    "payment_intent_data": {"metadata": purchase},
                    "success_url": request.return_url,
                    "cancel_url": request.return_url,
                    "expires_at": int(expires_at.timestamp()),
                },
                options={"idempotency_key": f"salon-checkout-{request.purchase_id}"},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the checkout: {exc.user_message or exc}") from exc
        if not session.url:
            raise ProviderError("Stripe returned a checkout session without a URL")
        return Checkout(url=session.url, provider_ref=session.id)

    async def refund(
        self, *, purchase_id: str, payment_ref: str | None, amount_cents: int, idempotency_key: str
    ) -> str:
        if not payment_ref:
            raise ProviderError("no Stripe payment is known for this purchase")
        try:
            refund = await self._client.v1.refunds.create_async(
                params={
                    "payment_intent": payment_ref,
                    "amount": amount_cents,
                    "metadata": {"purchase_id": purchase_id},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            if exc.code == "charge_already_refunded":
                return "already_refunded"
            raise ProviderError(f"Stripe refused the refund: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refund failed: {exc.user_message or exc}") from exc
        return refund.id

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """Verify the ``Stripe-Signature`` header (HMAC-SHA256, 5-minute tolerance) and read."""
        signature = headers.get("stripe-signature")
        try:
            self._client.construct_event(payload, signature, self._webhook_secret)
        except stripe.SignatureVerificationError:
            raise BadRequest("the Stripe-Signature header does not verify") from None
        except (ValueError, TypeError, KeyError, AttributeError):
            raise BadRequest("the body is not a Stripe event") from None
        try:
            return read_event(json.loads(payload))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise BadRequest("the body is not a Stripe event") from None


def _id_of(value: Any) -> str | None:
    """A reference that may come as an id or as an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= _REF_MAX else None


def read_event(event: dict[str, Any]) -> PaymentEvent:
    """Translate a (verified) Stripe event into Salon's terms."""
    event_id = event["id"]
    kind = event["type"]
    if _id_of(event_id) is None or not isinstance(kind, str):
        raise ValueError("an event has a string id and type")
    obj = event["data"]["object"]
    if not isinstance(obj, dict):
        raise ValueError("an event carries an object")
    metadata = obj.get("metadata")
    purchase_id = _id_of(metadata.get("purchase_id")) if isinstance(metadata, dict) else None
    outcome: Outcome | None = None
    if kind in _SESSION_OUTCOMES:
        outcome = _SESSION_OUTCOMES[kind]
        # A completed session may still await an asynchronous payment (bank debits).
        if outcome == Outcome.PAID and obj.get("payment_status") not in (
            "paid",
            "no_payment_required",
        ):
            outcome = None
        return PaymentEvent(
            event_id=event_id,
            type=kind,
            outcome=outcome,
            purchase_id=_id_of(obj.get("client_reference_id")) or purchase_id,
            provider_ref=_id_of(obj.get("id")),
            payment_ref=_id_of(obj.get("payment_intent")),
        )
    if kind == "charge.refunded":
        # Only a full refund returns the ticket's money; partial refunds are recorded only.
        return PaymentEvent(
            event_id=event_id,
            type=kind,
            outcome=Outcome.REFUNDED if obj.get("refunded") is True else None,
            purchase_id=purchase_id,
            payment_ref=_id_of(obj.get("payment_intent")),
        )
    return PaymentEvent(event_id=event_id, type=kind, outcome=None, purchase_id=purchase_id)
