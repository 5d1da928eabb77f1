"""The edge in front of several origin nodes: nginx spreads requests (the audio cache's fetches
too) over every node, skips a dead one at once and tries it again once it is back, the
WebSocket passes through, and listener counts go to one node and on to the next when it dies.
Also ``salon edge --origin …`` end to end.

The nodes here are small stand-ins (each names itself in its answers), so that which node
answered is visible and a node can die and come back on the same port in a moment."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Generator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from salon.config import Settings
from salon.edge import Edge, free_port, free_ports

SECRET_KEY = "edge-origins-secret-key-" + "z" * 24
EDGE_SECRET = Settings(secret_key=SECRET_KEY).edge_secret()


class Node:
    """A stand-in Salon node on a loopback port: /healthz, audio, an API path, the event
    WebSocket and listener reports, each answer naming the node."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.reports: list[dict[str, Any]] = []
        self.audio_requests: Counter[str] = Counter()
        #: /healthz answers 503 (everything else still answers).
        self.sick = False
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def app(self) -> Starlette:
        async def health(request: Request) -> Response:
            if self.sick:  # as a node that lost its database answers
                return JSONResponse({"status": "down", "database": "down"}, status_code=503)
            return JSONResponse({"status": "ok", "database": "ok"})

        async def audio(request: Request) -> Response:
            name = request.path_params["name"]
            self.audio_requests[name] += 1
            if name.startswith("slow"):
                await asyncio.sleep(0.5)  # as a blocking reload waits for its part
            if name.startswith("missing"):
                return JSONResponse({"detail": "no such part"}, status_code=404)
            return Response(
                b"\x00" * (300_000 if name.startswith("big") else 64),
                media_type="video/mp4",
                headers={
                    "X-Node": self.name,
                    "Cache-Control": "public, max-age=60",
                    "ETag": '"v1"',
                    "Access-Control-Allow-Origin": "*",
                    "Set-Cookie": "leak=1",
                },
            )

        async def api(request: Request) -> Response:
            return JSONResponse({"node": self.name}, headers={"X-Node": self.name})

        async def listeners(request: Request) -> Response:
            if request.headers.get("X-Salon-Edge-Key") != EDGE_SECRET:
                return Response(status_code=401)
            self.reports.append(await request.json())
            return Response(status_code=204)

        async def events(websocket: WebSocket) -> None:
            await websocket.accept()
            await websocket.send_json({"type": "snapshot", "node": self.name})
            message = await websocket.receive_text()
            await websocket.send_json({"type": "echo", "node": self.name, "text": message})
            await websocket.close()

        return Starlette(
            routes=[
                Route("/healthz", health),
                Route("/api/spaces/{space}/hls/{name}", audio),
                Route("/api/edge/listeners", listeners, methods=["POST"]),
                Route("/api/whoami", api),
                WebSocketRoute("/api/spaces/{space}/events", events),
            ]
        )

    async def start(self) -> None:
        class Quiet(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Generator[None, None, None]:
                yield  # Ctrl-C stays pytest's

        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
        )
        self._server = Quiet(config)
        self._task = asyncio.create_task(self._server.serve())
        async with asyncio.timeout(10):
            while not self._server.started:
                assert not self._task.done(), f"node {self.name} did not start"
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Gone at once: the port refuses connections from now on."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            self._server.force_exit = True
            await self._task
        self._server = self._task = None


@contextlib.asynccontextmanager
async def nodes(*names: str) -> AsyncIterator[list[Node]]:
    running = [Node(name) for name in names]
    try:
        for node in running:
            await node.start()
        yield running
    finally:
        for node in running:
            await node.stop()


def front(tmp_path: Path, *origins: str, **options: Any) -> Edge:
    """The edge in front of ``origins``, on free ports, its files under ``tmp_path``."""
    http_port, https_port = free_ports(2)
    return Edge(
        origins=list(origins),
        http_port=http_port,
        https_port=https_port,
        directory=tmp_path / "edge",
        edge_secret=EDGE_SECRET,
        **options,
    )


async def until(check: Callable[[], bool], *, within: float, what: str) -> float:
    """Poll ``check`` until it holds (every 0.1 s); how long it took. Fails after ``within``."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > within:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.1)
    return time.monotonic() - began


async def answered_by(http: httpx.AsyncClient, paths: list[str]) -> list[str]:
    """The node that answered each path (every answer must be a 200)."""
    names = []
    for path in paths:
        response = await http.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        names.append(response.headers["X-Node"])
    return names


def audio_paths(count: int, tag: str) -> list[str]:
    """Paths no cache holds yet (each its own object)."""
    return [f"/api/spaces/origins/hls/{tag}{index}.m4s" for index in range(count)]


async def test_requests_spread_over_every_node_and_a_dead_one_is_skipped(tmp_path: Path) -> None:
    async with (
        nodes("a", "b", "c") as (a, b, c),
        front(tmp_path, a.address, b.address, c.address) as edge,
        httpx.AsyncClient(base_url=edge.http_url, timeout=10) as http,
    ):
        # The audio cache's fetches and the rest, through nginx's round robin: all three nodes.
        assert set(await answered_by(http, audio_paths(6, "before"))) == {"a", "b", "c"}
        assert set(await answered_by(http, ["/api/whoami"] * 6)) == {"a", "b", "c"}
        # The event WebSocket passes through nginx's group both ways.
        async with websockets.connect(
            edge.http_url.replace("http", "ws", 1) + "/api/spaces/origins/events"
        ) as ws:
            snapshot = json.loads(await ws.recv())
            assert snapshot["type"] == "snapshot"
            await ws.send("hello")
            echo = json.loads(await ws.recv())
            assert echo == {"type": "echo", "node": snapshot["node"], "text": "hello"}

        await b.stop()
        # At once: every request is answered, by a live node (a refused connection is
        # passed to the next node, and the dead one is skipped for fail_timeout).
        assert set(await answered_by(http, audio_paths(9, "during"))) == {"a", "c"}
        assert set(await answered_by(http, ["/api/whoami"] * 9)) == {"a", "c"}

        # Back on the same port: nginx tries it again after fail_timeout (5 s), for the
        # audio cache's fetches as for the rest.
        await b.start()
        seen: set[str] = set()
        seen_audio: set[str] = set()
        deadline = time.monotonic() + 10
        round_ = 0
        while {"a", "b", "c"} - (seen & seen_audio) and time.monotonic() < deadline:
            seen |= set(await answered_by(http, ["/api/whoami"] * 3))
            seen_audio |= set(await answered_by(http, audio_paths(3, f"back{round_}-")))
            round_ += 1
            await asyncio.sleep(0.2)
        assert seen == seen_audio == {"a", "b", "c"}


async def test_the_audio_cache_takes_a_node_whose_health_fails_out_and_back(
    tmp_path: Path,
) -> None:
    async with (
        nodes("a", "b", "c") as (a, b, c),
        front(tmp_path, a.address, b.address, c.address) as edge,
        httpx.AsyncClient(base_url=edge.http_url, timeout=10) as http,
    ):
        assert set(await answered_by(http, audio_paths(6, "before"))) == {"a", "b", "c"}
        b.sick = True
        # The probe (every second, 2 bad answers of the last 3) takes it out within ~2-3 s.
        began = time.monotonic()
        round_ = 0
        while "b" in set(await answered_by(http, audio_paths(3, f"sick{round_}-"))):
            assert time.monotonic() - began < 6, "the node whose /healthz fails is still asked"
            round_ += 1
            await asyncio.sleep(0.2)
        assert set(await answered_by(http, audio_paths(6, "out"))) == {"a", "c"}
        b.sick = False
        began = time.monotonic()
        while "b" not in set(await answered_by(http, audio_paths(3, f"well{round_}-"))):
            assert time.monotonic() - began < 6, "the node is not asked again once well"
            round_ += 1
            await asyncio.sleep(0.2)


async def test_the_audio_cache_collapses_shares_and_refuses_what_it_should(
    tmp_path: Path,
) -> None:
    async with (
        nodes("a") as (a,),
        front(tmp_path, a.address) as edge,
        httpx.AsyncClient(
            base_url=edge.http_url, timeout=10, limits=httpx.Limits(max_connections=200)
        ) as http,
    ):
        path = "/api/spaces/origins/hls/part7.0.m4s"
        first = await http.get(path)
        assert first.status_code == 200
        assert first.headers["x-cache"] == "miss"
        again = await http.get(path)
        assert again.status_code == 200
        assert again.headers["x-cache"] == "hit"
        assert again.content == first.content == b"\x00" * 64
        assert again.headers["cache-control"] == "public, max-age=60"
        assert again.headers["x-node"] == "a"
        # nginx writes CORS on audio itself, once; a cookie never goes to everyone.
        assert again.headers.get_list("access-control-allow-origin") == ["*"]
        assert "set-cookie" not in again.headers
        assert a.audio_requests["part7.0.m4s"] == 1

        # Revalidation from the cache, HEAD from the cache, other methods refused.
        cached = await http.get(path, headers={"If-None-Match": '"v1"'})
        assert cached.status_code == 304
        assert cached.content == b""
        head = await http.head(path)
        assert head.status_code == 200
        assert head.headers["x-cache"] == "hit"
        posted = await http.post(path, content=b"x")
        assert posted.status_code == 405
        assert posted.headers["content-type"] == "application/problem+json"
        assert posted.headers["allow"] == "GET, HEAD"
        assert a.audio_requests["part7.0.m4s"] == 1

        # Many requests for an object in flight: one fetch per nginx worker, all answered.
        answers = await asyncio.gather(
            *(http.get("/api/spaces/origins/hls/slow.m4s") for _ in range(60))
        )
        assert {r.status_code for r in answers} == {200}
        assert 1 <= a.audio_requests["slow.m4s"] <= (os.cpu_count() or 1)

        # Only the query parameters the origin reads make a different object.
        await http.get("/api/spaces/origins/hls/live.m3u8?_HLS_msn=3&_HLS_part=1&junk=1")
        await http.get("/api/spaces/origins/hls/live.m3u8?junk=2&_HLS_msn=3&_HLS_part=1")
        assert a.audio_requests["live.m3u8"] == 1

        # A name no audio has (here an escaped space, which the cache would put in its own
        # request line) does not reach the cache: it goes to the origin as it is.
        odd = await http.get("/api/spaces/origins/hls/a%20HTTP%0D%0A.m4s")
        assert odd.status_code == 200
        assert "x-cache" not in odd.headers
        assert a.audio_requests["a HTTP\r\n.m4s"] == 1

        # An error is shared briefly (0.5 s), then asked again.
        missing = [await http.get("/api/spaces/origins/hls/missing.m4s") for _ in range(3)]
        assert [r.status_code for r in missing] == [404, 404, 404]
        assert a.audio_requests["missing.m4s"] == 1
        shared_since = time.monotonic()
        while a.audio_requests["missing.m4s"] == 1:
            assert time.monotonic() - shared_since < 5, "the 404 was kept too long"
            assert (await http.get("/api/spaces/origins/hls/missing.m4s")).status_code == 404
            await asyncio.sleep(0.05)
        assert a.audio_requests["missing.m4s"] == 2

        # No origin answers: a fast 503 problem, not a hang.
        await a.stop()
        began = time.monotonic()
        gone = await http.get("/api/spaces/origins/hls/part8.0.m4s")
        assert gone.status_code == 503
        assert gone.headers["content-type"] == "application/problem+json"
        assert gone.json()["status"] == 503
        assert time.monotonic() - began < 5
        # What the cache holds is still served.
        assert (await http.get(path)).status_code == 200


async def test_the_audio_cache_drops_its_oldest_objects_past_its_size(tmp_path: Path) -> None:
    async with (
        nodes("a") as (a,),
        # 1 MiB, shared out among nginx's workers: at most that each.
        front(tmp_path, a.address, cache_size="1m") as edge,
        # One connection: every request reaches the same worker.
        httpx.AsyncClient(
            base_url=edge.http_url, timeout=10, limits=httpx.Limits(max_connections=1)
        ) as http,
    ):
        names = [f"big{index}.m4s" for index in range(4)]  # 4 × 300 kB > 1 MiB
        for name in names:
            assert (await http.get(f"/api/spaces/origins/hls/{name}")).status_code == 200
        newest = await http.get(f"/api/spaces/origins/hls/{names[-1]}")
        assert newest.headers["x-cache"] == "hit"
        oldest = await http.get(f"/api/spaces/origins/hls/{names[0]}")
        assert oldest.headers["x-cache"] == "miss"
        assert len(oldest.content) == 300_000
        assert a.audio_requests[names[0]] == 2
        assert a.audio_requests[names[-1]] == 1


async def test_listener_counts_go_to_one_node_then_to_the_next(tmp_path: Path) -> None:
    async with (
        nodes("a", "b") as (a, b),
        front(tmp_path, a.address, b.address, report_every=0.3) as edge,
        httpx.AsyncClient(base_url=edge.http_url, timeout=10) as http,
    ):

        def counted(space: str) -> int:
            return sum(r["requests"].get(space, 0) for n in (a, b) for r in n.reports)

        # Counted requests: a segment's first part (one line per player per segment).
        for number in range(3):
            assert (await http.get(f"/api/spaces/first/hls/part{number}.0.m4s")).status_code == 200
        # nginx flushes its log each second; the edge reads it every 0.3 s.
        await until(lambda: counted("first") >= 3, within=5, what="the first node's reports")
        assert counted("first") == 3
        # The first node takes them while it answers.
        assert a.reports
        assert not b.reports

        await a.stop()
        for number in range(4):
            assert (await http.get(f"/api/spaces/second/hls/part{number}.0.m4s")).status_code == 200
        await until(lambda: counted("second") >= 4, within=5, what="the second node's reports")
        assert counted("second") == 4
        assert edge.reporter is not None
        assert edge.reporter.origin == f"http://{b.address}"


def descendants_of(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def still_running(pids: set[int]) -> list[int]:
    """Those of ``pids`` that are still processes (a zombie has finished: not counted)."""
    running = []
    for pid in pids:
        with contextlib.suppress(OSError):
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                running.append(pid)
    return running


async def test_salon_edge_command_fronts_several_nodes(tmp_path: Path) -> None:
    env = {**os.environ, "SALON_SECRET_KEY": SECRET_KEY, "SALON_VAR_DIR": str(tmp_path / "var")}
    command = [sys.executable, "-m", "salon", "edge"]
    # Either its own origin or others, never both; and never without the nodes' secret.
    both = await asyncio.create_subprocess_exec(
        *command,
        *("--origin", "127.0.0.1:1", "--origin-port", "8000"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await both.communicate()
    assert both.returncode == 1
    assert b"either --origin-port or --origin" in output
    no_secret = {k: v for k, v in env.items() if k != "SALON_SECRET_KEY"}
    refused = await asyncio.create_subprocess_exec(
        *command,
        *("--origin", "127.0.0.1:1"),
        env=no_secret,
        cwd=tmp_path,  # no .env of the developer's
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await refused.communicate()
    assert refused.returncode == 1
    assert b"SALON_SECRET_KEY" in output

    async with nodes("a", "b") as (a, b):
        http_port, https_port = free_ports(2)
        log = tmp_path / "edge.log"
        with log.open("wb") as out:
            edge = await asyncio.create_subprocess_exec(
                *command,
                *("--origin", a.address, "--origin", b.address),
                *("--http-port", str(http_port), "--https-port", str(https_port)),
                *("--directory", str(tmp_path / "edge")),
                env=env,
                cwd=tmp_path,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{http_port}", timeout=5
            ) as http:
                seen: set[str] = set()
                async with asyncio.timeout(30):
                    while seen != {"a", "b"}:
                        assert edge.returncode is None, log.read_text()
                        with contextlib.suppress(httpx.TransportError):
                            answer = await http.get("/api/whoami")
                            if answer.status_code == 200:
                                seen.add(answer.json()["node"])
                        await asyncio.sleep(0.1)
            text = log.read_text()
            assert f"origin {a.address}: answers /healthz" in text
            rendered = (tmp_path / "edge" / "nginx.conf").read_text()
            assert f"server {a.address} max_fails=1" in rendered
            children = descendants_of(edge.pid)
            assert len(children) >= 2  # nginx's master and its workers
            edge.send_signal(signal.SIGINT)
            async with asyncio.timeout(30):
                assert await edge.wait() == 0, log.read_text()
            assert not still_running(children)
        finally:
            if edge.returncode is None:
                edge.kill()
                await edge.wait()
