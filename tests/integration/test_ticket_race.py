"""The ticket cap holds under concurrency: buyers racing for the last tickets, and payments
racing for the last seat, never get more tickets than the cap.

On PostgreSQL this is the space's row lock at work (SELECT ... FOR UPDATE); on SQLite, the
database write lock. Both run; PostgreSQL is the one with real concurrent transactions.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.harness import Server, wait_for_sweeps
from tests.integration.ticketing import (
    Books,
    buy,
    buy_and_pay,
    pay,
    seller,
    ticketed_space,
    tickets_left,
)

RACERS = 20


async def test_racing_buyers_get_the_last_ticket_exactly_once(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=3))["id"]
    for i in range(2):
        await buy_and_pay(await server.person(f"early{i}"), sid)
    racers = [await server.person(f"racer{i}") for i in range(RACERS)]

    responses = await asyncio.gather(
        *(r.call("POST", f"/api/spaces/{sid}/tickets") for r in racers)
    )

    assert Counter(r.status_code for r in responses) == {201: 1, 409: RACERS - 1}
    refused = [r.json()["detail"] for r in responses if r.status_code == 409]
    assert set(refused) == {"sold out: all 3 tickets are taken"}
    assert await tickets_left(host, sid) == 0
    async with Books(server) as books:
        assert Counter((await books.states(sid)).values()) == {"paid": 2, "held": 1}


async def test_racing_buyers_fill_every_seat_and_no_more(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=5))["id"]
    racers = [await server.person(f"racer{i}") for i in range(RACERS)]

    responses = await asyncio.gather(
        *(r.call("POST", f"/api/spaces/{sid}/tickets") for r in racers)
    )
    assert Counter(r.status_code for r in responses) == {201: 5, 409: RACERS - 5}

    # Every winner pays at once: five tickets, no more.
    winners = [
        (racer, response.json())
        for racer, response in zip(racers, responses, strict=True)
        if response.status_code == 201
    ]
    await asyncio.gather(*(pay(racer, purchase) for racer, purchase in winners))
    async with Books(server) as books:
        assert len(await books.tickets(sid)) == 5
    assert await tickets_left(host, sid) == 0


async def test_late_payments_racing_for_one_free_seat_issue_one_ticket(server: Server) -> None:
    """Twenty buyers each started and declined a purchase, so none holds the one seat; then
    all twenty payments succeed at once (late payments): one ticket, nineteen refunds."""
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=1))["id"]
    racers = [await server.person(f"late{i}") for i in range(RACERS)]
    purchases = []
    for racer in racers:
        purchase = await buy(racer, sid)
        await pay(racer, purchase, "decline")
        purchases.append(purchase)

    await asyncio.gather(
        *(pay(racer, purchase) for racer, purchase in zip(racers, purchases, strict=True))
    )
    await wait_for_sweeps(server)

    async with Books(server) as books:
        assert len(await books.tickets(sid)) == 1
        assert Counter((await books.states(sid)).values()) == {
            "paid": 1,
            "refunded": RACERS - 1,
        }
    assert await tickets_left(host, sid) == 0


async def test_buyers_and_payments_racing_together_never_pass_the_cap(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    sid = (await ticketed_space(host, cap=4))["id"]
    first = [await server.person(f"first{i}") for i in range(4)]
    held = [await buy(person, sid) for person in first]
    # Two of the holders decline: two seats free up while newcomers race for them and the
    # other two holders pay.
    await asyncio.gather(*(pay(p, h, "decline") for p, h in zip(first[:2], held[:2], strict=True)))
    newcomers = [await server.person(f"new{i}") for i in range(RACERS)]

    async def newcomer(person_index: int) -> int:
        person = newcomers[person_index]
        response = await person.call("POST", f"/api/spaces/{sid}/tickets")
        if response.status_code == 201:
            await pay(person, response.json())
        return response.status_code

    statuses, _ = await asyncio.gather(
        asyncio.gather(*(newcomer(i) for i in range(RACERS))),
        asyncio.gather(*(pay(p, h) for p, h in zip(first[2:], held[2:], strict=True))),
    )
    assert Counter(statuses) == {201: 2, 409: RACERS - 2}
    async with Books(server) as books:
        assert len(await books.tickets(sid)) == 4
