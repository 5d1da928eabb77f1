"""``salon bot speak`` as the README runs it holds a seat by itself: unmuted (or ``--muted``)
and saying so, present past several grace-period sweeps, heard by an LL-HLS listener; and the
newest connection of the same person wins, the older bot told "replaced by your other
device" and exiting 3."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from salon.bots.analysis import tone_strength
from salon.bots.listener import HlsListener
from salon.bots.outcomes import REPLACED_LINE, Replaced
from salon.media.levels import level_dbfs
from tests.conftest import ServerFactory
from tests.harness import BACKENDS, Person, Server, wait_for_sweeps
from tests.media.bot_reports import Reports, bot_token, report, speaking_bot

OLD_HZ, NEW_HZ = 440.0, 660.0
HEARD = 0.05
#: Short, so the test outlasts it at once (by the server's offset clock).
GRACE_SECONDS = 1.0


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Presence and seats live in the database: both backends here."""
    value: str = request.param
    return value


class CliBot:
    """``python -m salon bot speak ...`` as a child process, its lines collected as they come."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.lines: list[str] = []
        self._added = asyncio.Event()
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "salon",
            "bot",
            "speak",
            *self.args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "300", "PYTHONUNBUFFERED": "1"},
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode().rstrip())
            self._added.set()
            self._added = asyncio.Event()

    async def until(self, done: Callable[[str], bool], *, within: float, what: str) -> str:
        """The first line (from any so far) that ``done`` accepts."""
        try:
            async with asyncio.timeout(within):
                while True:
                    found = next((line for line in self.lines if done(line)), None)
                    if found is not None:
                        return found
                    await self._added.wait()
        except TimeoutError:
            raise AssertionError(f"not within {within} s: {what}; said:\n{self.said}") from None

    @property
    def said(self) -> str:
        return "\n".join(self.lines[-10:])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def exited(self, *, within: float) -> int:
        assert self.process is not None
        assert self._reader is not None
        async with asyncio.timeout(within):
            code = await self.process.wait()
            await self._reader
        return code

    async def stop(self) -> None:
        """Ctrl-C, as an operator stops it (it hangs up); killed if it does not go."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            await self.exited(within=10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


@contextlib.asynccontextmanager
async def cli_bot(server: Server, sid: str, token: str, *extra: str) -> AsyncIterator[CliBot]:
    """The README's example: ``salon bot speak --space ID --token TOKEN --tone 440``."""
    bot = CliBot(["--space", sid, "--token", token, "--server", server.url, *extra])
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def _on_stage(host: Person, sid: str, speaker: Person) -> None:
    await speaker.join(sid)
    await speaker.ok("POST", f"/api/spaces/{sid}/hand")
    await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")


async def _seat(host: Person, sid: str, person: Person) -> dict[str, Any] | None:
    """``person`` among the space's present participants, or None."""
    people = await host.ok("GET", f"/api/spaces/{sid}/participants")
    return next((p for p in people if p["user"]["id"] == person.id), None)


async def _hear(ear: HlsListener, present: float, absent: float | None = None) -> None:
    """Listen until the program carries ``present`` (and not ``absent``)."""
    async with asyncio.timeout(20):
        while True:
            audio = await ear.listen(1.0)
            if tone_strength(audio, present) > HEARD and (
                absent is None or tone_strength(audio, absent) < HEARD / 5
            ):
                return


async def _past_grace_periods(server: Server) -> None:
    """The grace period runs out (by the server's clock) and the sweeper runs several times."""
    server.clock.advance(GRACE_SECONDS + 1)
    await wait_for_sweeps(server, 3)


async def _tab(stack: contextlib.AsyncExitStack, speaker: Person, sid: str) -> Callable[[], Any]:
    """A browser tab of ``speaker`` following the space; returns how to close it."""
    tab = contextlib.AsyncExitStack()
    await tab.enter_async_context(speaker.events(sid))
    stack.push_async_callback(tab.aclose)
    return tab.aclose


async def test_the_readme_bot_is_heard_holds_its_seat_and_yields_to_a_newer_connection(
    make_server: ServerFactory,
) -> None:
    async with (
        make_server(presence_grace_seconds=GRACE_SECONDS) as server,
        contextlib.AsyncExitStack() as stack,
    ):
        host = await server.person("host")
        speaker = await server.person("speaker")
        sid = (await host.create_space("Bot seat"))["id"]
        token = await bot_token(speaker)
        hosts = await stack.enter_async_context(host.events(sid))
        ear = await stack.enter_async_context(HlsListener(server.url, sid))
        # A browser tab brings the speaker on stage (muted, as every new speaker comes),
        # the bot starts, and the tab closes once the bot is on air.
        close_tab = await _tab(stack, speaker, sid)
        await _on_stage(host, sid, speaker)
        bot = await stack.enter_async_context(cli_bot(server, sid, token, "--tone", str(OLD_HZ)))
        await hosts.until(
            lambda e: e["type"] == "unmuted" and e["user_id"] == speaker.id, within=30
        )
        await bot.until(
            lambda line: line.endswith("· unmuted"), within=15, what="a line saying it is unmuted"
        )
        await close_tab()
        await _hear(ear, OLD_HZ)

        # Its own event stream keeps it present past the grace period.
        await _past_grace_periods(server)
        seat = await _seat(host, sid, speaker)
        assert seat is not None, "the bot's account was let go after its grace period"
        assert (seat["role"], seat["muted"]) == ("speaker", False)
        await _hear(ear, OLD_HZ)
        assert bot.running, bot.said

        # The same account connects again (another bot): the newest wins.
        newer = speaking_bot(server.url, sid, token, NEW_HZ)
        reports = Reports()
        running = asyncio.create_task(report(newer, reports))
        stack.push_async_callback(_cancel, running)
        assert await bot.exited(within=20) == Replaced.exit_code == 3, bot.said
        assert bot.lines[-1] == REPLACED_LINE, bot.said
        await _hear(ear, NEW_HZ, absent=OLD_HZ)
        await _past_grace_periods(server)
        seat = await _seat(host, sid, speaker)
        assert seat is not None
        assert seat["role"] == "speaker"
        await _hear(ear, NEW_HZ, absent=OLD_HZ)

        # Only the speaker's own streams were told: the host's stream got the mute that
        # followed, and never the replacement published before it.
        await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/mute")
        await hosts.until(lambda e: e["type"] == "muted")
        assert all(e["type"] != "speaker_replaced" for e in hosts.seen)
        await reports.until(
            lambda: reports.all[-1].status.note == "muted by the host",
            within=10,
            what="the newer bot reports the host's mute",
        )
        assert not running.done()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_muted_bot_holds_its_seat_silently_and_mutes_an_open_seat(
    make_server: ServerFactory,
) -> None:
    async with (
        make_server(presence_grace_seconds=GRACE_SECONDS) as server,
        contextlib.AsyncExitStack() as stack,
    ):
        host = await server.person("host")
        speaker = await server.person("speaker")
        sid = (await host.create_space("Muted bot"))["id"]
        token = await bot_token(speaker)
        hosts = await stack.enter_async_context(host.events(sid))
        ear = await stack.enter_async_context(HlsListener(server.url, sid))
        close_tab = await _tab(stack, speaker, sid)
        await _on_stage(host, sid, speaker)
        # The tab had opened the microphone: the bot, asked to stay muted, shuts it.
        await speaker.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/unmute")
        await hosts.until(lambda e: e["type"] == "unmuted" and e["user_id"] == speaker.id)
        bot = await stack.enter_async_context(
            cli_bot(server, sid, token, "--tone", str(OLD_HZ), "--muted")
        )
        muted = await hosts.until(
            lambda e: e["type"] == "muted" and e["user_id"] == speaker.id, within=30
        )
        assert muted["by"] == speaker.id
        await bot.until(
            lambda line: "hearing " in line and line.endswith("· muted (--muted)"),
            within=15,
            what="a line saying it stays muted",
        )
        await close_tab()

        await _past_grace_periods(server)
        seat = await _seat(host, sid, speaker)
        assert seat is not None, "the bot's account was let go after its grace period"
        assert (seat["role"], seat["muted"]) == ("speaker", True)
        assert level_dbfs(await ear.listen(1.5)) < -60
        assert bot.running, bot.said
        assert all(not line.endswith("· unmuted") for line in bot.lines), bot.said
