"""Ticketed spaces end to end with the test provider: selling, buying, holds, refunds, the
statement, and who may enter."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.harness import Person, Server, client, problem, wait_for_sweeps
from tests.integration.ticketing import (
    Books,
    buy,
    buy_and_pay,
    pay,
    purchase_of,
    seller,
    ticketed_space,
    tickets_left,
)

HOLD = 1800

# -- selling ------------------------------------------------------------------------------------


async def test_an_eligible_host_creates_a_ticketed_space(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    space = await ticketed_space(host, price_cents=1_250, cap=40, title="Paid talk")
    assert space["state"] == "scheduled"
    assert space["ticket"] == {
        "price_cents": 1_250,
        "currency": "usd",
        "cap": 40,
        "tickets_left": 40,
        "have_ticket": False,
        "admitted": True,
    }
    stranger = await server.person("stranger")
    seen = await stranger.ok("GET", f"/api/spaces/{space['id']}")
    assert seen["ticket"]["admitted"] is False
    async with client(server) as anonymous:
        seen = (await anonymous.get(f"/api/spaces/{space['id']}")).json()
    assert seen["ticket"] == {**space["ticket"], "admitted": False}
    listed = await stranger.ok("GET", "/api/spaces?state=scheduled")
    assert [s["ticket"]["price_cents"] for s in listed] == [1_250]
    free = await (await server.person("free")).create_space("Free")
    assert free["ticket"] is None


async def test_an_ineligible_host_is_told_every_missing_condition(make_server: Any) -> None:
    async with make_server(session_days=90) as server:
        await _ineligible_host(server)


async def _ineligible_host(server: Server) -> None:
    await server.person("admin")
    host = await server.person("hopeful")
    when = (server.clock.now() + timedelta(days=1)).isoformat()
    body = {"title": "Paid", "scheduled_for": when, "ticket": {"price_cents": 500, "cap": 5}}
    refused = problem(await host.call("POST", "/api/spaces", json=body), 403)
    assert refused["detail"] == (
        "to sell tickets you need to have 1,000 followers (you have 0); "
        "attest that you are 18 or older; host 3 spaces in the last 30 days (you hosted 0)"
        " (or an admin's grant)"
    )
    eligibility = await host.ok("GET", "/api/me/ticket-eligibility")
    assert eligibility == {
        "eligible": False,
        "granted": False,
        "reasons": [
            "have 1,000 followers (you have 0)",
            "attest that you are 18 or older",
            "host 3 spaces in the last 30 days (you hosted 0)",
        ],
        "followers": 0,
        "followers_needed": 1_000,
        "adult_attested": False,
        "hosted_recently": 0,
        "hosted_needed": 3,
        "window_days": 30,
    }
    # Attesting and hosting three spaces leave only the followers missing.
    me = await host.ok("PATCH", "/api/me", json={"adult_attested": True})
    assert me["adult_attested"] is True
    for i in range(3):
        sid = (await host.create_space(f"Warm-up {i}"))["id"]
        await host.ok("POST", f"/api/spaces/{sid}/end")
    eligibility = await host.ok("GET", "/api/me/ticket-eligibility")
    assert eligibility["reasons"] == ["have 1,000 followers (you have 0)"]
    assert eligibility["hosted_recently"] == 3
    refused = problem(await host.call("POST", "/api/spaces", json=body), 403)
    assert "attest" not in refused["detail"]
    # Spaces hosted more than 30 days ago no longer count.
    server.clock.advance(31 * 86400)
    eligibility = await host.ok("GET", "/api/me/ticket-eligibility")
    assert eligibility["hosted_recently"] == 0
    # Withdrawing the attestation brings that reason back.
    await host.ok("PATCH", "/api/me", json={"adult_attested": False})
    eligibility = await host.ok("GET", "/api/me/ticket-eligibility")
    assert "attest that you are 18 or older" in eligibility["reasons"]


async def test_an_admin_grant_is_enough(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin, "granted")
    eligibility = await host.ok("GET", "/api/me/ticket-eligibility")
    assert eligibility["eligible"] is True
    assert eligibility["granted"] is True
    assert eligibility["reasons"] == []


@pytest.mark.parametrize(
    ("ticket", "needle"),
    [
        ({"price_cents": 99, "cap": 5}, "ticket.price_cents"),
        ({"price_cents": 99_901, "cap": 5}, "ticket.price_cents"),
        ({"price_cents": 100.5, "cap": 5}, "ticket.price_cents"),
        ({"price_cents": "500", "cap": 5}, "ticket.price_cents"),
        ({"price_cents": 500, "cap": 0}, "ticket.cap"),
        ({"price_cents": 500, "cap": 100_001}, "ticket.cap"),
        ({"price_cents": 500}, "ticket.cap"),
        ({"price_cents": 500, "cap": 5, "currency": "eur"}, "ticket.currency"),
    ],
)
async def test_price_and_cap_out_of_bounds_are_422(
    server: Server, ticket: dict[str, Any], needle: str
) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    when = (server.clock.now() + timedelta(days=1)).isoformat()
    response = await host.call(
        "POST", "/api/spaces", json={"title": "Bad", "scheduled_for": when, "ticket": ticket}
    )
    assert needle in problem(response, 422)["detail"]


async def test_the_price_bounds_themselves_are_accepted(server: Server) -> None:
    admin = await server.person("admin")
    for cents in (100, 99_900):
        host = await seller(server, admin, f"host{cents}")
        assert (await ticketed_space(host, price_cents=cents))["ticket"]["price_cents"] == cents


async def test_a_ticketed_space_must_be_scheduled(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    response = await host.call(
        "POST", "/api/spaces", json={"title": "Now", "ticket": {"price_cents": 500, "cap": 5}}
    )
    assert "scheduled" in problem(response, 422)["detail"]
    assert await host.ok("GET", "/api/spaces") == []


# -- buying -------------------------------------------------------------------------------------


async def test_buying_and_paying_with_the_test_provider(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, price_cents=500, cap=10, title="Q&A <live>"))["id"]
    buyer = await server.person("buyer")

    purchase = await buy(buyer, sid)
    assert purchase["state"] == "held"
    assert purchase["amount_cents"] == 500
    assert purchase["currency"] == "usd"
    assert purchase["ticket"] is False
    assert purchase["checkout_url"] == f"/checkout/test/{purchase['id']}"
    assert await tickets_left(buyer, sid) == 9

    page = await buyer.call("GET", purchase["checkout_url"], status=200)
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    assert "TEST MODE — no real money moves" in html
    assert "Q&amp;A &lt;live&gt;" in html
    assert "$5.00" in html
    assert ">Pay $5.00</button>" in html
    assert ">Decline</button>" in html
    # Only the buyer sees (and pays) their checkout.
    await admin.call("GET", purchase["checkout_url"], status=403)
    await admin.call("POST", f"{purchase['checkout_url']}/complete", status=403)

    await pay(buyer, purchase)
    paid = await purchase_of(buyer, purchase["id"])
    assert paid["state"] == "paid"
    assert paid["ticket"] is True
    assert paid["checkout_url"] is None
    space = await buyer.ok("GET", f"/api/spaces/{sid}")
    assert space["ticket"]["have_ticket"] is True
    assert space["ticket"]["admitted"] is True
    assert space["ticket"]["tickets_left"] == 9
    mine = await buyer.ok("GET", "/api/me/tickets")
    assert [(t["space_id"], t["purchase_id"], t["amount_cents"]) for t in mine] == [
        (sid, purchase["id"], 500)
    ]
    # The page now shows the purchase settled, without buttons.
    page = await buyer.call("GET", purchase["checkout_url"], status=200)
    html = page.text
    assert "paid" in html
    # Styled like the app, under a strict policy: no script, only this page's style by hash.
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "script-src" not in csp
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert "<button" not in html
    async with Books(server) as books:
        assert await books.ledger(purchase["id"]) == [
            ("hold", 500),
            ("provider_event", 0),
            ("payment", 500),
            ("ticket", 500),
            ("fee", 15),
        ]
        assert await books.tickets(sid) == [(buyer.id, purchase["id"])]


async def test_a_purchase_is_only_its_buyers(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host))["id"]
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    problem(await admin.call("GET", f"/api/purchases/{purchase['id']}"), 404)
    problem(await buyer.call("GET", "/api/purchases/nope"), 404)
    async with client(server) as anonymous:
        problem(await anonymous.get(f"/api/purchases/{purchase['id']}"), 401)
        problem(await anonymous.post(f"/api/spaces/{sid}/tickets"), 401)
        problem(await anonymous.get(purchase["checkout_url"]), 401)


async def test_declining_frees_the_seat(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=1))["id"]
    first, second = await server.person("first"), await server.person("second")
    purchase = await buy(first, sid)
    assert (
        "sold out"
        in problem(await second.call("POST", f"/api/spaces/{sid}/tickets"), 409)["detail"]
    )
    await pay(first, purchase, "decline")
    assert (await purchase_of(first, purchase["id"]))["state"] == "declined"
    assert await tickets_left(first, sid) == 1
    assert (await buy(second, sid))["state"] == "held"
    async with Books(server) as books:
        assert await books.ledger(purchase["id"]) == [
            ("hold", 500),
            ("provider_event", 0),
            ("declined", 0),
        ]


async def test_paying_again_issues_no_second_ticket(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=5))["id"]
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    await pay(buyer, purchase)
    await pay(buyer, purchase)
    await asyncio.gather(*(pay(buyer, purchase) for _ in range(5)))
    # A decline reported after the payment changes nothing either.
    await pay(buyer, purchase, "decline")
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "paid"
    assert await tickets_left(buyer, sid) == 4
    async with Books(server) as books:
        assert await books.tickets(sid) == [(buyer.id, purchase["id"])]
        kinds = [kind for kind, _ in await books.ledger(purchase["id"])]
        assert kinds.count("payment") == 1
        assert kinds.count("ticket") == 1
        assert kinds.count("fee") == 1
        assert kinds.count("provider_event") == 2  # "paid" once, "declined" once
    problem(await buyer.call("POST", f"/api/spaces/{sid}/tickets"), 409)


async def test_buying_again_returns_the_purchase_in_progress(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=5))["id"]
    buyer = await server.person("buyer")
    first = await buy(buyer, sid)
    again = await buy(buyer, sid, status=200)
    assert again == first
    assert await tickets_left(buyer, sid) == 4


async def test_who_cannot_buy(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=1))["id"]
    first, second = await server.person("first"), await server.person("second")
    detail = problem(await host.call("POST", f"/api/spaces/{sid}/tickets"), 409)["detail"]
    assert "host" in detail
    await buy_and_pay(first, sid)
    detail = problem(await first.call("POST", f"/api/spaces/{sid}/tickets"), 409)["detail"]
    assert "already have a ticket" in detail
    detail = problem(await second.call("POST", f"/api/spaces/{sid}/tickets"), 409)["detail"]
    assert detail == "sold out: all 1 tickets are taken"
    free = (await second.create_space("Free for all"))["id"]
    assert "free" in problem(await first.call("POST", f"/api/spaces/{free}/tickets"), 409)["detail"]
    problem(await first.call("POST", "/api/spaces/nope/tickets"), 404)


# -- holds expire -------------------------------------------------------------------------------


async def test_a_lapsed_hold_frees_the_seat_and_a_late_payment_is_refunded(
    server: Server,
) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=1))["id"]
    slow, quick = await server.person("slow"), await server.person("quick")
    abandoned = await buy(slow, sid)
    problem(await quick.call("POST", f"/api/spaces/{sid}/tickets"), 409)

    server.clock.advance(HOLD - 10)
    await wait_for_sweeps(server)
    assert (await purchase_of(slow, abandoned["id"]))["state"] == "held"
    server.clock.advance(20)
    await wait_for_sweeps(server)
    assert (await purchase_of(slow, abandoned["id"]))["state"] == "expired"
    assert await tickets_left(slow, sid) == 1

    taken = await buy(quick, sid)
    # The slow buyer's payment arrives now: the seat is held by someone else, so the money
    # goes back and no ticket is issued.
    await pay(slow, abandoned)
    assert (await purchase_of(slow, abandoned["id"]))["state"] in ("refund_pending", "refunded")
    await wait_for_sweeps(server)
    assert (await purchase_of(slow, abandoned["id"]))["state"] == "refunded"
    await pay(quick, taken)
    async with Books(server) as books:
        assert await books.tickets(sid) == [(quick.id, taken["id"])]
        assert await books.ledger(abandoned["id"]) == [
            ("hold", 500),
            ("expired", 0),
            ("provider_event", 0),
            ("payment", 500),
            ("refund_requested", 500),
            ("refund", 500),
        ]


async def test_a_late_payment_gets_a_ticket_when_a_seat_is_still_free(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=1))["id"]
    slow = await server.person("slow")
    purchase = await buy(slow, sid)
    server.clock.advance(HOLD + 1)
    await wait_for_sweeps(server)
    assert (await purchase_of(slow, purchase["id"]))["state"] == "expired"
    await pay(slow, purchase)
    assert (await purchase_of(slow, purchase["id"]))["state"] == "paid"
    assert await tickets_left(slow, sid) == 0


async def test_buying_expires_lapsed_holds_even_before_the_sweeper_does(
    make_server: Any,
) -> None:
    async with make_server(sweep_interval_seconds=3600) as server:
        admin = await server.person("admin")
        host = await seller(server, admin)
        sid = (await ticketed_space(host, cap=1))["id"]
        slow, quick = await server.person("slow"), await server.person("quick")
        abandoned = await buy(slow, sid)
        server.clock.advance(HOLD + 1)
        assert (await buy(quick, sid))["state"] == "held"
        assert (await purchase_of(slow, abandoned["id"]))["state"] == "expired"


# -- cancelling and ending ----------------------------------------------------------------------


async def test_cancelling_refunds_every_ticket_holder(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, price_cents=2_000, cap=3))["id"]
    buyers = [await server.person(f"buyer{i}") for i in range(3)]
    paid = [await buy_and_pay(b, sid) for b in buyers[:2]]
    held = await buy(buyers[2], sid)

    await host.ok("POST", f"/api/spaces/{sid}/cancel")
    await wait_for_sweeps(server)

    for buyer, purchase in zip(buyers, paid, strict=False):
        assert (await purchase_of(buyer, purchase["id"]))["state"] == "refunded"
        assert await buyer.ok("GET", "/api/me/tickets") == []
    assert (await purchase_of(buyers[2], held["id"]))["state"] == "expired"
    async with Books(server) as books:
        assert await books.tickets(sid) == []
        for purchase in paid:
            assert await books.ledger(purchase["id"]) == [
                ("hold", 2_000),
                ("provider_event", 0),
                ("payment", 2_000),
                ("ticket", 2_000),
                ("fee", 60),
                ("ticket_voided", 2_000),
                ("fee_reversal", 60),
                ("refund_requested", 2_000),
                ("refund", 2_000),
            ]
    statement = await host.ok("GET", "/api/me/ticket-statement")
    assert statement["total"] == {
        "tickets_sold": 2,
        "gross_cents": 4_000,
        "refunds": 2,
        "refunded_cents": 4_000,
        "fees_cents": 0,
        "net_cents": 0,
    }
    assert statement["earnings_cents"] == 0
    # A payment for the cancelled space's released hold is refunded, not turned into a ticket.
    await pay(buyers[2], held)
    await wait_for_sweeps(server)
    assert (await purchase_of(buyers[2], held["id"]))["state"] == "refunded"


async def test_no_purchase_for_a_cancelled_or_ended_space(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    buyer = await server.person("buyer")
    cancelled = (await ticketed_space(host))["id"]
    await host.ok("POST", f"/api/spaces/{cancelled}/cancel")
    detail = problem(await buyer.call("POST", f"/api/spaces/{cancelled}/tickets"), 409)["detail"]
    assert "over" in detail

    ended = (await ticketed_space(host))["id"]
    late = await server.person("late")
    pending = await buy(late, ended)
    await host.ok("POST", f"/api/spaces/{ended}/start")
    # Tickets are sold while live too.
    await buy_and_pay(buyer, ended)
    await host.ok("POST", f"/api/spaces/{ended}/end")
    problem(await (await server.person("third")).call("POST", f"/api/spaces/{ended}/tickets"), 409)
    # The hold still open when the space ended was released; paying it now is refunded.
    assert (await purchase_of(late, pending["id"]))["state"] == "expired"
    await pay(late, pending)
    await wait_for_sweeps(server)
    assert (await purchase_of(late, pending["id"]))["state"] == "refunded"
    # The ticket sold while live stays sold.
    assert len(await buyer.ok("GET", "/api/me/tickets")) == 1


# -- the statement ------------------------------------------------------------------------------


async def test_the_hosts_statement(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, price_cents=1_234, cap=5, title="Statement"))["id"]
    for i in range(3):
        await buy_and_pay(await server.person(f"b{i}"), sid)
    await buy(await server.person("pending"), sid)  # held, not sold
    statement = await host.ok("GET", "/api/me/ticket-statement")
    # 3 % of $12.34 is 37.02 ¢ → 37 ¢ per ticket.
    line = {
        "tickets_sold": 3,
        "gross_cents": 3_702,
        "refunds": 0,
        "refunded_cents": 0,
        "fees_cents": 111,
        "net_cents": 3_591,
    }
    assert statement == {
        "currency": "usd",
        "earnings_cents": 3_702,
        "fee_rate_percent": 3,
        "total": line,
        "spaces": [
            {
                "space_id": sid,
                "title": "Statement",
                "state": "scheduled",
                "price_cents": 1_234,
                **line,
            }
        ],
    }
    nobody = await admin.ok("GET", "/api/me/ticket-statement")
    assert nobody["spaces"] == []
    assert nobody["total"]["tickets_sold"] == 0


async def test_the_fee_goes_from_3_to_20_percent_at_50000_dollars_mid_sale(
    server: Server,
) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, price_cents=99_900, cap=60))["id"]
    buyers = [await server.person(f"fan{i}") for i in range(51)]
    for buyer in buyers[:50]:
        await buy_and_pay(buyer, sid)
    before = await host.ok("GET", "/api/me/ticket-statement")
    assert before["earnings_cents"] == 4_995_000
    assert before["total"]["fees_cents"] == 50 * 2_997  # 3 % of $999
    assert before["fee_rate_percent"] == 3
    crossing = await buy_and_pay(buyers[50], sid)
    after = await host.ok("GET", "/api/me/ticket-statement")
    # The 51st sale: $50.00 at 3 % (150 ¢) and $949.00 at 20 % (18,980 ¢).
    assert after["total"]["fees_cents"] == 50 * 2_997 + 150 + 18_980
    assert after["total"]["net_cents"] == 51 * 99_900 - after["total"]["fees_cents"]
    assert after["fee_rate_percent"] == 20
    async with Books(server) as books:
        assert ("fee", 19_130) in await books.ledger(crossing["id"])


# -- who may enter ------------------------------------------------------------------------------

OFFER = {"Content-Type": "application/sdp"}


async def _close_code(ws: ClientConnection) -> int:
    try:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006


async def _events_close(server: Server, sid: str, person: Person | None) -> int:
    headers = {"Cookie": person.cookie_header} if person else {}
    async with websockets.connect(
        f"{server.ws_url}/api/spaces/{sid}/events", additional_headers=headers
    ) as ws:
        return await _close_code(ws)


async def test_without_a_ticket_the_room_its_events_and_its_audio_are_closed(
    server: Server,
) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=5))["id"]
    holder, outsider, guest = (
        await server.person("holder"),
        await server.person("outsider"),
        await server.person("guest"),
    )
    await buy_and_pay(holder, sid)
    await host.ok("POST", f"/api/spaces/{sid}/start")
    whip = f"/api/spaces/{sid}/whip"
    hls = f"/api/spaces/{sid}/hls/live.m3u8"

    # Someone without a ticket: refused everywhere, with a reason.
    assert (
        "ticket" in problem(await outsider.call("POST", f"/api/spaces/{sid}/join"), 403)["detail"]
    )
    problem(await outsider.call("GET", f"/api/spaces/{sid}/listen"), 403)
    assert await _events_close(server, sid, outsider) == 4403
    # WHIP: refused before the offer is even read (a bad SDP body does not matter).
    problem(await outsider.call("POST", whip, content="v=0", headers=OFFER), 403)
    problem(await outsider.call("POST", whip, content="not sdp at all", headers=OFFER), 403)
    # LL-HLS: the plain path, a forged credential, or one for another space.
    problem(await outsider.call("GET", hls), 403)
    forged = f"/api/spaces/{sid}/hls/9999999999.AAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA/live.m3u8"
    problem(await outsider.call("GET", forged), 403)
    other_host = await seller(server, admin, "other")
    other = (await ticketed_space(other_host, title="Elsewhere"))["id"]
    await buy_and_pay(outsider, other)
    await other_host.ok("POST", f"/api/spaces/{other}/start")
    foreign = (await outsider.ok("GET", f"/api/spaces/{other}/listen"))["credential"]
    problem(await outsider.call("GET", f"/api/spaces/{sid}/hls/{foreign}/live.m3u8"), 403)
    problem(await outsider.call("GET", f"/api/spaces/{sid}/hls/init.mp4"), 403)
    async with client(server) as anonymous:
        problem(await anonymous.get(f"/api/spaces/{sid}/listen"), 403)
        problem(await anonymous.get(hls), 403)
        problem(await anonymous.post(whip, content="v=0", headers=OFFER), 401)
    assert await _events_close(server, sid, None) == 4403
    # The refusals changed nothing.
    assert (await host.ok("GET", f"/api/spaces/{sid}"))["audience_count"] == 0

    # The ticket holder gets in, hears the space, and follows its events.
    assert (await holder.join(sid))["role"] == "listener"
    access = await holder.ok("GET", f"/api/spaces/{sid}/listen")
    assert access["playlist_url"] == f"/api/spaces/{sid}/hls/{access['credential']}/live.m3u8"
    playlist = await holder.call("GET", access["playlist_url"], status=200)
    assert playlist.text.startswith("#EXTM3U")
    async with holder.events(sid) as stream:
        assert stream.snapshot["space"]["ticket"]["have_ticket"] is True
    # ... but a listener does not speak.
    problem(await holder.call("POST", whip, content="v=0", headers=OFFER), 403)

    # The host is in without a ticket.
    await host.ok("GET", f"/api/spaces/{sid}/listen")
    async with host.events(sid) as stream:
        assert stream.snapshot["space"]["ticket"]["admitted"] is True

    # An invited speaker needs no ticket: invited before joining, then in, then on stage.
    invitation = await host.ok("POST", f"/api/spaces/{sid}/participants/{guest.id}/invite")
    assert invitation["invited"] is True
    assert (await guest.ok("GET", f"/api/spaces/{sid}"))["ticket"]["admitted"] is True
    await guest.join(sid)
    await guest.ok("GET", f"/api/spaces/{sid}/listen")
    assert (await guest.ok("POST", f"/api/spaces/{sid}/invitation/accept"))["role"] == "speaker"
    # Past admission, the offer itself is judged (and this one is not SDP).
    problem(await guest.call("POST", whip, content="v=0", headers=OFFER), 422)
    async with guest.events(sid) as stream:
        assert stream.snapshot["space"]["me"]["role"] == "speaker"
    # Only moderators invite; a listener inviting is still refused.
    problem(await holder.call("POST", f"/api/spaces/{sid}/participants/{outsider.id}/invite"), 403)
    problem(await outsider.call("POST", f"/api/spaces/{sid}/join"), 403)


async def test_a_co_host_keeps_access_after_stepping_down(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=5))["id"]
    helper = await server.person("helper")
    await host.ok("POST", f"/api/spaces/{sid}/start")
    await host.ok("POST", f"/api/spaces/{sid}/participants/{helper.id}/invite")
    await helper.join(sid)
    await host.ok("PUT", f"/api/spaces/{sid}/cohosts/{helper.id}")
    await helper.ok("POST", f"/api/spaces/{sid}/stage/leave")
    await helper.ok("POST", f"/api/spaces/{sid}/leave")
    assert (await helper.join(sid))["role"] == "listener"
    await helper.ok("GET", f"/api/spaces/{sid}/listen")


async def test_the_checkout_page_is_same_origin_only(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host))["id"]
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    response = await buyer.call(
        "POST",
        f"{purchase['checkout_url']}/complete",
        headers={"Origin": "https://evil.example"},
    )
    problem(response, 403)
    assert (await purchase_of(buyer, purchase["id"]))["state"] == "held"
    # The browser's own origin passes.
    same = await buyer.http.post(
        f"{purchase['checkout_url']}/complete", headers={"Origin": server.url}
    )
    assert same.status_code == 303
    assert isinstance(same, httpx.Response)


async def test_the_host_sees_tickets_left_change_live(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=3))["id"]
    buyer = await server.person("buyer")
    async with host.events(sid) as stream:
        assert stream.snapshot["space"]["ticket"]["tickets_left"] == 3
        purchase = await buy(buyer, sid)
        assert (await stream.next("tickets_left"))["tickets_left"] == 2
        await pay(buyer, purchase, "decline")
        assert (await stream.next("tickets_left"))["tickets_left"] == 3
