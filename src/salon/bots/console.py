"""What ``salon bot speak``, ``salon bot listen`` and ``salon bot whep`` print: one line
per second, each from only what arrived in that second, and one line when the bot stops."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from salon.bots.analysis import dominant_frequency
from salon.bots.listener import HlsListener, ListenerStatus
from salon.bots.retry import Clock
from salon.bots.stage_bot import SpeakerStatus, StageBot
from salon.bots.whep_listener import WhepListener
from salon.media.levels import level_dbfs


@dataclass(frozen=True, slots=True)
class Report:
    """One stretch of time (``clock`` times) and what the bot had from it."""

    start: float
    end: float
    status: SpeakerStatus | ListenerStatus
    line: str


async def report_while(
    work: Coroutine[Any, Any, None],
    tick: Callable[[float, float], None],
    *,
    interval: float = 1.0,
    seconds: float = 0.0,
    clock: Clock = time.monotonic,
) -> None:
    """Run ``work``, calling ``tick(start, end)`` every ``interval``, until ``work`` ends (its
    exception, if any, propagates) or ``seconds`` pass (0: no limit); ``work`` is cancelled
    then."""
    task = asyncio.create_task(work)
    began = last = clock()
    count = 0
    try:
        while seconds <= 0 or last - began < seconds - 1e-6:
            count += 1
            wait = max(0.0, began + count * interval - clock())
            done, _ = await asyncio.wait({task}, timeout=wait)
            if done:
                task.result()
                return
            now = clock()
            tick(last, now)
            last = now
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def speaker_report(bot: StageBot, start: float, end: float, elapsed: float) -> Report:
    status = bot.status(start)
    if status.hearing:
        line = (
            f"{elapsed:5.0f}s  hearing {level_dbfs(status.audio):6.1f} dBFS, "
            f"strongest {dominant_frequency(status.audio):6.0f} Hz"
        )
    else:
        line = f"{elapsed:5.0f}s  hearing nothing"
    if status.note:
        line += f" · {status.note}"
    return Report(start, end, status, line)


def listener_report(hls: HlsListener, start: float, end: float, elapsed: float) -> Report:
    status = hls.status(start)
    if status.hearing:
        delay = statistics.median(hls.delays[-5:]) if hls.delays else float("nan")
        line = (
            f"{elapsed:5.0f}s  level {level_dbfs(status.audio):6.1f} dBFS, strongest "
            f"{dominant_frequency(status.audio):6.0f} Hz, {delay * 1000:5.0f} ms behind live"
        )
    else:
        line = f"{elapsed:5.0f}s  no audio arrived · {status.note}"
    return Report(start, end, status, line)


def whep_report(bot: WhepListener, start: float, end: float, elapsed: float) -> Report:
    status = bot.status(start)
    if status.hearing:
        line = (
            f"{elapsed:5.0f}s  level {level_dbfs(status.audio):6.1f} dBFS, strongest "
            f"{dominant_frequency(status.audio):6.0f} Hz, offer {bot.offers}"
        )
    else:
        line = f"{elapsed:5.0f}s  no audio arrived · {status.note}"
    return Report(start, end, status, line)
