"""The bell: each kind reaches the people it is for, exactly once, on SQLite and PostgreSQL.

Fan-outs run after the commit on the server's own worker, so a test waits for the bell with
the long-poll the web app uses (``/api/me/notifications/wait``), never by sleeping.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from salon.config import Settings
from salon.services import notifications as notification_service
from salon.store.db import create_engine
from salon.store.models import NotificationFanout
from tests.harness import (
    FAST_HASHING,
    PASSWORD,
    OffsetClock,
    Person,
    Server,
    problem,
    throwaway_database,
)
from tests.integration.ticketing import buy_and_pay, seller, ticketed_space


async def bell(person: Person) -> dict[str, Any]:
    page: dict[str, Any] = await person.ok("GET", "/api/me/notifications")
    return page


async def told(person: Person, count: int, *, after: int = 0) -> list[dict[str, Any]]:
    """Wait until ``person`` has ``count`` notifications newer than ``after``; newest first."""
    async with asyncio.timeout(20):
        while True:
            page = await person.ok(
                "GET", "/api/me/notifications/wait", params={"after": after, "timeout": 5}
            )
            items: list[dict[str, Any]] = (await bell(person))["items"]
            newer = [i for i in items if i["id"] > after]
            if len(newer) >= count:
                assert page["unread"] >= 0
                return newer


async def follow(person: Person, host: Person) -> None:
    await person.ok("PUT", f"/api/users/{host.handle}/follow")


async def scheduled(host: Person, title: str = "Tomorrow") -> dict[str, Any]:
    when = host.server.clock.now() + timedelta(days=1)
    return await host.create_space(title, scheduled_for=when.isoformat())


async def test_going_live_tells_reminders_and_followers_once_each(server: Server) -> None:
    host = await server.person("host", display_name="Hosting Hana")
    both, fan, reminded, muted_fan, quiet, stranger = [
        await server.person(name)
        for name in ("both", "fan", "reminded", "mutedfan", "quiet", "stranger")
    ]
    for person in (both, fan, muted_fan, quiet):
        await follow(person, host)
    space = await scheduled(host, "Launch day")
    for person in (both, reminded):
        await person.ok("PUT", f"/api/spaces/{space['id']}/reminder")
    # One host turned off for one follower; all hosts turned off for another.
    assert await muted_fan.ok(
        "PATCH", f"/api/users/{host.handle}/follow", json={"notify": False}
    ) == {"notify": False}
    assert (await muted_fan.ok("GET", f"/api/users/{host.handle}"))["live_notifications"] is False
    assert (await quiet.ok("PATCH", "/api/me", json={"notify_live": False}))["notify_live"] is False

    await host.ok("POST", f"/api/spaces/{space['id']}/start")

    [for_both] = await told(both, 1)
    assert for_both["kind"] == "space_started"  # a reminder and a follow: told once
    assert {k: for_both["space"][k] for k in ("id", "title", "state")} == {
        "id": space["id"],
        "title": "Launch day",
        "state": "live",
    }
    assert for_both["read"] is False
    [for_fan] = await told(fan, 1)
    assert (for_fan["kind"], for_fan["actor"]["handle"]) == ("host_live", "host")
    [for_reminded] = await told(reminded, 1)
    assert for_reminded["kind"] == "space_started"
    # The fan-out is done once everyone it tells has been told; then nobody else has anything.
    await _fanouts_done(server)
    for person in (muted_fan, quiet, stranger, host):
        assert (await bell(person))["items"] == [], person.handle
    assert [i["id"] for i in (await bell(both))["items"]] == [for_both["id"]]


async def test_cancelling_and_moving_tell_who_set_a_reminder(server: Server) -> None:
    host = await server.person("host")
    reminded = await server.person("reminded")
    space = await scheduled(host)
    await reminded.ok("PUT", f"/api/spaces/{space['id']}/reminder")
    later = server.clock.now() + timedelta(days=2)
    moved = await host.ok(
        "POST", f"/api/spaces/{space['id']}/reschedule", json={"scheduled_for": later.isoformat()}
    )
    assert moved["scheduled_for"] != space["scheduled_for"]
    [rescheduled] = await told(reminded, 1)
    assert rescheduled["kind"] == "space_rescheduled"
    assert rescheduled["space"]["scheduled_for"] == moved["scheduled_for"]
    # Moving it to the same time again tells nobody; a stranger may not move it at all.
    await host.ok(
        "POST", f"/api/spaces/{space['id']}/reschedule", json={"scheduled_for": later.isoformat()}
    )
    refused = await reminded.call(
        "POST", f"/api/spaces/{space['id']}/reschedule", json={"scheduled_for": later.isoformat()}
    )
    problem(refused, 403)
    past = await host.call(
        "POST",
        f"/api/spaces/{space['id']}/reschedule",
        json={"scheduled_for": (server.clock.now() - timedelta(hours=1)).isoformat()},
    )
    assert "future" in problem(past, 422)["detail"]

    await host.ok("POST", f"/api/spaces/{space['id']}/cancel")
    [cancelled] = await told(reminded, 1, after=rescheduled["id"])
    assert (cancelled["kind"], cancelled["space"]["state"]) == ("space_cancelled", "cancelled")
    await _fanouts_done(server)
    assert len((await bell(reminded))["items"]) == 2


async def test_an_invitation_to_speak_is_told_to_the_invitee(server: Server) -> None:
    host = await server.person("host")
    guest = await server.person("guest")
    space = await host.create_space("Live now")
    await guest.join(space["id"])
    await host.ok("POST", f"/api/spaces/{space['id']}/participants/{guest.id}/invite")
    [invited] = (await bell(guest))["items"]  # written with the invitation itself
    assert (invited["kind"], invited["actor"]["id"]) == ("invited_to_speak", host.id)
    # Inviting again while the invitation stands tells nobody twice.
    await host.ok("POST", f"/api/spaces/{space['id']}/participants/{guest.id}/invite")
    assert len((await bell(guest))["items"]) == 1


async def test_tickets_tell_the_buyer_and_the_host_grouped(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    ada, bo = await server.person("ada"), await server.person("bo")
    space = await ticketed_space(host, title="Paid talk")
    await ada.ok("PUT", f"/api/spaces/{space['id']}/reminder")
    await buy_and_pay(ada, space["id"])
    [bought] = (await bell(ada))["items"]
    assert (bought["kind"], bought["space"]["title"]) == ("ticket_bought", "Paid talk")
    await buy_and_pay(bo, space["id"])
    sales = (await bell(host))["items"]
    assert [(s["kind"], s["count"]) for s in sales] == [("tickets_sold", 2)]  # one line, grouped
    assert (await bell(host))["unread"] == 1
    # Read, the next sale starts a new line.
    await host.ok("POST", "/api/me/notifications/read", json={"up_to": sales[0]["id"]})
    await buy_and_pay(await server.person("cy"), space["id"])
    assert [(s["kind"], s["count"], s["read"]) for s in (await bell(host))["items"]] == [
        ("tickets_sold", 1, False),
        ("tickets_sold", 2, True),
    ]

    await host.ok("POST", f"/api/spaces/{space['id']}/cancel")
    # A ticket holder who also set a reminder hears about the ticket (once), then the refund
    # the sweeper makes.
    after_cancel = await told(ada, 2, after=bought["id"])
    assert sorted(n["kind"] for n in after_cancel) == ["ticket_refunded", "ticket_space_cancelled"]
    await _fanouts_done(server)
    assert len((await bell(ada))["items"]) == 3


async def test_the_long_poll_answers_when_something_arrives(server: Server) -> None:
    host = await server.person("host")
    fan = await server.person("fan")
    await follow(fan, host)
    empty = await fan.ok("GET", "/api/me/notifications/wait", params={"after": 0, "timeout": 0})
    assert empty == {"items": [], "unread": 0, "latest_id": None}
    waiting = asyncio.create_task(
        fan.ok("GET", "/api/me/notifications/wait", params={"after": 0, "timeout": 25})
    )
    await asyncio.sleep(0)
    assert not waiting.done()
    await host.create_space("Now")
    page = await asyncio.wait_for(waiting, timeout=20)
    assert [n["kind"] for n in page["items"]] == ["host_live"]
    assert page["unread"] == 1
    assert page["latest_id"] == page["items"][0]["id"]
    assert await fan.ok("POST", "/api/me/notifications/read", json={"up_to": 0}) == {"unread": 1}
    assert await fan.ok(
        "POST", "/api/me/notifications/read", json={"up_to": page["latest_id"]}
    ) == {"unread": 0}


async def test_bad_input_and_strangers_are_refused(server: Server) -> None:
    host = await server.person("host")
    other = await server.person("other")
    anonymous = await server.person("anon")
    await anonymous.ok("DELETE", "/api/session")
    problem(await anonymous.call("GET", "/api/me/notifications"), 401)
    problem(await anonymous.call("GET", "/api/me/notifications/wait?after=0"), 401)
    problem(await anonymous.call("POST", "/api/me/notifications/read", json={"up_to": 1}), 401)
    problem(await host.call("GET", "/api/me/notifications/wait?after=0&timeout=31"), 422)
    problem(await host.call("GET", "/api/me/notifications?limit=51"), 422)
    problem(await host.call("POST", "/api/me/notifications/read", json={"up_to": -1}), 422)
    problem(await host.call("POST", "/api/me/notifications/read", json={"up_to": "x"}), 422)
    not_following = await other.call(
        "PATCH", f"/api/users/{host.handle}/follow", json={"notify": False}
    )
    assert "do not follow" in problem(not_following, 404)["detail"]
    problem(await other.call("PATCH", "/api/users/host/follow", json={"notify": "no"}), 422)
    # One person's read marks never touch another's bell.
    await follow(other, host)
    await host.create_space("Now")
    [mine] = await told(other, 1)
    await host.ok("POST", "/api/me/notifications/read", json={"up_to": mine["id"]})
    assert (await bell(other))["unread"] == 1


async def test_a_fan_out_interrupted_by_a_restart_resumes_and_tells_nobody_twice(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three followers a batch; the node stops after the first batch that told someone (its
    worker fails from then on), a new node on the same database takes the fan-out over once the first
    one's claim lapses, and every follower is told exactly once."""
    monkeypatch.setattr(notification_service, "FANOUT_BATCH", 3)
    real_batch = notification_service._one_batch
    batches = 0
    stopped = False

    async def failing_after_one(*args: Any) -> int | None:
        """The real batch until one has told someone; then the node "stops"."""
        nonlocal batches, stopped
        if stopped:
            raise RuntimeError("the node stopped")
        batches += 1
        result = await real_batch(*args)
        stopped = bool(result)
        return result

    async with throwaway_database(backend, str(tmp_path)) as url:
        values: dict[str, Any] = {
            "database_url": url,
            "var_dir": tmp_path / "var",
            "host_min_followers": 0,
            "sweep_interval_seconds": 0.05,
            **FAST_HASHING,
        }
        clock = OffsetClock()
        monkeypatch.setattr(notification_service, "_one_batch", failing_after_one)
        async with Server(Settings(**values), clock) as first:
            host = await first.person("host")
            fans = [await first.person(f"fan{n}") for n in range(7)]
            for fan in fans:
                await follow(fan, host)
            await host.create_space("Interrupted")
            await told(fans[0], 1)  # the first batch: fans 0-2
            handles = (host.handle, [f.handle for f in fans])
            for person in (host, *fans):
                await person.close()
        assert stopped
        monkeypatch.setattr(notification_service, "_one_batch", real_batch)
        clock.advance(31)  # the stopped node's claim on the fan-out lapses
        async with Server(Settings(**values), clock) as second:
            fans = [await _sign_in(second, handle) for handle in handles[1]]
            for fan in fans:
                [notification] = await told(fan, 1)
                assert notification["kind"] == "host_live"
            await _fanouts_done(second)
            for fan in fans:
                assert len((await bell(fan))["items"]) == 1


async def _sign_in(server: Server, handle: str) -> Person:
    http = httpx.AsyncClient(base_url=server.url, timeout=30)
    response = await http.post("/api/session", json={"handle": handle, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return Person(server, http, (await http.get("/api/me")).json())


async def _fanouts_done(server: Server) -> None:
    """Wait until the server has no fan-out left to work on."""
    engine = create_engine(server.settings.database_url)
    try:
        async with asyncio.timeout(20):
            while True:
                async with engine.connect() as conn:
                    left = await conn.scalar(
                        select(func.count())
                        .select_from(NotificationFanout)
                        .where(NotificationFanout.done_at.is_(None))
                    )
                if not left:
                    return
                await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
