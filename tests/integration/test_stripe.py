"""Stripe: Checkout Sessions and refunds against a local fake of those two endpoints, and
webhooks signed for real, delivered once, twice, late, or out of order."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import ValidationError

from salon.config import Settings
from tests.conftest import ServerFactory
from tests.fakes.stripe_api import SECRET_KEY, FakeStripe, FakeStripeServer
from tests.harness import Person, Server, client, problem, wait_for_sweeps
from tests.integration.ticketing import (
    Books,
    buy,
    purchase_of,
    seller,
    ticketed_space,
    tickets_left,
)

WEBHOOK_SECRET = "whsec_salon_test_secret"
WEBHOOK = "/api/payments/stripe/webhook"
PUBLIC_URL = "https://salon.example"


@pytest.fixture
async def stripe(make_server: ServerFactory) -> AsyncIterator[tuple[Server, FakeStripe]]:
    """Salon with the Stripe provider, its API base pointed at the local fake."""
    fake_server = FakeStripeServer()
    async with (
        fake_server as fake,
        make_server(
            payment_provider="stripe",
            stripe_secret_key=SECRET_KEY,
            stripe_webhook_secret=WEBHOOK_SECRET,
            stripe_api_base=fake_server.url,
            public_url=PUBLIC_URL,
            # The public URL is https (Stripe's links), but these clients speak plain http
            # to the test server: a Secure cookie would never come back.
            cookie_secure=False,
        ) as server,
    ):
        yield server, fake


# -- signing, exactly as Stripe does ------------------------------------------------------------


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """``Stripe-Signature``: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def event(kind: str, obj: dict[str, Any], *, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": kind,
            "data": {"object": obj},
        }
    )


def session_of(
    purchase: dict[str, Any], *, status: str = "complete", paid: bool = True, intent: str = ""
) -> dict[str, Any]:
    """The Checkout Session object Stripe would send for this purchase."""
    session_id = urlsplit(purchase["checkout_url"]).path.rsplit("/", 1)[1]
    return {
        "id": session_id,
        "object": "checkout.session",
        "client_reference_id": purchase["id"],
        "metadata": {"purchase_id": purchase["id"], "space_id": purchase["space_id"]},
        "mode": "payment",
        "payment_intent": intent or f"pi_{purchase['id']}",
        "payment_status": "paid" if paid else "unpaid",
        "status": status,
        "amount_total": purchase["amount_cents"],
        "currency": "usd",
    }


def charge_refunded(purchase: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"ch_{purchase['id']}",
        "object": "charge",
        "amount": purchase["amount_cents"],
        "amount_refunded": purchase["amount_cents"],
        "refunded": True,
        "payment_intent": f"pi_{purchase['id']}",
        "metadata": {"purchase_id": purchase["id"]},
    }


async def deliver(
    server: Server, payload: str, signature: str | None = None, **headers: str
) -> httpx.Response:
    """POST a webhook as Stripe does: no cookie, no Origin, the signature header."""
    sent = {"Content-Type": "application/json", **headers}
    sent["Stripe-Signature"] = sign(payload) if signature is None else signature
    if not sent["Stripe-Signature"]:
        del sent["Stripe-Signature"]
    async with client(server) as stripe_itself:
        return await stripe_itself.post(WEBHOOK, content=payload, headers=sent)


async def settle(server: Server, payload: str) -> dict[str, Any]:
    response = await deliver(server, payload)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def scene(server: Server, *, cap: int = 5) -> tuple[Person, str]:
    admin = await server.person("admin")
    host = await seller(server, admin)
    return host, (await ticketed_space(host, price_cents=2_500, cap=cap, title="Paid jam"))["id"]


# -- configuration ------------------------------------------------------------------------------


def test_stripe_without_keys_is_a_clear_startup_error() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(payment_provider="stripe")
    message = str(refused.value)
    assert "SALON_STRIPE_SECRET_KEY" in message
    assert "SALON_STRIPE_WEBHOOK_SECRET" in message
    with pytest.raises(ValidationError, match="SALON_STRIPE_WEBHOOK_SECRET"):
        Settings(payment_provider="stripe", stripe_secret_key="sk_test_x")


async def test_the_webhook_is_off_with_the_test_provider(server: Server) -> None:
    payload = event("checkout.session.completed", {"id": "cs_1"})
    problem(await deliver(server, payload), 404)


# -- checkout -----------------------------------------------------------------------------------


async def test_buying_opens_a_stripe_checkout_session(stripe: tuple[Server, FakeStripe]) -> None:
    server, fake = stripe
    _, sid = await scene(server)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    assert purchase["state"] == "held"
    assert purchase["checkout_url"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
    [call] = fake.calls_to("/v1/checkout/sessions")
    back = f"{PUBLIC_URL}/spaces/{sid}?purchase={purchase['id']}"
    assert call.idempotency_key == f"salon-checkout-{purchase['id']}"
    expires_at = int(call.form.pop("expires_at"))
    assert expires_at >= time.time() + 30 * 60  # Stripe's minimum
    assert call.form == {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "2500",
        "line_items[0][price_data][product_data][name]": "Ticket: Paid jam",
        "client_reference_id": purchase["id"],
        "metadata[purchase_id]": purchase["id"],
        "metadata[space_id]": sid,
        "payment_intent_data[metadata][purchase_id]": purchase["id"],
        "payment_intent_data[metadata][space_id]": sid,
        "success_url": back,
        "cancel_url": back,
    }


async def test_when_stripe_is_down_the_seat_is_freed(stripe: tuple[Server, FakeStripe]) -> None:
    server, fake = stripe
    _, sid = await scene(server, cap=1)
    buyer = await server.person("buyer")
    fake.failures["/v1/checkout/sessions"] = 1
    detail = problem(await buyer.call("POST", f"/api/spaces/{sid}/tickets"), 503)["detail"]
    assert "payment provider" in detail
    assert await tickets_left(buyer, sid) == 1
    assert (await buy(buyer, sid))["state"] == "held"


# -- webhooks: signatures -----------------------------------------------------------------------


async def test_a_signed_completion_issues_the_ticket_once(
    stripe: tuple[Server, FakeStripe],
) -> None:
    server, _ = stripe
    _, sid = await scene(server)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    payload = event("checkout.session.completed", session_of(purchase))
    assert await settle(server, payload) == {"received": True, "duplicate": False}
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "paid"
    # Stripe delivers at least once: the same event again, even re-signed later, is a no-op.
    assert await settle(server, payload) == {"received": True, "duplicate": True}
    answers = await asyncio.gather(*(deliver(server, payload) for _ in range(8)))
    assert {r.status_code for r in answers} == {200}
    assert all(r.json()["duplicate"] for r in answers)
    async with Books(server) as books:
        assert await books.tickets(sid) == [(buyer.id, purchase["id"])]
        assert await books.ledger(purchase["id"]) == [
            ("hold", 2_500),
            ("provider_event", 0),
            ("payment", 2_500),
            ("ticket", 2_500),
            ("fee", 75),
        ]


async def test_racing_deliveries_of_one_event_act_once(stripe: tuple[Server, FakeStripe]) -> None:
    server, _ = stripe
    _, sid = await scene(server)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    payload = event("checkout.session.completed", session_of(purchase))
    answers = await asyncio.gather(*(deliver(server, payload) for _ in range(10)))
    assert {r.status_code for r in answers} == {200}
    assert sorted(r.json()["duplicate"] for r in answers) == [False] + [True] * 9
    async with Books(server) as books:
        assert len(await books.tickets(sid)) == 1


@pytest.mark.parametrize(
    "forge",
    [
        "wrong secret",
        "stale timestamp",
        "tampered body",
        "missing header",
        "garbage header",
        "no v1 signature",
    ],
)
async def test_a_webhook_that_does_not_verify_is_refused(
    stripe: tuple[Server, FakeStripe], forge: str
) -> None:
    server, _ = stripe
    _, sid = await scene(server)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    payload = event("checkout.session.completed", session_of(purchase))
    now = int(time.time())
    signature, body = {
        "wrong secret": (sign(payload, secret="whsec_someone_else"), payload),
        "stale timestamp": (sign(payload, at=now - 301), payload),
        "tampered body": (sign(payload), payload.replace("2500", "1")),
        "missing header": ("", payload),
        "garbage header": ("not a signature", payload),
        "no v1 signature": (sign(payload).replace("v1=", "v0="), payload),
    }[forge]
    response = await deliver(server, body, signature)
    assert "Stripe-Signature" in problem(response, 400)["detail"]
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "held"
    async with Books(server) as books:
        assert await books.events() == []


async def test_a_signed_body_that_is_not_an_event_is_400(stripe: tuple[Server, FakeStripe]) -> None:
    server, _ = stripe
    for body in ("[]", '{"id": "evt_1"}', '{"id": 1, "type": 2, "data": {"object": {}}}', "null"):
        response = await deliver(server, body)
        assert problem(response, 400)["detail"] == "the body is not a Stripe event"


async def test_events_salon_does_not_use_are_acknowledged(
    stripe: tuple[Server, FakeStripe],
) -> None:
    server, _ = stripe
    for payload in (
        event("customer.created", {"id": "cus_1", "object": "customer"}),
        event("checkout.session.completed", {"id": "cs_x", "client_reference_id": "unknown"}),
        event("charge.refunded", {"id": "ch_x", "refunded": False, "metadata": {}}),
    ):
        assert await settle(server, payload) == {"received": True, "duplicate": False}
        assert await settle(server, payload) == {"received": True, "duplicate": True}


# -- webhooks: order and timing -----------------------------------------------------------------


async def test_expired_reported_after_completed_keeps_the_ticket(
    stripe: tuple[Server, FakeStripe],
) -> None:
    server, _ = stripe
    _, sid = await scene(server)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    await settle(server, event("checkout.session.completed", session_of(purchase)))
    await settle(server, event("checkout.session.expired", session_of(purchase, status="expired")))
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "paid"
    async with Books(server) as books:
        assert await books.tickets(sid) == [(buyer.id, purchase["id"])]


async def test_completed_after_expired_gets_a_free_seat(stripe: tuple[Server, FakeStripe]) -> None:
    server, fake = stripe
    _, sid = await scene(server, cap=2)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    await settle(server, event("checkout.session.expired", session_of(purchase, status="expired")))
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "expired"
    await settle(server, event("checkout.session.completed", session_of(purchase)))
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "paid"
    await wait_for_sweeps(server)
    assert fake.calls_to("/v1/refunds") == []


async def test_completed_after_expired_with_no_seat_left_is_refunded(
    stripe: tuple[Server, FakeStripe],
) -> None:
    server, fake = stripe
    _, sid = await scene(server, cap=1)
    late, other = await server.person("late"), await server.person("other")
    purchase = await buy(late, sid)
    await settle(server, event("checkout.session.expired", session_of(purchase, status="expired")))
    taken = await buy(other, sid)
    await settle(server, event("checkout.session.completed", session_of(taken)))
    await settle(server, event("checkout.session.completed", session_of(purchase)))
    await wait_for_sweeps(server)
    assert (await purchase_of(late, purchase["id"]))["state"] == "refunded"
    [refund] = fake.calls_to("/v1/refunds")
    assert refund.idempotency_key == f"salon-refund-{purchase['id']}"
    assert refund.form == {
        "payment_intent": f"pi_{purchase['id']}",
        "amount": "2500",
        "metadata[purchase_id]": purchase["id"],
    }
    async with Books(server) as books:
        assert await books.tickets(sid) == [(other.id, taken["id"])]
        kinds = [kind for kind, _ in await books.ledger(purchase["id"])]
        assert kinds == [
            "hold",
            "provider_event",
            "expired",
            "provider_event",
            "payment",
            "refund_requested",
            "refund",
        ]
    # Stripe then reports the refund it made: already settled, nothing changes.
    await settle(server, event("charge.refunded", charge_refunded(purchase)))
    assert (await purchase_of(late, purchase["id"]))["state"] == "refunded"


async def test_two_success_events_for_one_payment_issue_one_ticket(
    stripe: tuple[Server, FakeStripe],
) -> None:
    server, _ = stripe
    _, sid = await scene(server)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    await settle(server, event("checkout.session.completed", session_of(purchase)))
    await settle(server, event("checkout.session.async_payment_succeeded", session_of(purchase)))
    async with Books(server) as books:
        assert await books.tickets(sid) == [(buyer.id, purchase["id"])]
        kinds = [kind for kind, _ in await books.ledger(purchase["id"])]
        assert kinds.count("payment") == 1
        assert kinds.count("ticket") == 1


async def test_a_delayed_payment_succeeds_or_fails_later(stripe: tuple[Server, FakeStripe]) -> None:
    server, _ = stripe
    _, sid = await scene(server)
    ok, failed = await server.person("ok"), await server.person("failed")
    good = await buy(ok, sid)
    bad = await buy(failed, sid)
    # Bank debits complete the session unpaid; the outcome comes in a later event.
    for purchase in (good, bad):
        await settle(server, event("checkout.session.completed", session_of(purchase, paid=False)))
        assert (await purchase_of(ok if purchase is good else failed, purchase["id"]))[
            "state"
        ] == "held"
    await settle(server, event("checkout.session.async_payment_succeeded", session_of(good)))
    await settle(
        server, event("checkout.session.async_payment_failed", session_of(bad, paid=False))
    )
    assert (await purchase_of(ok, good["id"]))["state"] == "paid"
    assert (await purchase_of(failed, bad["id"]))["state"] == "declined"
    assert await tickets_left(ok, sid) == 4


async def test_a_refund_reported_before_the_payment_leaves_no_ticket(
    stripe: tuple[Server, FakeStripe],
) -> None:
    server, fake = stripe
    _, sid = await scene(server, cap=1)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    await settle(server, event("charge.refunded", charge_refunded(purchase)))
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "refunded"
    assert await tickets_left(buyer, sid) == 1
    await settle(server, event("checkout.session.completed", session_of(purchase)))
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "refunded"
    await wait_for_sweeps(server)
    assert fake.calls_to("/v1/refunds") == []  # Stripe already returned the money
    async with Books(server) as books:
        assert await books.tickets(sid) == []
        assert [kind for kind, _ in await books.ledger(purchase["id"])] == [
            "hold",
            "provider_event",
            "refund",
            "provider_event",
            "payment",
        ]


async def test_a_refund_made_in_the_stripe_dashboard_voids_the_ticket(
    stripe: tuple[Server, FakeStripe],
) -> None:
    server, _ = stripe
    host, sid = await scene(server, cap=1)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    await settle(server, event("checkout.session.completed", session_of(purchase)))
    await settle(server, event("charge.refunded", charge_refunded(purchase)))
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "refunded"
    assert await tickets_left(buyer, sid) == 1
    statement = await host.ok("GET", "/api/me/ticket-statement")
    assert statement["total"]["refunds"] == 1
    assert statement["total"]["net_cents"] == 0


async def test_a_refunded_ticket_holder_gets_no_new_audio_credential(
    stripe: tuple[Server, FakeStripe],
) -> None:
    server, _ = stripe
    host, sid = await scene(server)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    await settle(server, event("checkout.session.completed", session_of(purchase)))
    await host.ok("POST", f"/api/spaces/{sid}/start")
    credential = (await buyer.ok("GET", f"/api/spaces/{sid}/listen"))["credential"]
    playlist = f"/api/spaces/{sid}/hls/{credential}/live.m3u8"
    await buyer.call("GET", playlist, status=200)
    await settle(server, event("charge.refunded", charge_refunded(purchase)))
    assert "ticket" in problem(await buyer.call("GET", f"/api/spaces/{sid}/listen"), 403)["detail"]
    server.clock.advance(server.settings.audio_credential_seconds + 1)
    assert "expired" in problem(await buyer.call("GET", playlist), 403)["detail"]


# -- refunds through the API --------------------------------------------------------------------


async def test_cancelling_refunds_every_holder_through_stripe(
    stripe: tuple[Server, FakeStripe],
) -> None:
    server, fake = stripe
    host, sid = await scene(server)
    buyers = [await server.person(f"b{i}") for i in range(3)]
    purchases = [await buy(b, sid) for b in buyers]
    for purchase in purchases:
        await settle(server, event("checkout.session.completed", session_of(purchase)))
    await host.ok("POST", f"/api/spaces/{sid}/cancel")
    await wait_for_sweeps(server)
    for buyer, purchase in zip(buyers, purchases, strict=True):
        assert (await purchase_of(buyer, purchase["id"]))["state"] == "refunded"
    refunds = fake.calls_to("/v1/refunds")
    assert sorted(call.form["payment_intent"] for call in refunds) == sorted(
        f"pi_{p['id']}" for p in purchases
    )
    assert sorted(call.idempotency_key or "" for call in refunds) == sorted(
        f"salon-refund-{p['id']}" for p in purchases
    )
    # Stripe's own notices of those refunds arrive afterwards and change nothing.
    for purchase in purchases:
        await settle(server, event("charge.refunded", charge_refunded(purchase)))
    async with Books(server) as books:
        for purchase in purchases:
            kinds = [kind for kind, _ in await books.ledger(purchase["id"])]
            assert kinds.count("refund") == 1


async def test_a_failed_refund_is_retried_with_the_same_idempotency_key(
    stripe: tuple[Server, FakeStripe],
) -> None:
    server, fake = stripe
    host, sid = await scene(server)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    await settle(server, event("checkout.session.completed", session_of(purchase)))
    fake.failures["/v1/refunds"] = 2
    await host.ok("POST", f"/api/spaces/{sid}/cancel")
    await wait_for_sweeps(server, 4)
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "refund_pending"
    assert len(fake.calls_to("/v1/refunds")) == 1  # then it waits before trying again
    server.clock.advance(server.settings.refund_retry_seconds + 1)
    await wait_for_sweeps(server)
    assert len(fake.calls_to("/v1/refunds")) == 2
    server.clock.advance(2 * server.settings.refund_retry_seconds + 1)
    await wait_for_sweeps(server)
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "refunded"
    keys = {call.idempotency_key for call in fake.calls_to("/v1/refunds")}
    assert keys == {f"salon-refund-{purchase['id']}"}
    async with Books(server) as books:
        kinds = [kind for kind, _ in await books.ledger(purchase["id"])]
        assert kinds.count("refund_failed") == 2
        assert kinds[-1] == "refund"
