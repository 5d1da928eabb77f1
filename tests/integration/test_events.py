"""The live event stream: typed events, after the commit, bounded per client."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from salon.events.types import from_json
from tests.harness import Server, metric


async def test_stream_starts_with_a_snapshot_then_typed_events_in_order(server: Server) -> None:
    host = await server.person("host")
    listener = await server.person("listener")
    sid = (await host.create_space("Ordered"))["id"]
    async with host.events(sid) as stream:
        snapshot = stream.snapshot
        assert snapshot["space"]["state"] == "live"
        assert [p["role"] for p in snapshot["participants"]] == ["host"]
        await listener.join(sid)
        await listener.ok("POST", f"/api/spaces/{sid}/hand")
        await host.ok("POST", f"/api/spaces/{sid}/participants/{listener.id}/approve")
        await listener.ok("POST", f"/api/spaces/{sid}/participants/{listener.id}/unmute")
        types = [(await stream.next())["type"] for _ in range(7)]
        assert types == [
            "participant_joined",
            "audience_count",
            "hand_raised",
            "hand_lowered",
            "role_changed",
            "audience_count",  # the new speaker left the audience
            "unmuted",
        ]
        for event in stream.seen:
            assert from_json(json.dumps(event)).type == event["type"]


async def test_an_event_is_sent_only_once_its_change_is_committed(server: Server) -> None:
    host = await server.person("host")
    listener = await server.person("listener")
    observer = await server.person("observer")
    sid = (await host.create_space("Committed"))["id"]
    await listener.join(sid)
    await listener.ok("POST", f"/api/spaces/{sid}/hand")
    async with observer.events(sid) as stream:
        approval = asyncio.create_task(
            host.ok("POST", f"/api/spaces/{sid}/participants/{listener.id}/approve")
        )
        changed = await stream.next("role_changed")
        # The moment the event arrives, a fresh read must already see the change.
        people = await observer.ok("GET", f"/api/spaces/{sid}/participants")
        assert changed["user_id"] == listener.id
        assert {p["user"]["id"]: p["role"] for p in people}[listener.id] == "speaker"
        await approval


async def test_anonymous_visitors_can_watch_a_space(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Public"))["id"]
    async with websockets.connect(f"{server.ws_url}/api/spaces/{sid}/events") as ws:
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "snapshot"
        assert snapshot["space"]["me"] is None
        await host.ok("POST", f"/api/spaces/{sid}/end")
        ended = json.loads(await ws.recv())
        assert ended == {**ended, "type": "space_ended", "reason": "host_ended"}
        assert await _close_code(ws) == 1000


async def test_unknown_space_and_bad_credentials_are_refused(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Guarded"))["id"]
    async with websockets.connect(f"{server.ws_url}/api/spaces/nope/events") as ws:
        assert await _close_code(ws) == 4404
    # Bad credentials: the documented close code, so a client asks the person to sign in
    # instead of retrying (a refused handshake would reach a browser as a bare 1006).
    async with websockets.connect(
        f"{server.ws_url}/api/spaces/{sid}/events",
        additional_headers={"Authorization": "Bearer salon_not-a-token"},
    ) as ws:
        assert await _close_code(ws) == 4401
    # An id no space can have, however long, is refused as the REST routes refuse it.
    for bad in ("x" * 17, "a" * 400, "sp%C3%A4ce"):
        async with websockets.connect(f"{server.ws_url}/api/spaces/{bad}/events") as ws:
            assert await _close_code(ws) == 4404, bad


async def test_a_removed_person_is_disconnected_and_cannot_come_back(server: Server) -> None:
    host = await server.person("host")
    troll = await server.person("troll")
    sid = (await host.create_space("Moderated"))["id"]
    await troll.join(sid)
    async with troll.events(sid) as stream:
        await host.ok("POST", f"/api/spaces/{sid}/participants/{troll.id}/remove")
        left = await stream.next("participant_left")
        assert left == {**left, "user_id": troll.id, "reason": "removed"}
        assert await _close_code(stream.ws) == 4403
    await troll.call("POST", f"/api/spaces/{sid}/join", status=403)
    # Reconnecting to the event stream is refused the same way.
    async with websockets.connect(
        f"{server.ws_url}/api/spaces/{sid}/events",
        additional_headers={"Cookie": troll.cookie_header},
    ) as ws:
        assert await _close_code(ws) == 4403


async def test_a_client_that_stops_reading_is_cut_off_without_slowing_others(
    make_server: Any,
) -> None:
    # No pings: on a busy machine the stalled client could be closed for a missed pong
    # before the reactions back its socket up, and the point here is the cut-off.
    async with make_server(
        event_queue_size=8, reaction_limit=100_000, send_buffer=4096, ws_pings=False
    ) as server:
        host = await server.person("host")
        sid = (await host.create_space("Busy"))["id"]
        async with host.events(sid) as healthy:
            # A client with tiny buffers that never reads: the server's writes back up.
            # (The receive buffer must be set before connecting to shrink the TCP window.)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
            sock.connect(("127.0.0.1", server.port))
            async with websockets.connect(
                f"{server.ws_url}/api/spaces/{sid}/events",
                sock=sock,
                max_queue=1,
                compression=None,
            ) as stalled:
                before = await metric(server, "salon_slow_consumers_total")
                sent = 0
                while await metric(server, "salon_slow_consumers_total") == before:
                    assert sent < 3_000, "the stalled client was never cut off"
                    # Fewer at once than the queue holds: the healthy reader, which drains
                    # each batch before the next, can never be a queue behind, however
                    # slowly the machine runs.
                    batch = [
                        host.ok("POST", f"/api/spaces/{sid}/reactions", json={"emoji": "👏"})
                        for _ in range(6)
                    ]
                    await asyncio.gather(*batch)
                    sent += len(batch)
                    # The healthy reader keeps up with everything sent so far.
                    for _ in range(len(batch)):
                        assert (await healthy.next())["type"] == "reaction"
                assert await _close_code(stalled) == 1013


async def _close_code(ws: ClientConnection) -> int:
    """Read until the server closes the connection; return its close code."""
    try:
        async with asyncio.timeout(30):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        # No close frame at all is reported as 1006 (abnormal closure), failing the caller.
        return closed.rcvd.code if closed.rcvd is not None else 1006
