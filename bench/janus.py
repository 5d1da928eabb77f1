"""Janus AudioBridge as a reference stage: Debian's ``janus`` as a child process, and stage
bots that join an AudioBridge room over Janus' HTTP (REST) API.

The bench writes Janus' whole configuration into a temporary folder (``janus -F``): only
the HTTP transport, on 127.0.0.1 and a free port; no admin API; only the AudioBridge
plugin; no event handlers or loggers; ICE on the loopback interface only, no STUN, no 1:1
NAT, no mDNS. Plugins and transports not wanted are disabled by file name, so Janus' own
compiled-in folders are used and no path of this machine is written here.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from aiortc import RTCSessionDescription

from bench.common import ChildProcess, TimedSpeaker, free_port

PLUGIN = "janus.plugin.audiobridge"
#: Everything Debian's package ships besides the AudioBridge and the HTTP transport.
OTHER_PLUGINS = (
    "duktape echotest lua nosip recordplay sip streaming textroom videocall videoroom voicemail"
)
OTHER_TRANSPORTS = "websockets pfunix mqtt nanomsg rabbitmq"


def _libraries(names: str) -> str:
    return ",".join(f"libjanus_{name}.so" for name in names.split())


def janus_config(folder: Path, port: int) -> None:
    """Write janus.jcfg and the HTTP transport's and AudioBridge's configs into ``folder``."""
    (folder / "janus.jcfg").write_text(
        f"""general: {{
	configs_folder = "{folder}"
	debug_level = 3
	interface = "127.0.0.1"
	session_timeout = 60
}}
nat: {{
	ice_enforce_list = "lo"
	ignore_mdns = true
}}
plugins: {{
	disable = "{_libraries(OTHER_PLUGINS)}"
}}
transports: {{
	disable = "{_libraries(OTHER_TRANSPORTS)}"
}}
loggers: {{
	disable = "libjanus_jsonlog.so"
}}
events: {{
	broadcast = false
}}
"""
    )
    (folder / "janus.transport.http.jcfg").write_text(
        f"""general: {{
	json = "compact"
	base_path = "/janus"
	http = true
	port = {port}
	ip = "127.0.0.1"
	https = false
}}
admin: {{
	admin_http = false
	admin_https = false
}}
"""
    )
    # No rooms in the file: the bench creates its own through the API.
    (folder / "janus.plugin.audiobridge.jcfg").write_text("general: {\n\tevents = false\n}\n")


class JanusProcess(ChildProcess):
    """``janus -F <folder>`` as a child process, so its CPU can be read on its own."""

    name = "janus"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder / "janus.log")
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/janus"

    async def start(self) -> None:
        janus_config(self.folder, self.port)
        argv = ["janus", "-F", str(self.folder), "--disable-colors"]
        await self._start(argv, cwd=self.folder, ready_url=f"{self.url}/info")


@asynccontextmanager
async def janus_process() -> AsyncIterator[JanusProcess]:
    with tempfile.TemporaryDirectory(prefix="salon-bench-janus-") as tmp:
        janus = JanusProcess(Path(tmp))
        await janus.start()
        try:
            yield janus
        finally:
            await janus.stop()


class JanusError(Exception):
    pass


class JanusHandle:
    """One Janus session with the AudioBridge attached, over HTTP.

    Asynchronous answers (``join``, ``configure``) come as events on the session's long-poll
    (GET on the session); a task keeps one long-poll open all along, which is also what keeps
    the session alive (Janus drops a session after ``session_timeout`` without requests).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(timeout=10)
        self.session = self.handle = 0
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def _post(self, path: str, message: dict[str, Any]) -> dict[str, Any]:
        transaction = secrets.token_hex(6)
        response = await self.http.post(
            f"{self.url}{path}", json={**message, "transaction": transaction}
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        if answer.get("janus") == "error":
            raise JanusError(f"{message.get('janus')}: {answer['error']}")
        return answer

    async def open(self) -> None:
        self.session = (await self._post("", {"janus": "create"}))["data"]["id"]
        self._poller = asyncio.create_task(self._poll())
        attached = await self._post(f"/{self.session}", {"janus": "attach", "plugin": PLUGIN})
        self.handle = attached["data"]["id"]

    async def _poll(self) -> None:
        # The long-poll Janus holds ~30 s and answers early with any event (maxev: a batch).
        async with httpx.AsyncClient(timeout=45) as client:
            while True:
                try:
                    response = await client.get(f"{self.url}/{self.session}?maxev=10")
                except httpx.HTTPError:
                    await asyncio.sleep(0.5)
                    continue
                events = response.json()
                for event in events if isinstance(events, list) else [events]:
                    if event.get("janus") == "error":  # the session is gone
                        return
                    waiter = self._waiting.pop(event.get("transaction", ""), None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(event)

    async def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous plugin request (e.g. ``create``): its answer comes right back."""
        answer = await self._post(
            f"/{self.session}/{self.handle}", {"janus": "message", "body": body}
        )
        return self._plugin_data(answer)

    async def message(
        self, body: dict[str, Any], jsep: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """An asynchronous request: acked at once, answered by an event with its transaction."""
        transaction = secrets.token_hex(6)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = waiter
        message: dict[str, Any] = {"janus": "message", "body": body, "transaction": transaction}
        if jsep is not None:
            message["jsep"] = jsep
        response = await self.http.post(f"{self.url}/{self.session}/{self.handle}", json=message)
        response.raise_for_status()
        if response.json().get("janus") == "error":
            raise JanusError(f"{body['request']}: {response.json()['error']}")
        async with asyncio.timeout(15):
            event = await waiter
        self._plugin_data(event)
        return event

    @staticmethod
    def _plugin_data(answer: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = answer.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise JanusError(f"AudioBridge: {data['error']} ({data.get('error_code')})")
        return data

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        if self.session:
            with contextlib.suppress(httpx.HTTPError, JanusError):
                await self._post(f"/{self.session}", {"janus": "destroy"})
        await self.http.aclose()


async def create_room(url: str) -> int:
    """A fresh AudioBridge room mixing at 48 kHz (Salon's rate), as an anonymous admin."""
    admin = JanusHandle(url)
    await admin.open()
    try:
        room = secrets.randbelow(2**31) + 1
        await admin.request({"request": "create", "room": room, "sampling_rate": 48000})
        return room
    finally:
        await admin.close()


class JanusSpeaker(TimedSpeaker):
    """The same stage bot as for Salon (track, timed receiving), joined to an AudioBridge
    room instead: ``join`` with the smallest pre-buffer, then ``configure`` with the offer.

    ``base_url`` is Janus' API URL and ``space_id`` the room number; the token is unused.
    """

    def __init__(self, url: str, room: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(url, str(room), "", *args, **kwargs)
        self.janus = JanusHandle(url)

    async def connect(self) -> None:
        self.pc.addTransceiver(self.track, direction="sendrecv")
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.janus.open()
        # prebuffer 1: AudioBridge's lowest per-participant jitter buffer (default 6 packets).
        room = int(self.space_id)
        await self.janus.message({"request": "join", "room": room, "prebuffer": 1})
        event = await self.janus.message(
            {"request": "configure", "muted": False},
            {"type": "offer", "sdp": self.pc.localDescription.sdp},
        )
        answer = event.get("jsep")
        if answer is None:
            raise JanusError("configure was answered without an SDP answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))

    async def hang_up(self, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        if self._reader is not None:
            self._reader.cancel()
        await self.janus.close()  # destroying the session leaves the room
        await self.pc.close()
