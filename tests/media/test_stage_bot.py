"""A speaking bot holds its seat like a browser: present past the grace period, unmuted by
itself (never over a host's mute), offering again when the space's media moves."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from salon.bots.analysis import tone_strength
from salon.bots.listener import HlsListener
from salon.bots.outcomes import SpaceOver
from salon.events.types import Event, MediaMoved
from salon.media.levels import level_dbfs
from salon.media.pcm import SAMPLE_RATE
from tests.conftest import ServerFactory
from tests.harness import Person, Server, wait_for_sweeps
from tests.media.bot_reports import Reports, report, speaking_bot

SPEAKER_HZ = 500.0
HEARD = 0.05
#: Short, so the test outlasts it at once (by the server's offset clock).
GRACE_SECONDS = 1.0


async def _publish(server: Server, event: Event) -> None:
    """Publish ``event`` on the server's own bus, on the server's event loop (no service
    sends ``media_moved`` yet: a node will, when a space's media moves to it)."""
    loop = server._server.servers[0].get_loop()
    bus = server.app.state.ctx.bus
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(bus.publish(event), loop))


async def _token(person: Person) -> str:
    return str((await person.ok("POST", "/api/me/tokens", json={"name": "bot"}))["token"])


async def _seat(host: Person, sid: str, person: Person) -> dict[str, Any] | None:
    """``person`` among the space's present participants, or None."""
    people = await host.ok("GET", f"/api/spaces/{sid}/participants")
    return next((p for p in people if p["user"]["id"] == person.id), None)


async def _stage(server: Server) -> tuple[Person, Person, str]:
    """A host and a speaker brought on stage from a browser tab that then closed."""
    host = await server.person("host")
    speaker = await server.person("speaker")
    sid = (await host.create_space("Held seat"))["id"]
    async with speaker.events(sid):
        await speaker.join(sid)
        await speaker.ok("POST", f"/api/spaces/{sid}/hand")
        await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")
    # The tab closed: the speaker's grace period runs from now.
    return host, speaker, sid


async def test_a_speaking_bot_holds_its_seat(make_server: ServerFactory) -> None:
    async with make_server(presence_grace_seconds=GRACE_SECONDS) as server:
        host, speaker, sid = await _stage(server)
        bot = speaking_bot(server.url, sid, await _token(speaker), SPEAKER_HZ)
        reports = Reports()
        async with host.events(sid) as hosts, HlsListener(server.url, sid) as ear:
            running = asyncio.create_task(report(bot, reports))
            try:
                # It unmutes itself (it came on stage muted) and is heard.
                await hosts.until(lambda e: e["type"] == "unmuted" and e["user_id"] == speaker.id)
                await hosts.until(
                    lambda e: e["type"] == "speaking" and speaker.id in e["user_ids"], within=15
                )
                assert tone_strength(await ear.listen(1.0), SPEAKER_HZ) > HEARD

                # Its event stream keeps it present past the grace period.
                server.clock.advance(GRACE_SECONDS + 1)
                await wait_for_sweeps(server, 3)
                seat = await _seat(host, sid, speaker)
                assert seat is not None, "the speaker was let go when the grace period ended"
                assert (seat["role"], seat["muted"]) == ("speaker", False)
                assert tone_strength(await ear.listen(1.0), SPEAKER_HZ) > HEARD

                # The space's media moved: a new connection, heard again.
                offers = bot.offers
                await _publish(
                    server, MediaMoved(space_id=sid, at=server.clock.now(), node="elsewhere")
                )
                await reports.until(
                    lambda: bot.offers > offers and reports.all[-1].status.hearing,
                    within=10,
                    what="a new offer after media_moved",
                )
                assert tone_strength(await ear.listen(1.0), SPEAKER_HZ) > HEARD

                # A host's mute holds: the bot says so and stays silent.
                await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/mute")
                await reports.until(
                    lambda: reports.all[-1].status.note == "muted by the host",
                    within=5,
                    what="the bot reports the host's mute",
                )
                # From the live edge: the first part may hold the moment before the mute.
                assert level_dbfs((await ear.listen(1.5))[-SAMPLE_RATE:]) < -60
                seat = await _seat(host, sid, speaker)
                assert seat is not None
                assert seat["muted"]

                # The space ends: the bot stops, saying so.
                await host.ok("POST", f"/api/spaces/{sid}/end")
                with pytest.raises(SpaceOver) as over:
                    async with asyncio.timeout(10):
                        await running
                assert over.value.exit_code == 0
                assert over.value.line == "the space ended"
                # A listener following it stops too: its playlist ended (EXT-X-ENDLIST).
                with pytest.raises(SpaceOver):
                    async with asyncio.timeout(10):
                        await ear.run()
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
