"""Counting listeners at the edge: nginx logs one line per counted audio request (the space's
id, see ``deploy/nginx/salon.conf``); this reads the new lines every few seconds and reports
the counts per space to the origin (``POST /api/edge/listeners``), which turns them into
players (``domain/audience.py``). With several origin nodes the reports go to one node at
a time: the one that took the last report (so one node keeps seeing the whole series), else,
when it fails, the next that answers.

Cheap at any audience: nginx writes a few bytes per player per segment into a 64 KiB buffer,
and a read is one ``bytes.split`` and a ``Counter`` over what came in. The log is truncated
when it passes ``TRUNCATE_AT``; lines nginx writes between that read and the truncation are
lost (a fraction of a second's worth, once per ``TRUNCATE_AT`` bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

REPORT_EVERY_SECONDS = 2.0
#: nginx writes the listener log through a buffer flushed each second (``flush=1s``): a
#: line can reach the file this long after its request, at most.
FLUSH_SLACK_SECONDS = 1.5
TRUNCATE_AT = 16 * 1024 * 1024


class ListenerLog:
    """New complete lines of nginx's listener log, counted per space since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0

    def read(self) -> Counter[str]:
        try:
            with self.path.open("rb") as file:
                size = os.fstat(file.fileno()).st_size
                if size < self._offset:  # truncated by someone else: start over
                    self._offset = 0
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            return Counter()
        end = data.rfind(b"\n") + 1  # a line nginx is still writing waits for the next read
        self._offset += end
        counts = Counter(line.decode("ascii", "replace") for line in data[:end].split(b"\n"))
        counts.pop("", None)
        if self._offset >= TRUNCATE_AT:
            with contextlib.suppress(OSError):
                os.truncate(self.path, 0)
            self._offset = 0
        return counts


class ListenerReporter:
    """Every ``interval`` seconds, report the counted requests to one of the origin nodes
    (base URLs, ``http://host:port``): the one that took the last report, or on an error (no
    connection, a timeout, a 5xx) the next one in turn."""

    def __init__(
        self,
        *,
        path: Path,
        origins: Sequence[str],
        edge_secret: str,
        name: str,
        interval: float = REPORT_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = ListenerLog(path)
        self.name = name
        self._clock = clock
        self._since = clock()
        if not origins:
            raise ValueError("a listener reporter needs at least one origin")
        self.origins = list(origins)
        self._current = 0
        self.interval = interval
        self._headers = {"X-Salon-Edge-Key": edge_secret}
        self._task: asyncio.Task[None] | None = None
        #: Requests counted that the origin has not taken yet (kept across a failed report).
        self.pending: Counter[str] = Counter()
        self.reported = 0

    @property
    def origin(self) -> str:
        """The node the next report goes to first."""
        return self.origins[self._current]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="salon-edge-listeners")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def report_once(self, client: httpx.AsyncClient) -> None:
        self.pending.update(self.log.read())
        now = self._clock()
        if not self.pending:
            # An empty read says little: nginx may still hold lines in its buffer (it flushes
            # each second). So the time goes with the next report, which will carry them
            # (restarting it here made a report claim two reads' lines over one read's time,
            # and doubled the count), but no further back than a flush: after an idle spell
            # a new audience's first lines do not spread over all of it.
            self._since = max(self._since, now - FLUSH_SLACK_SECONDS)
            return
        seconds = max(now - self._since, 0.001)
        report = {"edge": self.name, "seconds": seconds, "requests": dict(self.pending)}
        response = await self._post(client, report)
        self._since = now
        if response.status_code == 204:
            self.reported += sum(self.pending.values())
            self.pending.clear()
        else:
            log.warning("the origin refused a listener report: %s", response.text[:200])
            if response.status_code < 500:
                self.pending.clear()  # it will not take these; do not grow forever
            else:
                self._since = now - seconds  # they go with the next report

    async def _post(self, client: httpx.AsyncClient, report: object) -> httpx.Response:
        """POST to the current node, else to each other in turn until one answers below 500;
        the last answer, or the last error if none answered at all."""
        response: httpx.Response | None = None
        error: httpx.HTTPError | None = None
        for attempt in range(len(self.origins)):
            index = (self._current + attempt) % len(self.origins)
            origin = self.origins[index]
            try:
                answer = await client.post(
                    f"{origin}/api/edge/listeners", json=report, headers=self._headers
                )
            except httpx.HTTPError as exc:
                error = exc
                log.info("listener report to %s failed: %s", origin, exc)
                continue
            response = answer
            if answer.status_code < 500:
                self._current = index
                return answer
            log.info("listener report to %s answered %d", origin, answer.status_code)
        if response is None:
            assert error is not None
            raise error
        return response

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            while True:
                await asyncio.sleep(self.interval)
                try:
                    await self.report_once(client)
                except httpx.HTTPError as exc:
                    log.warning("could not report listeners to the origin: %s", exc)
