"""Bots across a crash: the server is killed (SIGKILL) and started again on the same database
and port, and the same speaking and listening bots hear the space again by themselves."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from salon.bots.listener import HlsListener
from salon.bots.stage_bot import StageBot
from tests.edge.stack import Origin, register
from tests.media.bot_reports import Reports, bot_token, hears, report, speaking_bot

HOST_HZ, SPEAKER_HZ = 300.0, 660.0


@pytest.fixture
async def origin(tmp_path: Path) -> AsyncIterator[Origin]:
    """``salon serve`` as a child process (on SQLite), so it can be killed and restarted."""
    server = Origin(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_bots_hear_the_space_again_after_the_server_is_killed_and_restarted(
    origin: Origin,
) -> None:
    host = await register(origin.url)
    speaker = await register(origin.url)
    sid = (await host.ok("POST", "/api/spaces", json={"title": "Crash"}))["id"]
    await speaker.ok("POST", f"/api/spaces/{sid}/join")
    await speaker.ok("POST", f"/api/spaces/{sid}/hand")
    await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")
    # The speaker comes on stage muted; its bot unmutes itself.
    bots: dict[str, StageBot] = {
        "host": speaking_bot(origin.url, sid, await bot_token(host), HOST_HZ),
        "speaker": speaking_bot(origin.url, sid, await bot_token(speaker), SPEAKER_HZ),
    }
    heard = {name: Reports() for name in ("host", "speaker", "listener")}
    async with HlsListener(origin.url, sid) as listener, contextlib.AsyncExitStack() as stack:
        tasks = [
            asyncio.create_task(report(bots["host"], heard["host"])),
            asyncio.create_task(report(bots["speaker"], heard["speaker"])),
            asyncio.create_task(report(listener, heard["listener"])),
        ]
        stack.push_async_callback(_stop, tasks)

        def hearing_again(since: float) -> bool:
            return (
                any(hears(r, HOST_HZ) for r in heard["speaker"].after(since))
                and any(hears(r, SPEAKER_HZ) for r in heard["host"].after(since))
                and any(hears(r, HOST_HZ, SPEAKER_HZ) for r in heard["listener"].after(since))
            )

        for reports in heard.values():
            await reports.until(lambda: hearing_again(0.0), within=30, what="both tones heard")

        await origin.kill()
        killed = time.monotonic()
        # Nothing can arrive now: each bot says so (rather than repeating what it heard).
        for name in ("speaker", "listener"):
            await heard[name].until(
                _hears_nothing_since(heard[name], killed), within=10, what=f"the {name} notices"
            )
        restarting = time.monotonic()
        await origin.start()  # the same port and database
        restarted = time.monotonic()
        for reports in heard.values():
            await reports.until(
                lambda: hearing_again(restarted), within=40, what="both tones heard again"
            )
        for task in tasks:
            assert not task.done(), task  # the same bots, never restarted

    # While the server was down, no report said the bots heard anything, let alone the tone.
    for name in ("speaker", "listener"):
        down = [r for r in heard[name].after(killed) if r.end <= restarting]
        assert down, f"no report of the {name} bot while the server was down"
        for r in down:
            assert not r.status.hearing, r.line
            assert r.status.audio.size == 0, r.line
            assert "reconnecting" in r.status.note, r.line
    assert bots["speaker"].offers >= 2  # a new connection after the restart
    assert listener.resyncs >= 1  # found its place in the new run's stream
    await host.ok("POST", f"/api/spaces/{sid}/end")
    await host.aclose()
    await speaker.aclose()


def _hears_nothing_since(reports: Reports, moment: float) -> Callable[[], bool]:
    return lambda: any(not r.status.hearing for r in reports.after(moment))


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
