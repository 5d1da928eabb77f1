"""An origin restart mid-space (killed, started again on the same database): a player
through the edge keeps going by itself across the discontinuity, and no media name of the
new run repeats one of the old run (the edge caches every name for a year)."""

from __future__ import annotations

import asyncio
import re
import time

import m3u8
import pytest
from tests.edge.players import Player, part_number
from tests.edge.stack import Stack, register

pytestmark = pytest.mark.asyncio(loop_scope="session")

_MEDIA_URI = re.compile(r"(?:seg\d+|part\d+\.\d+)\.m4s")


def media_names(playlists: list[str]) -> set[str]:
    return {name for text in playlists for name in _MEDIA_URI.findall(text)}


async def test_a_player_keeps_going_across_an_origin_restart(stack: Stack) -> None:
    host = await register(stack.edge.http_url)
    space = await host.ok("POST", "/api/spaces", json={"title": "Restart"})
    playlist = (await host.ok("GET", f"/api/spaces/{space['id']}/listen"))["playlist_url"]
    wanted = 5
    enough = asyncio.Event()

    def on_part(name: str, data: bytes) -> None:
        if len(player.order) >= target:
            enough.set()

    target = wanted
    player = Player(stack.edge.http_url, playlist, on_part=on_part, keep_playlists=True)
    task = asyncio.create_task(player.run(until=time.monotonic() + 90))
    try:
        async with asyncio.timeout(30):
            await enough.wait()
        before = set(player.order)
        old_playlists = list(player.playlists)

        await stack.origin.kill()
        await stack.origin.start()  # the same port and database
        restarted_at = len(player.playlists)
        mark = len(player.order)
        target = mark + wanted
        enough.clear()
        async with asyncio.timeout(60):
            await enough.wait()
    finally:
        player.stop.set()
        await task
    after = player.order[mark:]
    assert len(after) >= wanted
    assert not before & set(after)
    assert min(map(part_number, after)) > max(map(part_number, before))
    new_playlists = player.playlists[restarted_at:]
    assert new_playlists
    # No name the new run lists is one the old run listed.
    assert not media_names(old_playlists) & media_names(new_playlists)
    parsed = [m3u8.loads(text) for text in new_playlists]
    assert any(
        p.discontinuity_sequence or any(s.discontinuity for s in p.segments) for p in parsed
    ) or any("#EXT-X-DISCONTINUITY" in text for text in new_playlists)
    await host.ok("POST", f"/api/spaces/{space['id']}/end")
    await host.aclose()
