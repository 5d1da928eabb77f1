"""Three hundred signed-out viewers of a live space through the edge: each plays the audio
and follows the audience view as the web app does, yet the origin keeps a handful of
connections; they all see a stage change and a burst of reactions; the host sees them
counted (300 ± 5 %) and then sees them go.

Asserts counts and content, not times (the waits are bounds, generous for a loaded box).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from tests.edge.stack import AUDIENCE_WINDOW_SECONDS, Account, Stack, register
from tests.edge.viewers import Viewer, origin_connections

pytestmark = pytest.mark.asyncio(loop_scope="session")

VIEWERS = 300
#: nginx keeps ≤ 64 idle connections to the origin, and its audio cache's fetches are about
#: one per object being published per worker (collapsed), whatever the audience.
MAX_ORIGIN_CONNECTIONS = 40


async def audience_shown(
    host: Account, sid: str, done: Callable[[int], bool], within: float
) -> int:
    """The audience the host's page shows, polled until ``done`` or ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        count = int((await host.ok("GET", f"/api/spaces/{sid}"))["audience_count"])
        if done(count) or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.5)


def burst_totals(viewer: Viewer) -> dict[str, int]:
    """The reactions a viewer saw in bursts, summed per emoji over every burst."""
    totals: dict[str, int] = {}
    for burst in viewer.follower.bursts.values():
        for emoji, count in burst.items():
            totals[emoji] = totals.get(emoji, 0) + count
    return totals


async def until_true(check: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def test_hundreds_of_signed_out_viewers_cost_the_origin_a_few_connections(
    stack: Stack,
) -> None:
    edge = stack.edge.http_url
    host = await register(edge)
    sid = (await host.ok("POST", "/api/spaces", json={"title": "A crowd"}))["id"]
    hopeful = await register(edge)
    fans = [await register(edge) for _ in range(3)]
    for person in (hopeful, *fans):
        await person.ok("POST", f"/api/spaces/{sid}/join")
    await hopeful.ok("POST", f"/api/spaces/{sid}/hand")

    viewers = [Viewer.of(edge, f"/api/spaces/{sid}/hls/live.m3u8") for _ in range(VIEWERS)]
    watching = asyncio.gather(*(v.run(time.monotonic() + 150) for v in viewers))
    connections: list[int] = []
    try:
        counted = await audience_shown(host, sid, lambda n: abs(n - VIEWERS) <= 15, within=30)
        connections.append(origin_connections(stack.origin.port))
        assert abs(counted - VIEWERS) <= VIEWERS * 0.05, counted

        # A stage change and a burst of reactions reach every viewer through the edge.
        await host.ok("POST", f"/api/spaces/{sid}/participants/{hopeful.id}/approve")
        for fan in fans:
            for emoji in ("👏", "👏", "💯"):
                await fan.ok("POST", f"/api/spaces/{sid}/reactions", json={"emoji": emoji})
        # The nine reactions may fall into one burst or several: each viewer must see them all.
        sent = {"👏": 6, "💯": 3}
        seen = await until_true(
            lambda: all(
                hopeful.id in v.follower.stage and burst_totals(v) == sent for v in viewers
            ),
            within=20,
        )
        connections.append(origin_connections(stack.origin.port))
        missing = [v.follower for v in viewers if hopeful.id not in v.follower.stage]
        short = [v.follower for v in viewers if burst_totals(v) != sent]
        assert seen, (len(missing), len(short), missing[:1], short[:1])
    finally:
        for viewer in viewers:
            viewer.stop()
        await watching

    errors = sum(sum(v.follower.errors.values()) + sum(v.player.errors.values()) for v in viewers)
    assert errors == 0, [(dict(v.follower.errors), dict(v.player.errors)) for v in viewers][:5]
    assert max(connections) <= MAX_ORIGIN_CONNECTIONS, connections

    # They stopped: within two counting windows (and well within a minute) the host sees
    # only the joined listeners (the fans; the hopeful is on the stage now).
    left = await audience_shown(host, sid, lambda n: n == len(fans), within=60)
    assert left == len(fans), left
    assert 2 * AUDIENCE_WINDOW_SECONDS < 60
    print(
        f"\n{VIEWERS} viewers counted as {counted}; origin connections {connections}; "
        f"views per viewer {sum(v.follower.views for v in viewers) / VIEWERS:.1f}"
    )
    for person in (host, hopeful, *fans):
        await person.aclose()
