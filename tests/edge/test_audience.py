"""Many players of one live space through the edge cost the origin about one request per
published object: blocking playlist reloads and preload-hinted parts are collapsed.

Asserts counts and content, never times: every player gets ≥ 95 % of the parts, every part
has the same bytes for everyone, the origin's HLS requests over a run are at least the
distinct objects the players fetched and at most three times that plus 20, and ten times the
players do not cost the origin more than 10 % more requests per object they asked for.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import m3u8
import pytest
from tests.edge.players import Player, part_number
from tests.edge.stack import Stack, register

pytestmark = pytest.mark.asyncio(loop_scope="session")

SECONDS = 10.0


@dataclass
class Run:
    players: list[Player]
    origin_requests: int
    keys: set[str]


async def audience(
    stack: Stack, playlist: str, count: int, seconds: float = SECONDS, preload_hint: bool = True
) -> Run:
    before = await stack.origin.hls_requests()
    players = [
        Player(stack.edge.http_url, playlist, keep_playlists=index == 0, preload_hint=preload_hint)
        for index in range(count)
    ]
    until = time.monotonic() + seconds
    await asyncio.gather(*(player.run(until) for player in players))
    after = await stack.origin.hls_requests()
    keys = set().union(*(player.keys for player in players))
    return Run(players, after - before, keys)


def check_players(run: Run, seconds: float = SECONDS) -> None:
    players = run.players
    errors = sum(sum(p.errors.values()) for p in players)
    assert errors == 0, [dict(p.errors) for p in players if p.errors][:5]
    # The same bytes for every player: one object per name, whoever asked first.
    crcs: dict[str, set[int]] = {}
    for player in players:
        for name, crc in player.parts.items():
            crcs.setdefault(name, set()).add(crc)
    assert all(len(found) == 1 for found in crcs.values())
    published = sorted(crcs, key=part_number)
    first, last = part_number(published[0]), part_number(published[-1])
    assert last[0] - first[0] >= seconds / 0.96 - 3, (first, last)  # the stream went on
    for player in players:
        got = len(player.parts)
        assert got >= 0.95 * len(published), (got, len(published), dict(player.errors))
    assert len(players[0].init) > 0
    for text in players[0].playlists:
        parsed = m3u8.loads(text)
        assert parsed.is_endlist is False
        assert parsed.preload_hint is not None


async def test_hundreds_of_players_cost_the_origin_one_request_per_object(stack: Stack) -> None:
    space = await stack.admin.ok("POST", "/api/spaces", json={"title": "Audience"})
    access = await stack.admin.ok("GET", f"/api/spaces/{space['id']}/listen")
    playlist = access["playlist_url"]
    assert access["credential"] is None

    small = await audience(stack, playlist, 20)
    check_players(small)
    assert len(small.keys) <= small.origin_requests <= 3 * len(small.keys) + 20, (
        small.origin_requests,
        len(small.keys),
    )

    large = await audience(stack, playlist, 200)
    check_players(large)
    # What the large run asked for that the small one had already cached (the init) is not
    # the origin's to serve again.
    new = large.keys - small.keys
    assert len(new) <= large.origin_requests <= 3 * len(large.keys) + 20, (
        large.origin_requests,
        len(large.keys),
    )
    # Per object asked for: players that fall behind while joining also ask for older
    # objects, and each object costs the origin once per nginx worker whatever the audience.
    small_per_object = small.origin_requests / len(small.keys)
    large_per_object = large.origin_requests / len(large.keys)
    assert large_per_object <= 1.1 * small_per_object, (
        (large.origin_requests, len(large.keys)),
        (small.origin_requests, len(small.keys)),
    )
    print(
        f"\norigin HLS requests: {small.origin_requests} for 20 players "
        f"({len(small.keys)} objects), {large.origin_requests} for 200 ({len(large.keys)})"
    )


async def test_players_asking_only_for_listed_parts_get_every_part(stack: Stack) -> None:
    """hls.js's way (the web app's player): no preload-hinted part asked for before it
    exists; each part the blocking reload lists, asked for beside the next reload."""
    host = await register(stack.edge.http_url)
    space = await host.ok("POST", "/api/spaces", json={"title": "hls.js"})
    playlist = (await host.ok("GET", f"/api/spaces/{space['id']}/listen"))["playlist_url"]
    try:
        run = await audience(stack, playlist, 20, seconds=5.0, preload_hint=False)
    finally:
        await host.ok("POST", f"/api/spaces/{space['id']}/end")
        await host.aclose()
    check_players(run, seconds=5.0)
    for player in run.players:  # each part once, in order
        numbers = [part_number(name) for name in player.order]
        assert numbers == sorted(numbers)
        assert len(numbers) == len(set(numbers))
    assert len(run.keys) <= run.origin_requests <= 3 * len(run.keys) + 20, (
        run.origin_requests,
        len(run.keys),
    )
