"""The WHEP listener bot hears a speaking stage bot over WebRTC, offers again when the server
hangs its session up, hangs up itself when stopped, and gives up saying why when WHEP is full."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from salon.bots.outcomes import GaveUp
from salon.bots.whep_listener import WhepListener
from tests.conftest import ServerFactory
from tests.harness import Server, problem
from tests.media.bot_reports import Reports, bot_token, hears, report, speaking_bot

HOST_HZ = 440.0


async def test_it_hears_the_stage_and_offers_again_after_a_hang_up(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("WHEP bot"))["id"]
    speaker = speaking_bot(server.url, sid, await bot_token(host), HOST_HZ)
    spoken, heard = Reports(), Reports()
    async with (
        WhepListener(server.url, sid) as whep,  # signed out: the space is free
        httpx.AsyncClient(base_url=server.url) as someone,
    ):
        tasks = [
            asyncio.create_task(report(speaker, spoken)),
            asyncio.create_task(report(whep, heard)),
        ]
        try:
            await heard.until(
                lambda: any(hears(r, HOST_HZ) for r in heard.all), within=20, what="the tone"
            )
            assert whep.offers == 1
            session = whep.location
            assert session is not None
            assert session.startswith(f"/api/spaces/{sid}/whep/")

            # Whoever holds the session URL hangs it up: the bot offers again and hears again.
            assert (await someone.delete(session)).status_code == 204
            hung_up = time.monotonic()
            await heard.until(
                lambda: whep.offers >= 2 and any(hears(r, HOST_HZ) for r in heard.after(hung_up)),
                within=20,
                what="a new offer, and the tone again",
            )
            assert "hung up" in whep.endings[0], whep.endings
            second = whep.location
            assert second not in (None, session)
            for task in tasks:
                assert not task.done(), task
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        # Stopped, it hung its session up: asked about, the session says it was.
        assert whep.location is None
        assert second is not None
        assert "hung up" in problem(await someone.delete(second), 410)["detail"]


async def test_a_full_node_makes_it_give_up_saying_so(make_server: ServerFactory) -> None:
    async with make_server(whep_max_viewers=0) as server:
        host = await server.person("host")
        sid = (await host.create_space("No WebRTC here"))["id"]
        async with WhepListener(server.url, sid, give_up_after=5) as whep:
            with pytest.raises(GaveUp) as stopped:
                async with asyncio.timeout(10):
                    await whep.run()
        # The 503 asked for 30 s (Retry-After), more than its patience: it says so at once.
        assert "503" in stopped.value.line
        assert "asked to wait 30 s" in stopped.value.line
        assert whep.offers == 0
