"""Runs gst_webrtc.py (GStreamer's webrtcbin under Debian's Python) from a test and follows it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

#: Debian's interpreter: python3-gi (and so GStreamer's introspection) serves it, not the venv.
DEBIAN_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("gst_webrtc.py")
APT = (
    "apt-get install gstreamer1.0-plugins-bad gstreamer1.0-plugins-good gstreamer1.0-plugins-base "
    "gstreamer1.0-nice python3-gi gir1.2-gst-plugins-bad-1.0 (or: make media-tools)"
)
_CHECK = """
import gi
gi.require_version("Gst", "1.0"); gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import Gst, GstWebRTC, GstSdp
Gst.init(None)
missing = [e for e in ("webrtcbin", "nicesrc", "dtlssrtpenc", "opusenc", "opusdec",
    "rtpopuspay", "rtpopusdepay", "audiotestsrc", "appsink") if not Gst.ElementFactory.find(e)]
if missing:
    raise SystemExit("missing elements: " + " ".join(missing))
"""


@functools.cache
def _missing() -> str:
    """What keeps GStreamer's WebRTC from running here ("" when nothing)."""
    if not os.access(DEBIAN_PYTHON, os.X_OK):
        return f"no {DEBIAN_PYTHON}"
    try:
        done = subprocess.run(
            [DEBIAN_PYTHON, "-c", _CHECK], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return "checking GStreamer took over a minute"
    if done.returncode != 0:
        lines = (done.stderr.strip() or done.stdout.strip() or "failed").splitlines()
        return f"{DEBIAN_PYTHON} cannot use GStreamer's WebRTC: {lines[-1]}"
    return ""


def require_gstreamer() -> None:
    missing = _missing()
    if missing:
        pytest.skip(f"{missing}; install: {APT}")


class GstClient:
    """``async with GstClient("publish", url, ...) as gst``: the script runs; ``await
    gst.event("connection")`` waits for a line; ``await gst.finished()`` for its end. Leaving
    the block kills it if it still runs."""

    def __init__(self, mode: str, url: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.argv = [DEBIAN_PYTHON, str(SCRIPT), mode, url, *args]
        self.env = env
        self.events: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        self._process: asyncio.subprocess.Process | None = None
        self._arrived = asyncio.Condition()
        self._readers: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> GstClient:
        self._process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(self.env or {})},
        )
        self._readers = [
            asyncio.create_task(self._read_events()),
            asyncio.create_task(self._read_stderr()),
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        for reader in self._readers:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read_events(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        async for raw in self._process.stdout:
            line = raw.decode(errors="replace").strip()
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = {"event": "text", "text": line}
            async with self._arrived:
                self.events.append(event)
                self._arrived.notify_all()
        async with self._arrived:
            self.events.append({"event": "exit"})
            self._arrived.notify_all()

    async def _read_stderr(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        async for raw in self._process.stderr:
            self.stderr.append(raw.decode(errors="replace").rstrip())

    def what_happened(self) -> str:
        """The events and the end of stderr, for an assertion's message."""
        said = "\n".join(json.dumps(e) for e in self.events)
        return f"events:\n{said}\nstderr (last lines):\n" + "\n".join(self.stderr[-25:])

    async def event(self, name: str, *, within: float, **fields: Any) -> dict[str, Any]:
        """The first event ``name`` (with these fields); fails if the script ends first."""

        def found() -> dict[str, Any] | None:
            for event in self.events:
                if event["event"] == name and all(event.get(k) == v for k, v in fields.items()):
                    return event
            return None

        try:
            async with asyncio.timeout(within), self._arrived:
                await self._arrived.wait_for(
                    lambda: found() is not None or self.events[-1:] == [{"event": "exit"}]
                )
        except TimeoutError:
            raise AssertionError(
                f"no {name} {fields or ''} within {within:g} s\n{self.what_happened()}"
            ) from None
        event = found()
        if event is None:
            await self.finished(within=5)
            raise AssertionError(
                f"gst_webrtc ended (status {self.returncode}) before {name} {fields or ''}\n"
                f"{self.what_happened()}"
            )
        return event

    async def finished(self, *, within: float) -> int:
        assert self._process is not None
        try:
            async with asyncio.timeout(within):
                status = await self._process.wait()
                for reader in self._readers:
                    await reader
        except TimeoutError:
            raise AssertionError(
                f"gst_webrtc still runs after {within:g} s\n{self.what_happened()}"
            ) from None
        return status

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process is not None else None
