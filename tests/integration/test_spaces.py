"""Spaces: create now or scheduled, the hosting rule, start/end/cancel, discovery, reminders,
joining and leaving."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.harness import Person, Server, client


def at(server: Server, **delta: float) -> datetime:
    """A moment relative to the server's clock."""
    return server.clock.now() + timedelta(**delta)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def get_space(viewer: Person, space_id: str) -> dict[str, Any]:
    space: dict[str, Any] = await viewer.ok("GET", f"/api/spaces/{space_id}")
    return space


async def list_ids(viewer: Person, state: str = "live") -> list[str]:
    spaces: list[dict[str, Any]] = await viewer.ok("GET", f"/api/spaces?state={state}")
    return [s["id"] for s in spaces]


async def schedule(person: Person, title: str = "Later", **delta: float) -> dict[str, Any]:
    return await person.create_space(
        title, scheduled_for=iso(at(person.server, **(delta or {"days": 1})))
    )


# -- creating -------------------------------------------------------------------------------


async def test_create_now_is_live_with_the_host_on_stage(server: Server) -> None:
    host = await server.person("host")
    response = await host.call(
        "POST", "/api/spaces", status=201, json={"title": "  Hello world  ", "topics": ["tech"]}
    )
    space = response.json()
    assert space["title"] == "Hello world"
    assert space["topics"] == ["tech"]
    assert space["state"] == "live"
    assert space["host"]["id"] == host.id
    assert space["host"]["handle"] == "host"
    assert space["recording"] is False
    assert space["scheduled_for"] is None
    assert space["started_at"] is not None
    assert space["ended_at"] is None
    assert space["audience_count"] == 0
    assert len(space["stage"]) == 1
    assert space["stage"][0]["user"]["id"] == host.id
    assert space["stage"][0]["role"] == "host"
    assert space["stage"][0]["present"] is True
    assert space["me"]["role"] == "host"
    assert space["reminder_set"] is False
    assert await get_space(host, space["id"]) == space
    assert await list_ids(host) == [space["id"]]


async def test_create_scheduled(server: Server) -> None:
    host = await server.person("host")
    when = at(server, days=3)
    space = await host.create_space("Later", scheduled_for=iso(when), recording=True)
    assert space["state"] == "scheduled"
    assert parse(space["scheduled_for"]) == when
    assert space["started_at"] is None
    assert space["recording"] is True
    assert space["audience_count"] == 0
    assert [p["role"] for p in space["stage"]] == ["host"]
    assert await list_ids(host) == []
    assert await list_ids(host, "scheduled") == [space["id"]]


async def test_schedule_with_an_offset_keeps_the_instant(server: Server) -> None:
    host = await server.person("host")
    when = at(server, hours=30).astimezone(timezone(timedelta(hours=-5)))
    space = await host.create_space("Offset", scheduled_for=iso(when))
    assert parse(space["scheduled_for"]) == when
    assert parse((await get_space(host, space["id"]))["scheduled_for"]) == when


async def test_schedule_up_to_the_limit(server: Server) -> None:
    host = await server.person("host")
    space = await schedule(host, days=14, minutes=-1)
    assert space["state"] == "scheduled"


@pytest.mark.parametrize(
    ("delta", "needle"),
    [
        ({"minutes": -1}, "future"),
        ({"days": -3}, "future"),
        ({"days": 14, "minutes": 1}, "14 days"),
        ({"days": 30}, "14 days"),
    ],
)
async def test_schedule_out_of_range_is_422(
    server: Server, delta: dict[str, float], needle: str
) -> None:
    host = await server.person("host")
    response = await host.call(
        "POST",
        "/api/spaces",
        status=422,
        json={"title": "Bad time", "scheduled_for": iso(at(server, **delta))},
    )
    assert needle in response.json()["detail"]
    assert await list_ids(host, "scheduled") == []
    assert await list_ids(host) == []


async def test_schedule_naive_or_malformed_datetime_is_422(server: Server) -> None:
    host = await server.person("host")
    naive = at(server, days=1).replace(tzinfo=None).isoformat()
    response = await host.call(
        "POST", "/api/spaces", status=422, json={"title": "Naive", "scheduled_for": naive}
    )
    assert "scheduled_for" in response.json()["detail"]
    for bad in ("tomorrow", "", 12):
        await host.call(
            "POST", "/api/spaces", status=422, json={"title": "Bad", "scheduled_for": bad}
        )
    assert await list_ids(host, "scheduled") == []
    assert await list_ids(host) == []


async def test_schedule_limit_is_configurable(make_server: ServerFactory) -> None:
    async with make_server(schedule_max_days=2) as server:
        host = await server.person("host")
        response = await host.call(
            "POST",
            "/api/spaces",
            status=422,
            json={"title": "Far", "scheduled_for": iso(at(server, days=3))},
        )
        assert "2 days" in response.json()["detail"]
        assert (await schedule(host, days=1))["state"] == "scheduled"


async def test_one_scheduled_space_per_host(server: Server) -> None:
    host = await server.person("host")
    other = await server.person("other")
    first = await schedule(host, days=1)
    response = await host.call(
        "POST",
        "/api/spaces",
        status=409,
        json={"title": "Second", "scheduled_for": iso(at(server, days=2))},
    )
    assert "scheduled" in response.json()["detail"]
    assert await list_ids(host, "scheduled") == [first["id"]]
    # Another host may schedule; and this host may still go live now.
    assert (await schedule(other, days=2))["state"] == "scheduled"
    assert (await host.create_space("Live now"))["state"] == "live"
    # Once the scheduled one is cancelled, a new one may be scheduled.
    await host.ok("POST", f"/api/spaces/{first['id']}/cancel")
    assert (await schedule(host, days=3))["state"] == "scheduled"


async def test_one_live_space_per_host(server: Server) -> None:
    host = await server.person("host")
    first = await host.create_space("First")
    response = await host.call("POST", "/api/spaces", status=409, json={"title": "Second"})
    assert "live" in response.json()["detail"]
    assert await list_ids(host) == [first["id"]]
    # Starting a scheduled one while live is refused the same way.
    later = await schedule(host, days=1)
    await host.call("POST", f"/api/spaces/{later['id']}/start", status=409)
    assert (await get_space(host, later["id"]))["state"] == "scheduled"
    # After ending, going live again is fine.
    await host.ok("POST", f"/api/spaces/{first['id']}/end")
    second = await host.create_space("Second")
    assert await list_ids(host) == [second["id"]]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "t" * 71}, "title"),
        ({"title": "nul\x00"}, "title"),
        ({"title": "ok", "topics": ["a", "b", "c", "d"]}, "topics"),
        ({"title": "ok", "topics": [""]}, "topics"),
        ({"title": "ok", "topics": ["   "]}, "topic"),
        ({"title": "ok", "topics": ["x" * 31]}, "a topic is 1 to 30"),
        ({"title": "ok", "topics": "tech"}, "topics"),
        ({"title": "ok", "topics": ["bell\x07"]}, "topics"),
        ({"title": "ok", "host_id": 1}, "host_id"),
        ({}, "title"),
    ],
)
async def test_title_and_topics_validation(
    server: Server, body: dict[str, Any], needle: str
) -> None:
    host = await server.person("host")
    response = await host.call("POST", "/api/spaces", status=422, json=body)
    assert needle in response.json()["detail"], response.text
    assert await list_ids(host) == []


async def test_title_and_topics_limits_accepted(server: Server) -> None:
    host = await server.person("host")
    space = await host.create_space("t" * 70, topics=["One", "two", "x" * 30])
    assert space["title"] == "t" * 70
    assert space["topics"] == ["One", "two", "x" * 30]
    await host.ok("POST", f"/api/spaces/{space['id']}/end")
    # Topics are trimmed and de-duplicated regardless of case.
    space = await host.create_space("Dupes", topics=[" Music ", "music", "MUSIC"])
    assert space["topics"] == ["Music"]


async def test_anonymous_cannot_create(server: Server) -> None:
    host = await server.person("host")
    async with client(server) as http:
        response = await http.post("/api/spaces", json={"title": "anon"})
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    assert await list_ids(host) == []


# -- the follower rule ----------------------------------------------------------------------


async def test_hosting_needs_followers_admins_exempt(make_server: ServerFactory) -> None:
    async with make_server(host_min_followers=2) as server:
        admin = await server.person("admin")
        alice = await server.person("alice")
        bob = await server.person("bob")
        carol = await server.person("carol")

        response = await alice.call("POST", "/api/spaces", status=403, json={"title": "Mine"})
        detail = response.json()["detail"]
        assert "2 followers" in detail
        assert "you have 0" in detail
        when = iso(at(server, days=1))
        await alice.call(
            "POST", "/api/spaces", status=403, json={"title": "Later", "scheduled_for": when}
        )

        await bob.call("PUT", "/api/users/alice/follow", status=204)
        response = await alice.call("POST", "/api/spaces", status=403, json={"title": "Mine"})
        assert "2 followers" in response.json()["detail"]
        assert "you have 1" in response.json()["detail"]
        assert await list_ids(admin) == []
        assert await list_ids(admin, "scheduled") == []

        await carol.call("PUT", "/api/users/alice/follow", status=204)
        live = await alice.create_space("Mine")
        assert live["state"] == "live"
        later = await alice.create_space("Later", scheduled_for=when)
        assert later["state"] == "scheduled"

        # The admin has no followers and may host anyway.
        assert (await admin.ok("GET", "/api/me"))["followers_count"] == 0
        assert (await admin.create_space("Admin's"))["state"] == "live"
        # Following yourself is no way around the rule.
        await bob.call("PUT", "/api/users/bob/follow", status=422)
        await bob.call("POST", "/api/spaces", status=403, json={"title": "Bob's"})


# -- start, end, cancel ---------------------------------------------------------------------


async def test_start_only_by_the_host(server: Server) -> None:
    host = await server.person("host")
    other = await server.person("other")
    space = await schedule(host, days=1)
    response = await other.call("POST", f"/api/spaces/{space['id']}/start", status=403)
    assert "host" in response.json()["detail"]
    assert (await get_space(host, space["id"]))["state"] == "scheduled"

    started = await host.ok("POST", f"/api/spaces/{space['id']}/start")
    assert started["state"] == "live"
    assert started["started_at"] is not None
    assert started["audience_count"] == 0
    assert started["stage"][0]["user"]["id"] == host.id
    assert started["stage"][0]["present"] is True
    assert await list_ids(other) == [space["id"]]
    assert await list_ids(other, "scheduled") == []
    # A live space cannot be started again.
    await host.call("POST", f"/api/spaces/{space['id']}/start", status=409)


async def test_end_only_by_the_host_and_an_ended_space_refuses_everything(
    server: Server,
) -> None:
    host = await server.person("host")
    listener = await server.person("listener")
    late = await server.person("late")
    space = await host.create_space("Live")
    sid = space["id"]
    await listener.join(sid)

    response = await listener.call("POST", f"/api/spaces/{sid}/end", status=403)
    assert "host" in response.json()["detail"]
    assert (await get_space(host, sid))["state"] == "live"

    ended = await host.ok("POST", f"/api/spaces/{sid}/end")
    assert ended["state"] == "ended"
    assert ended["ended_at"] is not None
    assert ended["audience_count"] == 0
    assert await list_ids(host) == []

    for person, method, path, body in (
        (late, "POST", f"/api/spaces/{sid}/join", None),
        (listener, "POST", f"/api/spaces/{sid}/join", None),
        (listener, "POST", f"/api/spaces/{sid}/hand", None),
        (listener, "POST", f"/api/spaces/{sid}/reactions", {"emoji": "👏"}),
        (host, "POST", f"/api/spaces/{sid}/reactions", {"emoji": "👏"}),
        (host, "POST", f"/api/spaces/{sid}/end", None),
        (host, "POST", f"/api/spaces/{sid}/start", None),
        (host, "POST", f"/api/spaces/{sid}/cancel", None),
        (listener, "POST", f"/api/spaces/{sid}/leave", None),
        (listener, "PUT", f"/api/spaces/{sid}/reminder", None),
    ):
        response = await person.call(method, path, status=409, json=body)
        assert response.json()["detail"]
    after = await get_space(host, sid)
    assert after["state"] == "ended"
    assert after["audience_count"] == 0
    assert after["ended_at"] == ended["ended_at"]


async def test_cancel_only_by_the_host_and_only_when_scheduled(server: Server) -> None:
    host = await server.person("host")
    other = await server.person("other")
    space = await schedule(host, days=2)
    sid = space["id"]
    await other.call("POST", f"/api/spaces/{sid}/cancel", status=403)
    assert (await get_space(host, sid))["state"] == "scheduled"

    cancelled = await host.ok("POST", f"/api/spaces/{sid}/cancel")
    assert cancelled["state"] == "cancelled"
    assert await list_ids(host, "scheduled") == []
    for path in ("start", "cancel", "end", "join"):
        await host.call("POST", f"/api/spaces/{sid}/{path}", status=409)
    await other.call("POST", f"/api/spaces/{sid}/join", status=409)
    assert (await get_space(other, sid))["state"] == "cancelled"

    live = await host.create_space("Live")
    response = await host.call("POST", f"/api/spaces/{live['id']}/cancel", status=409)
    assert "live" in response.json()["detail"]
    assert (await get_space(host, live["id"]))["state"] == "live"


async def test_ending_a_scheduled_space_is_409(server: Server) -> None:
    host = await server.person("host")
    space = await schedule(host, days=1)
    await host.call("POST", f"/api/spaces/{space['id']}/end", status=409)
    assert (await get_space(host, space["id"]))["state"] == "scheduled"


async def test_lifecycle_needs_sign_in(server: Server) -> None:
    host = await server.person("host")
    later = await schedule(host, days=1)
    live = await host.create_space("Live")
    async with client(server) as http:
        for path in (
            f"/api/spaces/{later['id']}/start",
            f"/api/spaces/{later['id']}/cancel",
            f"/api/spaces/{live['id']}/end",
            f"/api/spaces/{live['id']}/join",
            f"/api/spaces/{live['id']}/leave",
        ):
            response = await http.post(path)
            assert response.status_code == 401, path
        response = await http.put(f"/api/spaces/{later['id']}/reminder")
        assert response.status_code == 401
    assert (await get_space(host, later["id"]))["state"] == "scheduled"
    assert (await get_space(host, live["id"]))["state"] == "live"
    assert (await get_space(host, live["id"]))["audience_count"] == 0


# -- reading --------------------------------------------------------------------------------


async def test_get_one_space(server: Server) -> None:
    host = await server.person("host")
    space = await host.create_space("Live", topics=["a"])
    async with client(server) as http:
        response = await http.get(f"/api/spaces/{space['id']}")
        assert response.status_code == 200
        seen = response.json()
        assert seen["id"] == space["id"]
        assert seen["title"] == "Live"
        assert seen["me"] is None
        assert seen["reminder_set"] is False
        missing = await http.get("/api/spaces/doesnotexist")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert "doesnotexist" in missing.json()["detail"]
        bad = await http.get(f"/api/spaces/{'x' * 17}")
        assert bad.status_code == 422
    await host.call("GET", "/api/spaces/nope", status=404)
    for path in ("start", "end", "cancel", "join", "leave"):
        await host.call("POST", f"/api/spaces/nope/{path}", status=404)
    await host.call("PUT", "/api/spaces/nope/reminder", status=404)


async def test_live_list_puts_followed_hosts_first_then_by_audience(server: Server) -> None:
    viewer = await server.person("viewer")
    small_host = await server.person("small")
    big_host = await server.person("big")
    mid_host = await server.person("mid")
    listeners = [await server.person(f"l{i}") for i in range(3)]

    small = await small_host.create_space("Small")
    big = await big_host.create_space("Big")
    mid = await mid_host.create_space("Mid")
    await listeners[0].join(big["id"])
    await listeners[1].join(big["id"])
    await listeners[2].join(mid["id"])
    # Scheduled and ended spaces are not listed as live.
    over = await viewer.create_space("Over")
    await viewer.ok("POST", f"/api/spaces/{over['id']}/end")
    await schedule(listeners[0], days=1)

    counts = {s["id"]: s["audience_count"] for s in await viewer.ok("GET", "/api/spaces")}
    assert counts == {big["id"]: 2, mid["id"]: 1, small["id"]: 0}

    by_audience = [big["id"], mid["id"], small["id"]]
    async with client(server) as http:
        response = await http.get("/api/spaces")
        assert [s["id"] for s in response.json()] == by_audience
        response = await http.get("/api/spaces", params={"state": "live"})
        assert [s["id"] for s in response.json()] == by_audience
    assert await list_ids(viewer) == by_audience

    await viewer.call("PUT", "/api/users/small/follow", status=204)
    assert await list_ids(viewer) == [small["id"], big["id"], mid["id"]]
    # Following matters only to the follower.
    assert await list_ids(listeners[2]) == by_audience

    # Among followed hosts, the larger audience still comes first.
    await viewer.call("PUT", "/api/users/mid/follow", status=204)
    assert await list_ids(viewer) == [mid["id"], small["id"], big["id"]]

    # Audiences change the order live.
    await listeners[0].ok("POST", f"/api/spaces/{big['id']}/leave")
    await listeners[1].ok("POST", f"/api/spaces/{big['id']}/leave")
    await listeners[0].join(small["id"])
    await listeners[1].join(small["id"])
    async with client(server) as http:
        response = await http.get("/api/spaces")
        assert [s["id"] for s in response.json()] == [small["id"], mid["id"], big["id"]]


async def test_live_list_limit(server: Server) -> None:
    viewer = await server.person("viewer")
    hosts = [await server.person(f"h{i}") for i in range(3)]
    for host in hosts:
        await host.create_space(f"By {host.handle}")
    assert len(await viewer.ok("GET", "/api/spaces?limit=2")) == 2
    assert len(await viewer.ok("GET", "/api/spaces?limit=100")) == 3
    await viewer.call("GET", "/api/spaces?limit=0", status=422)
    await viewer.call("GET", "/api/spaces?limit=101", status=422)
    await viewer.call("GET", "/api/spaces?state=ended", status=422)


async def test_scheduled_list_soonest_first(server: Server) -> None:
    viewer = await server.person("viewer")
    hosts = [await server.person(f"h{i}") for i in range(3)]
    in_three_days = await schedule(hosts[0], days=3)
    # Offsets other than UTC must not confuse the order.
    tomorrow = await hosts[1].create_space(
        "Tomorrow",
        scheduled_for=iso(at(server, days=1).astimezone(timezone(timedelta(hours=9)))),
    )
    in_two_days = await hosts[2].create_space(
        "Two days",
        scheduled_for=iso(at(server, days=2).astimezone(timezone(timedelta(hours=-8)))),
    )
    await viewer.create_space("Live now")
    expected = [tomorrow["id"], in_two_days["id"], in_three_days["id"]]
    assert await list_ids(viewer, "scheduled") == expected
    async with client(server) as http:
        response = await http.get("/api/spaces", params={"state": "scheduled"})
        assert [s["id"] for s in response.json()] == expected
        assert all(s["state"] == "scheduled" for s in response.json())
    assert len(await viewer.ok("GET", "/api/spaces?state=scheduled&limit=1")) == 1
    # Starting or cancelling takes a space off the list.
    await hosts[1].ok("POST", f"/api/spaces/{tomorrow['id']}/start")
    await hosts[0].ok("POST", f"/api/spaces/{in_three_days['id']}/cancel")
    assert await list_ids(viewer, "scheduled") == [in_two_days["id"]]


# -- reminders ------------------------------------------------------------------------------


async def test_reminders_on_a_scheduled_space(server: Server) -> None:
    host = await server.person("host")
    fan = await server.person("fan")
    other = await server.person("other")
    space = await schedule(host, days=1)
    sid = space["id"]
    assert (await get_space(fan, sid))["reminder_set"] is False

    for _ in range(2):
        reminded = await fan.ok("PUT", f"/api/spaces/{sid}/reminder")
        assert reminded["reminder_set"] is True
        assert (await get_space(fan, sid))["reminder_set"] is True
    # Per viewer.
    assert (await get_space(other, sid))["reminder_set"] is False
    assert (await get_space(host, sid))["reminder_set"] is False
    listed = await fan.ok("GET", "/api/spaces?state=scheduled")
    assert listed[0]["reminder_set"] is True
    async with client(server) as http:
        assert (await http.get(f"/api/spaces/{sid}")).json()["reminder_set"] is False

    for _ in range(2):
        cleared = await fan.ok("DELETE", f"/api/spaces/{sid}/reminder")
        assert cleared["reminder_set"] is False
        assert (await get_space(fan, sid))["reminder_set"] is False
    # The host may set one too.
    assert (await host.ok("PUT", f"/api/spaces/{sid}/reminder"))["reminder_set"] is True
    await other.call("PUT", "/api/spaces/nope/reminder", status=404)


async def test_reminders_on_a_live_space_are_409(server: Server) -> None:
    host = await server.person("host")
    fan = await server.person("fan")
    live = await host.create_space("Live")
    response = await fan.call("PUT", f"/api/spaces/{live['id']}/reminder", status=409)
    assert "scheduled" in response.json()["detail"]
    await fan.call("DELETE", f"/api/spaces/{live['id']}/reminder", status=409)
    assert (await get_space(fan, live["id"]))["reminder_set"] is False


# -- joining and leaving --------------------------------------------------------------------


async def test_join_and_leave_change_the_audience(server: Server) -> None:
    host = await server.person("host")
    alice = await server.person("alice")
    bob = await server.person("bob")
    space = await host.create_space("Live")
    sid = space["id"]
    assert space["audience_count"] == 0

    joined = await alice.join(sid)
    assert joined["user"]["id"] == alice.id
    assert joined["role"] == "listener"
    assert joined["present"] is True
    assert (await get_space(host, sid))["audience_count"] == 1
    # Joining twice changes nothing.
    await alice.join(sid)
    assert (await get_space(host, sid))["audience_count"] == 1
    await bob.join(sid)
    seen = await get_space(alice, sid)
    assert seen["audience_count"] == 2
    assert seen["me"]["role"] == "listener"
    assert seen["me"]["present"] is True
    # Listeners are not on the stage.
    assert [p["user"]["id"] for p in seen["stage"]] == [host.id]
    participants = await host.ok("GET", f"/api/spaces/{sid}/participants")
    assert [p["user"]["handle"] for p in participants] == ["host", "alice", "bob"]

    await alice.call("POST", f"/api/spaces/{sid}/leave", status=204)
    seen = await get_space(alice, sid)
    assert seen["audience_count"] == 1
    assert seen["me"]["present"] is False
    # Leaving when not present is a no-op.
    await alice.call("POST", f"/api/spaces/{sid}/leave", status=204)
    assert (await get_space(host, sid))["audience_count"] == 1
    # Coming back counts again.
    await alice.join(sid)
    assert (await get_space(host, sid))["audience_count"] == 2


async def test_leave_when_never_joined_is_a_no_op(server: Server) -> None:
    host = await server.person("host")
    stranger = await server.person("stranger")
    space = await host.create_space("Live")
    await stranger.call("POST", f"/api/spaces/{space['id']}/leave", status=204)
    seen = await get_space(stranger, space["id"])
    assert seen["audience_count"] == 0
    assert seen["me"] is None


async def test_host_cannot_leave(server: Server) -> None:
    host = await server.person("host")
    alice = await server.person("alice")
    space = await host.create_space("Live")
    await alice.join(space["id"])
    response = await host.call("POST", f"/api/spaces/{space['id']}/leave", status=409)
    assert "end" in response.json()["detail"]
    seen = await get_space(host, space["id"])
    assert seen["state"] == "live"
    assert seen["audience_count"] == 1
    assert seen["me"]["role"] == "host"
    assert seen["me"]["present"] is True


async def test_cannot_join_a_scheduled_space(server: Server) -> None:
    host = await server.person("host")
    alice = await server.person("alice")
    space = await schedule(host, days=1)
    response = await alice.call("POST", f"/api/spaces/{space['id']}/join", status=409)
    assert "not started" in response.json()["detail"]
    # Not joined: starting the space shows only the host.
    started = await host.ok("POST", f"/api/spaces/{space['id']}/start")
    assert started["audience_count"] == 0
    assert (await alice.join(space["id"]))["present"] is True
    assert (await get_space(host, space["id"]))["audience_count"] == 1


async def test_ending_lets_everyone_go(server: Server) -> None:
    host = await server.person("host")
    alice = await server.person("alice")
    space = await host.create_space("Live")
    await alice.join(space["id"])
    ended = await host.ok("POST", f"/api/spaces/{space['id']}/end")
    assert ended["audience_count"] == 0
    seen = await get_space(alice, space["id"])
    assert seen["me"]["present"] is False
    assert await host.ok("GET", f"/api/spaces/{space['id']}/participants") == []
