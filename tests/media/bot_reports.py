"""Running bots in a test the way ``salon bot`` runs them: a report per interval, each from
only what arrived in it, collected so a test can wait on them (no sleeps)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from salon.bots.analysis import tone_strength
from salon.bots.console import Report, listener_report, report_while, speaker_report, whep_report
from salon.bots.listener import HlsListener
from salon.bots.stage_bot import StageBot
from salon.bots.tracks import PcmTrack, tone
from salon.bots.whep_listener import WhepListener
from tests.edge.stack import Account
from tests.harness import Person

#: A tone "is heard" above this share of the spectrum's energy.
HEARD = 0.05

#: Reports twice a second: the bots' own lines are per second, the tests want to be quick.
INTERVAL = 0.5


class Reports:
    """Every report of one bot, in order; ``until`` waits for a condition over them."""

    def __init__(self) -> None:
        self.all: list[Report] = []
        self._added = asyncio.Event()

    def add(self, report: Report) -> None:
        self.all.append(report)
        self._added.set()
        self._added = asyncio.Event()

    def after(self, moment: float) -> list[Report]:
        """Reports of stretches that began at or after ``moment`` (time.monotonic)."""
        return [r for r in self.all if r.start >= moment]

    async def until(self, done: Callable[[], bool], *, within: float, what: str) -> None:
        try:
            async with asyncio.timeout(within):
                while not done():
                    await self._added.wait()
        except TimeoutError:
            lines = "\n".join(r.line for r in self.all[-8:])
            raise AssertionError(f"not within {within} s: {what}; last reports:\n{lines}") from None


def speaking_bot(base_url: str, space_id: str, token: str, frequency: float) -> StageBot:
    return StageBot(base_url, space_id, token, lambda: PcmTrack(tone(frequency, 1.0)))


def report(
    bot: StageBot | HlsListener | WhepListener, reports: Reports
) -> Coroutine[Any, Any, None]:
    """The bot's run, reporting into ``reports`` every ``INTERVAL``."""
    began = time.monotonic()

    def tick(start: float, end: float) -> None:
        if isinstance(bot, StageBot):
            reports.add(speaker_report(bot, start, end, end - began))
        elif isinstance(bot, WhepListener):
            reports.add(whep_report(bot, start, end, end - began))
        else:
            reports.add(listener_report(bot, start, end, end - began))

    return report_while(bot.run(), tick, interval=INTERVAL)


def hears(report: Report, *frequencies: float) -> bool:
    """Whether a report's audio (only what arrived in its stretch) holds every tone."""
    audio = report.status.audio
    return report.status.hearing and all(tone_strength(audio, f) > HEARD for f in frequencies)


async def bot_token(account: Account | Person) -> str:
    """A personal API token for the account's bot."""
    return str((await account.ok("POST", "/api/me/tokens", json={"name": "bot"}))["token"])
