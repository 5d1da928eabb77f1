"""Three nodes on one PostgreSQL and one Redis: events, limits, caps and presence hold across
them, and a node that dies (``kill -9``) has its people's connections treated as closed."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from salon.config import Settings
from tests.cluster.conftest import Cluster
from tests.cluster.nodes import (
    HOST_GRACE_SECONDS,
    PRESENCE_GRACE_SECONDS,
    REDIS_URL,
    SECRET_KEY,
    Node,
    Stream,
    events,
    on,
    owner_url,
    person,
)
from tests.edge.stack import Account
from tests.fakes.tcp_proxy import TcpProxy

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _numbered(stream: Stream) -> list[tuple[int, str]]:
    return [
        (e["seq"], e["type"])
        for e in stream.seen
        if e.get("seq") is not None and e["type"] != "snapshot"
    ]


async def _live_space(host: Account, title: str) -> str:
    space = await host.ok("POST", "/api/spaces", json={"title": title})
    sid: str = space["id"]
    return sid


async def test_an_event_committed_on_one_node_reaches_the_others_once_and_in_order(
    cluster: Cluster,
) -> None:
    a, b, c = cluster.nodes
    host = await person(a)
    sid = await _live_space(host, "Across nodes")
    guests = [await person(node) for node in (a, b, c)]
    async with events(b, sid) as on_b, events(c, sid) as on_c:
        for guest in guests:  # each through their own node
            await guest.ok("POST", f"/api/spaces/{sid}/join")
            await guest.ok("POST", f"/api/spaces/{sid}/hand")
        host_on_c = await on(c, host)
        await host.ok("POST", f"/api/spaces/{sid}/participants/{guests[1].id}/approve")
        await host_on_c.ok(
            "POST", f"/api/spaces/{sid}/participants/{guests[1].id}/move-to-audience"
        )

        def moved_back(event: dict[str, Any]) -> bool:
            return bool(event["type"] == "role_changed" and event["role"] == "listener")

        last = (await on_b.until(moved_back))["seq"]
        await on_c.until(moved_back)
        await host_on_c.http.aclose()

    for stream in (on_b, on_c):
        numbered = _numbered(stream)
        seqs = [seq for seq, _ in numbered]
        start = stream.snapshot["seq"]
        # Once each, none missing: a client needs no resync. Events committed on different
        # nodes a moment apart may arrive in either order (each node publishes its own); the
        # client puts them in order by seq (web/src/room/eventOrder.ts, bots/events.py).
        assert sorted(seqs) == list(range(start + 1, last + 1)), numbered
    assert sorted(_numbered(on_b)) == sorted(_numbered(on_c))
    kinds = Counter(kind for _, kind in _numbered(on_b))
    assert kinds["participant_joined"] == 3
    assert kinds["hand_raised"] == 3
    assert kinds["role_changed"] == 2


async def test_reaction_and_sign_in_limits_count_on_every_node(cluster: Cluster) -> None:
    a, b, c = cluster.nodes
    host = await person(a)
    sid = await _live_space(host, "Limits")
    fan = await person(b)
    await fan.ok("POST", f"/api/spaces/{sid}/join")
    fans = [fan, await on(a, fan), await on(c, fan)]
    path = f"/api/spaces/{sid}/reactions"
    statuses = [
        (await fans[i % 3].http.post(path, json={"emoji": "👏"})).status_code for i in range(11)
    ]
    assert statuses == [201] * 10 + [429]  # 10 per 10 s, whichever node takes them

    handle = host.me["handle"]
    results = []
    for i in range(12):  # 10 failures per address per 5 minutes, counted across nodes
        node = cluster.nodes[i % 3]
        async with _client(node) as http:
            response = await http.post(
                "/api/session", json={"handle": handle, "password": "wrong-password"}
            )
            results.append(response.status_code)
    assert results == [401] * 10 + [429] * 2
    for account in fans[1:]:
        await account.http.aclose()


def _client(node: Node) -> Any:
    import httpx

    return httpx.AsyncClient(base_url=node.url, timeout=30)


async def test_approvals_racing_on_different_nodes_seat_one_speaker(cluster: Cluster) -> None:
    a, b, c = cluster.nodes
    host = await person(a)
    sid = await _live_space(host, "Last seat")
    for i in range(10 - 1):
        speaker = await person(cluster.nodes[i % 3])
        await speaker.ok("POST", f"/api/spaces/{sid}/join")
        await speaker.ok("POST", f"/api/spaces/{sid}/hand")
        await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")
    hopefuls = [await person(cluster.nodes[i % 3]) for i in range(9)]
    for hopeful in hopefuls:
        await hopeful.ok("POST", f"/api/spaces/{sid}/join")
        await hopeful.ok("POST", f"/api/spaces/{sid}/hand")
    hosts = [host, await on(b, host), await on(c, host)]

    responses = await asyncio.gather(
        *(
            hosts[i % 3].http.post(f"/api/spaces/{sid}/participants/{h.id}/approve")
            for i, h in enumerate(hopefuls)
        )
    )

    assert Counter(r.status_code for r in responses) == {200: 1, 409: len(hopefuls) - 1}
    people = await host.ok("GET", f"/api/spaces/{sid}/participants")
    assert sum(p["role"] == "speaker" for p in people) == 10
    for account in hosts[1:]:
        await account.http.aclose()


async def test_a_killed_node_s_people_lose_their_connection_and_its_host_s_space_ends(
    cluster: Cluster,
) -> None:
    a, b, c = cluster.nodes
    host = await person(a)
    sid = await _live_space(host, "Node loss")
    listener = await person(b)
    await listener.ok("POST", f"/api/spaces/{sid}/join")
    async with (
        events(a, sid, host),  # the host's connection, on A
        events(b, sid, listener),  # the listener's, on B
        events(c, sid) as watcher,
    ):
        await b.kill()
        left = await watcher.until(
            lambda e: e["type"] == "participant_left" and e["user_id"] == listener.id
        )
        assert left["reason"] == "disconnected"
        await a.kill()
        await watcher.until(lambda e: e["type"] == "host_disconnected")
        ended = await watcher.until(
            lambda e: e["type"] == "space_ended", within=HOST_GRACE_SECONDS + 10
        )
        assert ended["reason"] == "host_left"


async def test_a_node_that_loses_redis_cuts_its_event_streams_and_refuses_new_ones(
    cluster: Cluster,
) -> None:
    host = await person(cluster.nodes[0])
    sid = await _live_space(host, "Redis lost")
    async with TcpProxy("127.0.0.1", 6379) as proxy:
        redis_port = REDIS_URL.rsplit(":", 1)[1].split("/")[0]
        assert redis_port == "6379"
        cut_off = Node(
            cluster.directory / "cut-off",
            database_url=cluster.database_url,
            SALON_REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0",
            SALON_REDIS_PREFIX=cluster.prefix,
            SALON_RECORDINGS_PATH=str(cluster.directory / "recordings"),
        )
        await cut_off.start()
        try:
            async with events(cut_off, sid) as stream:
                proxy.set("reset")
                assert await stream.closed() == 1013
            proxy.set("pass")
            # Back: the node takes streams again once it has Redis (a client retries 1013).
            async with events(cut_off, sid, patience=15) as stream:
                guest = await person(cluster.nodes[1])
                await guest.ok("POST", f"/api/spaces/{sid}/join")
                await stream.until(
                    lambda e: (
                        e["type"] == "participant_joined"
                        and e["participant"]["user"]["id"] == guest.id
                    )
                )
        finally:
            await cut_off.stop()


async def test_one_node_restarted_without_redis_ends_a_hostless_space_and_clears_ghosts(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """No Redis, SQLite, one process: ``kill -9`` and start again. Nobody's connection
    survived, so grace periods start at start-up: the listener is let go, the space ends."""
    directory = tmp_path_factory.mktemp("restart")
    node = Node(directory, database_url=f"sqlite+aiosqlite:///{directory}/salon.db")
    await node.start()
    try:
        host = await person(node)
        sid = await _live_space(host, "Restart")
        listener = await person(node)
        await listener.ok("POST", f"/api/spaces/{sid}/join")
        async with events(node, sid, host), events(node, sid, listener):
            await node.kill()
        await node.start()
        async with asyncio.timeout(PRESENCE_GRACE_SECONDS + HOST_GRACE_SECONDS + 15):
            while await _present(host, sid, listener.id):  # noqa: ASYNC110 - over HTTP
                await asyncio.sleep(0.1)
            while (await host.ok("GET", f"/api/spaces/{sid}"))["state"] != "ended":  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        await node.stop()


async def _present(viewer: Account, sid: str, user_id: int) -> bool:
    people = await viewer.ok("GET", f"/api/spaces/{sid}/participants")
    return any(p["user"]["id"] == user_id and p["present"] for p in people)


async def test_players_counted_on_one_node_are_announced_by_the_one_running_the_space(
    cluster: Cluster,
) -> None:
    """An edge reports its players to whichever node it reaches; the node running the space's
    media counts them with its own and tells everyone, once."""
    a, b, _ = cluster.nodes
    host = await person(a)
    sid = await _live_space(host, "Counted across nodes")
    owner = await owner_url(cluster.database_url, sid)
    reporter = next(node for node in cluster.nodes if node.url != owner)
    async with events(b, sid, host) as watcher:
        async with _client(reporter) as http:
            answer = await http.post(
                "/api/edge/listeners",
                headers={"X-Salon-Edge-Key": Settings(secret_key=SECRET_KEY).edge_secret()},
                # 40 players: 84 segment requests over 2 s, at 0.96 s a segment
                json={"edge": "edge-1", "seconds": 2.0, "requests": {sid: 84}},
            )
            assert answer.status_code == 204, answer.text
        counted = await watcher.until(lambda e: e["type"] == "audience_count" and e["count"] > 0)
    assert counted["count"] == 40
    announced = [e for e in watcher.seen if e["type"] == "audience_count" and e["count"] == 40]
    assert len(announced) == 1  # by one node, not by each
