"""Failover as people live it, in two real Chromiums: the node running a space's media is
killed while its host speaks (a fake microphone playing a tone) and a listener listens; the
web app re-offers and the listener's player carries on, so the listener hears the host again.

The pages reach the nodes through a TCP proxy standing in for a load balancer: when the node
they were connected through is the one killed, the proxy sends their next connections to a
survivor, as a balancer's health check would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.chromium import Screenshots, chromium, wait_to_hear, write_tone_wav
from tests.browser.people import connection_state, sign_up
from tests.cluster.conftest import Cluster
from tests.cluster.nodes import owner_url
from tests.fakes.tcp_proxy import TcpProxy

pytestmark = pytest.mark.asyncio(loop_scope="session")

HOST_TONE = 440.0


class _Entry:
    """What ``sign_up`` needs of a server: where to reach it."""

    def __init__(self, url: str) -> None:
        self.url = url


async def test_a_listener_hears_the_host_again_after_the_media_node_is_killed(
    cluster: Cluster, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    screenshots = Screenshots(request.node.name)
    first = cluster.nodes[0]
    microphone = write_tone_wav(tmp_path / "host.wav", HOST_TONE)
    async with (
        TcpProxy("127.0.0.1", first.port) as balancer,
        async_playwright() as playwright,
        chromium(playwright, microphone) as host_browser,
        chromium(playwright) as listener_browser,
    ):
        entry = _Entry(f"http://127.0.0.1:{balancer.port}")
        host = await sign_up(host_browser, entry, "fhost", "Fay Host")  # type: ignore[arg-type]
        await host.get_by_role("link", name="Start a space").first.click()
        await host.get_by_label("Title").fill("Through a failover")
        await host.get_by_role("button", name="Start space").click()
        await connection_state(host, "Live")
        space_url = host.url
        sid = space_url.rstrip("/").rsplit("/", 1)[1]

        listener = await sign_up(listener_browser, entry, "flisten", "Flo Listener")  # type: ignore[arg-type]
        await listener.goto(space_url)
        await listener.get_by_role("button", name="Listen").click()
        await wait_to_hear(listener, "listen-audio", present=(HOST_TONE,))
        await screenshots.take(listener, "hears-host-before")

        owner = await owner_url(cluster.database_url, sid)
        doomed = next(node for node in cluster.nodes if node.url == owner)
        await doomed.kill()
        if doomed is first:  # the balancer's node: new connections go to a survivor
            balancer.target = ("127.0.0.1", cluster.nodes[1].port)
        await owner_url(cluster.database_url, sid, other_than=owner)  # taken over

        # The host's page re-offers to the new owner; the listener's player follows the
        # stream across the discontinuity: the host's tone comes back, by signal.
        await wait_to_hear(listener, "listen-audio", absent=(HOST_TONE,), within=15)
        await wait_to_hear(listener, "listen-audio", present=(HOST_TONE,), within=30)
        await connection_state(host, "Live", within=30)
        await expect(host.get_by_test_id("stage-member")).to_have_count(1)
        await screenshots.take(listener, "hears-host-after")
        await screenshots.take(host, "host-after")
