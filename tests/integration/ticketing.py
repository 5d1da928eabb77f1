"""Helpers shared by the ticket tests: a seller, a ticketed space, buying, the ledger."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from salon.store.db import create_engine
from salon.store.models import LedgerEntry, Purchase, Ticket
from tests.harness import Person, Server


async def seller(server: Server, admin: Person, handle: str = "seller") -> Person:
    """An account an admin granted ticket selling."""
    host = await server.person(handle)
    await admin.ok("PATCH", f"/api/admin/users/{handle}", json={"can_sell_tickets": True})
    return host


async def ticketed_space(
    host: Person, *, price_cents: int = 500, cap: int = 10, title: str = "Ticketed"
) -> dict[str, Any]:
    when = host.server.clock.now() + timedelta(days=1)
    return await host.create_space(
        title,
        scheduled_for=when.isoformat(),
        ticket={"price_cents": price_cents, "cap": cap},
    )


async def buy(person: Person, space_id: str, status: int = 201) -> dict[str, Any]:
    response = await person.call("POST", f"/api/spaces/{space_id}/tickets", status=status)
    purchase: dict[str, Any] = response.json()
    return purchase


async def pay(person: Person, purchase: dict[str, Any], outcome: str = "complete") -> None:
    """Press Pay (or Decline) on the test provider's checkout page."""
    response = await person.call("POST", f"{purchase['checkout_url']}/{outcome}")
    assert response.status_code == 303, response.text
    expected = f"/spaces/{purchase['space_id']}?purchase={purchase['id']}"
    assert response.headers["location"] == expected


async def buy_and_pay(person: Person, space_id: str) -> dict[str, Any]:
    purchase = await buy(person, space_id)
    await pay(person, purchase)
    return await purchase_of(person, purchase["id"])


async def purchase_of(person: Person, purchase_id: str) -> dict[str, Any]:
    purchase: dict[str, Any] = await person.ok("GET", f"/api/purchases/{purchase_id}")
    return purchase


async def tickets_left(person: Person, space_id: str) -> int:
    space = await person.ok("GET", f"/api/spaces/{space_id}")
    return int(space["ticket"]["tickets_left"])


class Books:
    """The server's database, read directly: the ledger, purchases and tickets."""

    def __init__(self, server: Server) -> None:
        self.engine = create_engine(server.settings.database_url)

    async def __aenter__(self) -> Books:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.engine.dispose()

    async def ledger(self, purchase_id: str | None = None) -> list[tuple[str, int]]:
        """(kind, amount) rows, oldest first."""
        query = select(LedgerEntry.kind, LedgerEntry.amount_cents).order_by(LedgerEntry.id)
        if purchase_id is not None:
            query = query.where(LedgerEntry.purchase_id == purchase_id)
        async with self.engine.connect() as conn:
            return [(str(kind), int(amount)) for kind, amount in (await conn.execute(query))]

    async def events(self) -> list[str]:
        query = (
            select(LedgerEntry.provider_event_id)
            .where(LedgerEntry.provider_event_id.is_not(None))
            .order_by(LedgerEntry.id)
        )
        async with self.engine.connect() as conn:
            return [str(row[0]) for row in await conn.execute(query)]

    async def tickets(self, space_id: str) -> list[tuple[int, str]]:
        """(buyer, purchase) of every valid ticket."""
        query = select(Ticket.buyer_id, Ticket.purchase_id).where(Ticket.space_id == space_id)
        async with self.engine.connect() as conn:
            return sorted((int(b), str(p)) for b, p in await conn.execute(query))

    async def states(self, space_id: str) -> dict[str, str]:
        query = select(Purchase.id, Purchase.state).where(Purchase.space_id == space_id)
        async with self.engine.connect() as conn:
            return {str(pid): str(state) for pid, state in await conn.execute(query)}
