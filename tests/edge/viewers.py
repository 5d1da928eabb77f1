"""Signed-out viewers for the edge tests: what a listener's page does without an event
stream, i.e. play the audio (``players.Player``) and follow the audience view beside it
with blocking reloads, on its own keep-alive connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.edge.players import HttpStatus, Player, RawHttpClient


@dataclass
class AudienceFollower:
    """Follows ``audience.json`` as the web app does: the current view, then ``?v=next``."""

    base_url: str
    url: str
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    views: int = 0
    version: int = -1
    #: Every user id seen on the stage, and every burst (its seq) seen.
    stage: set[int] = field(default_factory=set)
    bursts: dict[int, dict[str, int]] = field(default_factory=dict)
    audience: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._http = RawHttpClient(self.base_url, timeout=20.0)

    def _take(self, view: dict[str, Any]) -> None:
        self.views += 1
        self.version = max(self.version, int(view["version"]))
        self.stage.update(p["user"]["id"] for p in view["space"]["stage"])
        self.audience = int(view["audience_count"])
        for reaction in view["reactions"]:
            if "counts" in reaction:
                self.bursts[int(reaction["seq"])] = reaction["counts"]

    async def run(self, until: float) -> None:
        try:
            target = self.url
            while time.monotonic() < until and not self.stop.is_set():
                try:
                    response = await self._http.get(target)
                    if response.status != 200:
                        raise HttpStatus(response.status, target)
                    view = json.loads(response.body)
                    self._take(view)
                    target = f"{self.url}?v={self.version + 1}"
                except HttpStatus as exc:
                    self.errors[f"http {exc.status}"] += 1
                    await asyncio.sleep(0.25)
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    self.errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.25)
        finally:
            await self._http.aclose()


@dataclass
class Viewer:
    """One signed-out person listening to a space through the edge."""

    player: Player
    follower: AudienceFollower

    @classmethod
    def of(cls, base_url: str, playlist: str) -> Viewer:
        view = playlist.rsplit("/", 1)[0] + "/audience.json"
        return cls(Player(base_url, playlist), AudienceFollower(base_url, view))

    async def run(self, until: float) -> None:
        await asyncio.gather(self.player.run(until), self.follower.run(until))

    def stop(self) -> None:
        self.player.stop.set()
        self.follower.stop.set()


def origin_connections(port: int) -> int:
    """Established TCP connections to ``port`` on this machine (IPv4 and IPv6)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as file:
            next(file)
            for line in file:
                fields = line.split()
                local, state = fields[1], fields[3]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count
