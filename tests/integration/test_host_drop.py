"""Dropped connections: the host gets a grace period, then the space ends; listeners leave."""

from __future__ import annotations

from tests.harness import Server, wait_for_metric, wait_for_sweeps

GRACE = 300.0


async def test_the_space_ends_when_the_host_stays_away_past_the_grace_period(
    server: Server,
) -> None:
    host = await server.person("host")
    listener = await server.person("listener")
    sid = (await host.create_space("Fragile"))["id"]
    await listener.join(sid)
    async with listener.events(sid) as stream:
        async with host.events(sid):
            pass  # the host's only connection drops
        dropped = await stream.next("host_disconnected")
        assert dropped["grace_seconds"] == GRACE

        server.clock.advance(GRACE - 5)
        await wait_for_sweeps(server)
        assert (await listener.ok("GET", f"/api/spaces/{sid}"))["state"] == "live"

        server.clock.advance(10)
        ended = await stream.next("space_ended")
        assert ended["reason"] == "host_left"
    space = await listener.ok("GET", f"/api/spaces/{sid}")
    assert space["state"] == "ended"
    assert space["audience_count"] == 0


async def test_a_host_who_comes_back_in_time_keeps_the_space_live(server: Server) -> None:
    host = await server.person("host")
    listener = await server.person("listener")
    sid = (await host.create_space("Resilient"))["id"]
    await listener.join(sid)
    async with listener.events(sid) as stream:
        async with host.events(sid):
            pass
        await stream.next("host_disconnected")
        server.clock.advance(GRACE / 2)
        async with host.events(sid):
            await stream.next("host_reconnected")
            server.clock.advance(GRACE)
            await wait_for_sweeps(server)
            assert (await listener.ok("GET", f"/api/spaces/{sid}"))["state"] == "live"


async def test_a_dropped_speaker_leaves_after_the_presence_grace_and_frees_the_seat(
    server: Server,
) -> None:
    host = await server.person("host")
    speaker = await server.person("speaker")
    sid = (await host.create_space("Seats"))["id"]
    await speaker.join(sid)
    await speaker.ok("POST", f"/api/spaces/{sid}/hand")
    await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")
    async with host.events(sid) as stream:
        async with speaker.events(sid):
            pass
        # Only the host's stream is left open once the server has seen the speaker go.
        await wait_for_metric(server, "salon_websocket_connections", lambda n: n == 1)
        server.clock.advance(server.settings.presence_grace_seconds + 1)
        left = await stream.next("participant_left")
        assert left["user_id"] == speaker.id
        assert left["reason"] == "disconnected"
    space = await host.ok("GET", f"/api/spaces/{sid}")
    assert [p["role"] for p in space["stage"]] == ["host"]
    # Coming back is allowed, as a listener.
    assert (await speaker.join(sid))["role"] == "listener"


async def test_a_second_tab_keeps_the_host_connected(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Two tabs"))["id"]
    async with host.events(sid):
        async with host.events(sid):
            pass  # one of two connections closes
        server.clock.advance(GRACE * 2)
        await wait_for_sweeps(server)
        assert (await host.ok("GET", f"/api/spaces/{sid}"))["state"] == "live"
