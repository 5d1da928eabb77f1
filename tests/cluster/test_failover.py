"""Losing the node that runs a live space's media loses no space: ``kill -9`` of the owner
while two speaker bots, an LL-HLS listener bot and a WHEP listener bot (never restarted) are
in it, and writes go on."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from typing import Any

import m3u8
import pytest

from salon.bots.listener import HlsListener
from salon.bots.stage_bot import StageBot
from salon.bots.whep_listener import WhepListener
from salon.media.hls.stream import SEGMENT_SECONDS
from tests.cluster.conftest import Cluster
from tests.cluster.nodes import Node, database, on, owner_url, person
from tests.edge.stack import Account
from tests.media.bot_reports import Reports, bot_token, hears, report, speaking_bot

pytestmark = pytest.mark.asyncio(loop_scope="session")

HOST_HZ, SPEAKER_HZ = 300.0, 660.0
EMOJI = ["👏", "🔥", "😂", "❤️", "💯"]


async def _write_until(
    stop: asyncio.Event, fans: list[Account], sid: str, acknowledged: Counter[int]
) -> None:
    """Reactions from ``fans`` through their nodes, below the rate limit; every 201 counted."""
    turn = 0
    while not stop.is_set():
        fan = fans[turn % len(fans)]
        emoji = EMOJI[turn % len(EMOJI)]
        turn += 1
        with contextlib.suppress(Exception):  # a node being killed answers nothing
            answer = await fan.http.post(f"/api/spaces/{sid}/reactions", json={"emoji": emoji})
            if answer.status_code == 201:
                acknowledged[fan.id] += 1
        await asyncio.sleep(1.2 / len(fans))  # each fan ~0.8 a second: under 10 per 10 s


async def test_killing_the_node_that_runs_a_space_loses_no_space(cluster: Cluster) -> None:
    first = cluster.nodes[0]
    host = await person(first)
    sid = (await host.ok("POST", "/api/spaces", json={"title": "Failover", "recording": True}))[
        "id"
    ]
    first_owner = await owner_url(cluster.database_url, sid)
    owner = next(node for node in cluster.nodes if node.url == first_owner)
    survivors = [node for node in cluster.nodes if node is not owner]
    near: Node = survivors[0]  # the bots' node: it stays up

    speaker = await person(near)
    await speaker.ok("POST", f"/api/spaces/{sid}/join")
    await speaker.ok("POST", f"/api/spaces/{sid}/hand")
    await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")
    bots: dict[str, StageBot] = {
        "host": speaking_bot(near.url, sid, await bot_token(host), HOST_HZ),
        "speaker": speaking_bot(near.url, sid, await bot_token(speaker), SPEAKER_HZ),
    }
    fans = []
    for node in cluster.nodes:  # writes through every node, the doomed one too
        for _ in range(2):
            fan = await person(node)
            await fan.ok("POST", f"/api/spaces/{sid}/join")
            fans.append(fan)
    acknowledged: Counter[int] = Counter()
    stop_writing = asyncio.Event()
    heard = {name: Reports() for name in ("host", "speaker", "listener", "whep")}

    def hearing_since(since: float) -> bool:
        return (
            any(hears(r, HOST_HZ) for r in heard["speaker"].after(since))
            and any(hears(r, SPEAKER_HZ) for r in heard["host"].after(since))
            and any(hears(r, HOST_HZ, SPEAKER_HZ) for r in heard["listener"].after(since))
            and any(hears(r, HOST_HZ, SPEAKER_HZ) for r in heard["whep"].after(since))
        )

    async with (
        HlsListener(near.url, sid) as listener,
        WhepListener(near.url, sid) as whep,  # signed out, its POSTs forwarded to the owner
        contextlib.AsyncExitStack() as stack,
    ):
        tasks = [
            asyncio.create_task(report(bots["host"], heard["host"])),
            asyncio.create_task(report(bots["speaker"], heard["speaker"])),
            asyncio.create_task(report(listener, heard["listener"])),
            asyncio.create_task(report(whep, heard["whep"])),
            asyncio.create_task(_write_until(stop_writing, fans, sid, acknowledged)),
        ]
        stack.push_async_callback(_stop, tasks)
        for reports in heard.values():
            await reports.until(lambda: hearing_since(0.0), within=30, what="both tones heard")
        offers_before = whep.offers

        await owner.kill()
        killed = time.monotonic()
        await owner_url(cluster.database_url, sid, other_than=first_owner)  # taken over
        for name, reports in heard.items():
            await reports.until(
                lambda: hearing_since(killed), within=40, what=f"{name}: both tones again"
            )
        stop_writing.set()
        for task in tasks[:4]:
            assert not task.done(), task  # the same bots, never restarted
        assert bots["speaker"].offers >= 2
        assert bots["host"].offers >= 2
        assert whep.offers > offers_before, whep.endings  # it offered again, to the new owner

    # Every write acknowledged before or during the kill is in the database.
    db = await database(cluster.database_url)
    try:
        stored = Counter(
            {
                row["user_id"]: row["count"]
                for row in await db.fetch(
                    "SELECT user_id, count(*) AS count FROM reactions "
                    "WHERE space_id = $1 GROUP BY user_id",
                    sid,
                )
            }
        )
    finally:
        await db.close()
    assert sum(acknowledged.values()) > 0
    for fan_id, count in acknowledged.items():
        assert stored[fan_id] >= count, (fan_id, stored[fan_id], count)

    # The recording continues across the gap, which the replay reports in seconds.
    host_near = await on(near, host)
    await host_near.ok("POST", f"/api/spaces/{sid}/end")
    access = await host_near.ok("GET", f"/api/spaces/{sid}/listen")
    assert access["replay"] is True
    assert access["gap_seconds"] > 0
    replay = m3u8.loads((await host_near.http.get(access["playlist_url"])).text)
    # Each entry is seg{first}-{last}.m4s (or seg{n}.m4s): consecutive segments joined.
    ranges = [
        [int(n) for n in s.uri.removeprefix("seg").removesuffix(".m4s").split("-")]
        for s in replay.segments
    ]
    holes = [
        later[0] - earlier[-1] - 1
        for earlier, later in itertools.pairwise(ranges)
        if later[0] > earlier[-1] + 1
    ]
    msns = ranges
    assert holes, msns  # audio before the kill and after it, a hole between
    assert [s.discontinuity for s in replay.segments].count(True) == len(holes)
    assert access["gap_seconds"] == pytest.approx(sum(holes) * SEGMENT_SECONDS, abs=0.01)
    for segment in replay.segments:  # and it all plays
        answer = await host_near.http.get(access["playlist_url"].replace("index.m3u8", segment.uri))
        assert answer.status_code == 200
    await host_near.http.aclose()


async def _stop(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
