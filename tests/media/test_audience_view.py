"""The audience view (audience.json beside the playlist), players counted from the audio they
fetch, and a large audience's reactions going out as bursts."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from salon.bots.playlist import Playlist
from salon.services import audience_view
from tests.conftest import ServerFactory
from tests.harness import Person, Server, client, problem
from tests.integration.ticketing import buy_and_pay, seller, ticketed_space


def view_url(sid: str, credential: str | None = None) -> str:
    middle = f"{credential}/" if credential else ""
    return f"/api/spaces/{sid}/hls/{middle}audience.json"


async def follow_until(
    http: httpx.AsyncClient, url: str, done: Callable[[dict[str, Any]], bool], *, steps: int = 12
) -> dict[str, Any]:
    """Follow the view with blocking reloads, as a listener's page does, until ``done``."""
    response = await http.get(url)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    for _ in range(steps):
        if done(view):
            return view
        response = await http.get(url, params={"v": view["version"] + 1})
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "public, max-age=6"
        following = response.json()
        assert following["version"] > view["version"]
        view = following
    raise AssertionError(f"never reached: {view}")


async def test_the_audience_view_is_public_shared_and_follows_the_space(server: Server) -> None:
    host = await server.person("host")
    alice = await server.person("alice")
    bob = await server.person("bob")
    sid = (await host.create_space("Seen by all"))["id"]
    url = view_url(sid)
    async with client(server) as anonymous, client(server) as another:
        first = await anonymous.get(url)
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == "application/json"
        assert first.headers["cache-control"] == "no-cache"
        assert first.headers["access-control-allow-origin"] == "*"
        view = first.json()
        assert view["type"] == "audience_view"
        assert view["space"]["me"] is None
        assert [p["user"]["id"] for p in view["space"]["stage"]] == [host.id]
        assert view["audience_count"] == 0
        # The same version is the same bytes, whoever asks (signed in or not).
        second = await another.get(url)
        mine = await host.call("GET", url)
        versions = {r.json()["version"]: r.content for r in (first, second, mine)}
        for response in (first, second, mine):
            assert versions[response.json()["version"]] == response.content

        await alice.join(sid)
        await bob.join(sid)
        await alice.ok("POST", f"/api/spaces/{sid}/hand")
        view = await follow_until(another, url, lambda v: v["hands"] == 1)
        assert view["audience_count"] == 2
        assert "alice" not in str(view["hands"])
        await host.ok("POST", f"/api/spaces/{sid}/participants/{alice.id}/approve")
        await host.ok("POST", f"/api/spaces/{sid}/participants/{bob.id}/invite")
        view = await follow_until(
            another, url, lambda v: len(v["space"]["stage"]) == 2 and v["invited"] == [bob.id]
        )
        assert view["hands"] == 0
        assert view["audience_count"] == 1  # alice went on the stage
        await bob.ok("POST", f"/api/spaces/{sid}/reactions", json={"emoji": "👏"})
        view = await follow_until(another, url, lambda v: bool(v["reactions"]))
        (reaction,) = view["reactions"]
        assert (reaction["user_id"], reaction["emoji"]) == (bob.id, "👏")
        # A follower from an earlier run of the origin (a version from its future) is
        # answered at once, and catches up from there.
        ahead = await anonymous.get(url, params={"v": view["version"] + 1000})
        assert ahead.status_code == 200
        assert ahead.headers["cache-control"] == "no-store"

        await host.ok("POST", f"/api/spaces/{sid}/end")
        view = await follow_until(another, url, lambda v: v["space"]["state"] == "ended")


async def test_the_view_lists_who_was_put_out_of_the_space_for_a_minute(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listener who follows the view has no stream to hear of their own removal or ban:
    the view lists them (ids only, not which of the two) for a minute, the newest few."""
    monkeypatch.setattr(audience_view, "MAX_REMOVALS", 3)
    admin = await server.person("admin")  # the first account
    host = await server.person("host")
    sid = (await host.create_space("Kept tidy"))["id"]
    ann, bob, cat, dan, eve = [
        await server.person(name) for name in ("ann", "bob", "cat", "dan", "eve")
    ]
    for person in (ann, bob, cat, dan, eve):
        await person.join(sid)

    # Removed before anyone follows: the view that opens then reads it from the rows.
    await host.ok("POST", f"/api/spaces/{sid}/participants/{ann.id}/remove")
    url = view_url(sid)
    async with client(server) as anonymous:
        view = (await anonymous.get(url)).json()
        assert view["removed"] == [ann.id]
        # Leaving is not being put out; a ban is, and looks the same as a removal.
        await eve.ok("POST", f"/api/spaces/{sid}/leave")
        await admin.ok("PATCH", f"/api/admin/users/{bob.handle}", json={"banned": True})
        view = await follow_until(anonymous, url, lambda v: v["removed"] == [ann.id, bob.id])
        assert "banned" not in (await anonymous.get(url)).text
        # At most MAX_REMOVALS, the newest; a raised hand goes with its owner.
        await dan.ok("POST", f"/api/spaces/{sid}/hand")
        view = await follow_until(anonymous, url, lambda v: v["hands"] == 1)
        await host.ok("POST", f"/api/spaces/{sid}/participants/{cat.id}/remove")
        await host.ok("POST", f"/api/spaces/{sid}/participants/{dan.id}/remove")
        view = await follow_until(
            anonymous, url, lambda v: v["removed"] == sorted([bob.id, cat.id, dan.id])
        )
        assert view["hands"] == 0
        # A minute on, nobody (the next publication drops them).
        server.clock.advance(audience_view.REMOVALS_KEPT_SECONDS + 1)
        await host.ok("POST", f"/api/spaces/{sid}/reactions", json={"emoji": "👋"})
        view = await follow_until(anonymous, url, lambda v: v["removed"] == [])
        # They stay barred: joining again is refused.
        for person in (ann, cat, dan):
            await person.call("POST", f"/api/spaces/{sid}/join", status=403)


async def test_what_has_no_audience_view(server: Server) -> None:
    host = await server.person("host")
    tomorrow = (server.clock.now() + timedelta(days=1)).isoformat()
    later = await host.create_space("Later", scheduled_for=tomorrow)
    async with client(server) as anonymous:
        refused = problem(await anonymous.get(view_url(later["id"])), 409)
        assert "not started" in refused["detail"]
        problem(await anonymous.get(view_url("nosuchspace")), 404)
        live = (await (await server.person("other")).create_space("Live"))["id"]
        problem(await anonymous.get(view_url(live), params={"v": -1}), 422)
        problem(await anonymous.get(view_url(live), params={"v": "soon"}), 422)


async def test_a_ticketed_spaces_audience_view_needs_its_credential(server: Server) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    holder = await server.person("holder")
    sid = (await ticketed_space(host))["id"]
    await buy_and_pay(holder, sid)
    await host.ok("POST", f"/api/spaces/{sid}/start")
    credential = (await holder.ok("GET", f"/api/spaces/{sid}/listen"))["credential"]
    async with client(server) as anonymous:
        assert "ticketed" in problem(await anonymous.get(view_url(sid)), 403)["detail"]
        expires, listener, _ = credential.split(".")
        forged = f"{expires}.{listener}.{'A' * 22}"
        problem(await anonymous.get(view_url(sid, forged)), 403)
        shared = await anonymous.get(view_url(sid, credential))
        assert shared.status_code == 200, shared.text
        assert shared.json()["space"]["ticket"]["have_ticket"] is False
        server.clock.advance(server.settings.audio_credential_seconds + 1)
        assert "expired" in problem(await anonymous.get(view_url(sid, credential)), 403)["detail"]


async def published_first_part(http: httpx.AsyncClient, sid: str) -> str:
    """The name of a published ``part{n}.0.m4s`` of the live stream (waiting for one)."""
    playlist = f"/api/spaces/{sid}/hls/live.m3u8"
    for _ in range(20):
        parsed = Playlist.parse((await http.get(playlist)).text)
        firsts = [p for p in parsed.parts if p.index == 0]
        if firsts:
            return f"part{firsts[-1].msn}.0.m4s"
        last = parsed.parts[-1] if parsed.parts else None
        msn = last.msn + 1 if last else parsed.media_sequence + 1
        await http.get(playlist, params={"_HLS_msn": msn, "_HLS_part": 0})
    raise AssertionError("no part published")


async def audience_seen_by(host: Person, sid: str, done: Callable[[int], bool]) -> int:
    """The audience the host's event stream is told, until ``done`` (swept every 50 ms)."""
    async with host.events(sid) as stream:
        count: int = stream.snapshot["space"]["audience_count"]
        while not done(count):
            count = (await stream.next("audience_count"))["count"]
        return count


async def test_players_are_counted_from_the_audio_they_fetch(make_server: ServerFactory) -> None:
    async with make_server(audience_window_seconds=2.0) as server:
        host = await server.person("host")
        sid = (await host.create_space("Counted"))["id"]
        window = server.settings.audience_window_seconds
        async with client(server) as players:
            name = await published_first_part(players, sid)
            media = f"/api/spaces/{sid}/hls/{name}"
            started = time.monotonic()
            # 25 fetches of one segment's first part: 25 segments' worth of one player, or
            # 25 players for one segment.
            for _ in range(25):
                assert (await players.get(media)).status_code == 200
            # What an edge forwards is its to count, not the origin's; the rest is not a
            # segment's first fetch.
            for _ in range(40):
                forwarded = await players.get(media, headers={"X-Salon-Edge": "1"})
                assert forwarded.status_code == 200
                await players.get(f"/api/spaces/{sid}/hls/live.m3u8")
            # A rate over what has been counted: 25 requests over the time they took (real
            # time, however busy the machine) and one more second.
            server.clock.advance(1.0)
            counted = await audience_seen_by(host, sid, lambda n: n > 0)
            took = time.monotonic() - started
            assert round(25 * 0.96 / (1.0 + took)) - 1 <= counted <= round(25 * 0.96), (
                counted,
                took,
            )
            shown = (await host.ok("GET", f"/api/spaces/{sid}"))["audience_count"]
            assert 0 < shown <= counted
        # They stop: a window later nobody is counted.
        server.clock.advance(2 * window)
        assert await audience_seen_by(host, sid, lambda n: n == 0) == 0

        # An edge reports what it answered; only the edge, holding the edge secret, may.
        report = {"edge": "edge-1", "seconds": window, "requests": {sid: 1000}}
        async with client(server) as outsider:
            problem(await outsider.post("/api/edge/listeners", json=report), 401)
            wrong = {"X-Salon-Edge-Key": "guess"}
            problem(await outsider.post("/api/edge/listeners", json=report, headers=wrong), 401)
            edge = {"X-Salon-Edge-Key": server.settings.edge_secret()}
            bad = {**report, "requests": {"../x": 1}}
            problem(await outsider.post("/api/edge/listeners", json=bad, headers=edge), 422)
            negative = {**report, "requests": {sid: -5}}
            problem(await outsider.post("/api/edge/listeners", json=negative, headers=edge), 422)
            forever = {**report, "seconds": 0}
            problem(await outsider.post("/api/edge/listeners", json=forever, headers=edge), 422)
            accepted = await outsider.post("/api/edge/listeners", json=report, headers=edge)
            assert accepted.status_code == 204, accepted.text
        edge_players = round(1000 * 0.96 / window)
        assert await audience_seen_by(host, sid, lambda n: n == edge_players) == edge_players
        # Discovery orders by the same audience.
        listed = await host.ok("GET", "/api/spaces")
        assert listed[0]["audience_count"] == edge_players
        # And when they stop, the audience falls back.
        server.clock.advance(2 * window)
        assert await audience_seen_by(host, sid, lambda n: n == 0) == 0


async def test_a_large_audiences_reactions_go_out_as_bursts(make_server: ServerFactory) -> None:
    async with make_server(reaction_aggregate_above=1, reaction_burst_seconds=0.2) as server:
        host = await server.person("host")
        fans = [await server.person(f"fan{i}") for i in range(3)]
        sid = (await host.create_space("Crowd"))["id"]
        for fan in fans:
            await fan.join(sid)
        async with host.events(sid) as stream, client(server) as anonymous:
            assert stream.snapshot["space"]["audience_count"] == 3
            # A listener's page follows the view from before the reactions.
            assert (await anonymous.get(view_url(sid))).status_code == 200
            for fan in fans:
                await fan.ok("POST", f"/api/spaces/{sid}/reactions", json={"emoji": "👏"})
            await fans[0].ok("POST", f"/api/spaces/{sid}/reactions", json={"emoji": "💯"})
            total: dict[str, int] = {}
            while sum(total.values()) < 4:
                burst = await stream.next("reaction_burst")
                assert burst["window_seconds"] == 0.2
                for emoji, count in burst["counts"].items():
                    total[emoji] = total.get(emoji, 0) + count
            assert total == {"👏": 3, "💯": 1}
            # Nobody's identity went out with them.
            assert not [e for e in stream.seen if e["type"] == "reaction"]
            view = await follow_until(
                anonymous, view_url(sid), lambda v: any("counts" in r for r in v["reactions"])
            )
        assert all("user_id" not in r for r in view["reactions"])
        # The rate limit still holds per person.
        for _ in range(server.settings.reaction_limit):
            await fans[1].call("POST", f"/api/spaces/{sid}/reactions", json={"emoji": "👋"})
        limited = await fans[1].call("POST", f"/api/spaces/{sid}/reactions", json={"emoji": "👋"})
        assert limited.status_code == 429


async def test_reactions_of_a_small_audience_still_say_who(server: Server) -> None:
    host = await server.person("host")
    fan = await server.person("fan")
    sid = (await host.create_space("Few"))["id"]
    await fan.join(sid)
    async with host.events(sid) as stream:
        await fan.ok("POST", f"/api/spaces/{sid}/reactions", json={"emoji": "💜"})
        reaction = await stream.next("reaction")
        assert (reaction["user_id"], reaction["emoji"]) == (fan.id, "💜")
