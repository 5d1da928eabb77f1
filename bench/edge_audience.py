"""Edge audience: LL-HLS players of one space through the shipped edge and straight to the origin.

``bench.edge`` (default mode) runs this. For each run (``--runs``, default 3):

- **through the edge**: one ``salon serve`` child with one live space, ``salon edge``
  (nginx with its audio cache in Lua, ``salon.edge.Edge``) in front; phases of ``--players``
  (100, 1,000, then as many as this box can drive) one after the other on the same origin, so
  its cost can be seen to stay flat while the audience grows;
- **direct**: the players straight to the origin, a fresh origin for each of
  ``--direct-players`` (100, 300, 1,000): an origin pushed past what it serves lags its own
  stream's clock (its mixer skips ahead), which would spoil the next phase's delays.

Players are ``tests.edge.players.Player`` (keep-alive HTTP/1.1, two connections each, the
blocking reload and the preload-hinted part asked for at once, as Apple's players do; see
``--player`` below) on ``bench/lean_http.py``'s client (``--client raw``: the tests'
stream-based one, twice the CPU), run by ``--workers`` child processes of this module
(``--worker``, on uvloop), so the players are not held to one core. Each phase ramps the
players in (1 s per 600, 1–6 s), lets them settle (2 s + 1 s per 500 players, at most 6 s),
then measures ``--seconds``:

- players: requests/s, parts got/due, errors, the delay from a part's completion
  (EXT-X-PROGRAM-DATE-TIME + earlier parts + its duration: the moment the origin could
  publish it) to the player holding its bytes, p50/p99 (1 ms bins, all players pooled);
- origin: HLS requests/s it answered (``salon_hls_requests_total``), its CPU (/proc), and
  ``salon_mixer_late_ticks_total`` (a late tick moves the stream's clock behind the wall
  clock, so it flags a phase whose delays read high);
- edge: CPU of nginx (master and workers, the audio cache included), per 1,000 players;
  listeners per edge core = (requests/s ÷ 10.4) ÷ edge cores busy; the hit ratio
  (1 − origin requests ÷ player requests);
- the players' own CPU, so what bounds "as many as this box can drive" shows.

``--edge-workers N`` runs the edge with N nginx workers instead of one per core (the figure
saves as ``edge_audience_workersN.json``). ``--player hls.js`` makes the players do what
hls.js (the web app's player) does: no request for the preload-hinted part before it
exists; the parts each blocking reload lists, beside the next reload (``_hlsjs``). Every
figure is the median of the runs, with min–max. The app-alone figure (server CPU per
listener-second, listeners per core = 1 ÷ that) comes from the direct 300-player phase.

Then hls.js's own ``latency`` in Debian's Chromium, the web app through the edge and direct
(``--page-loads`` fresh pages each, alternating, on one origin and edge), with
``bench.browser_listen``'s page driver.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.edge.players import HttpClient, HttpStatus, Player, RawHttpClient, RawResponse

from bench.lean_http import LeanHttpClient

PART_SECONDS = 0.192
#: A player that keeps up asks for the blocking reload and the part, per part.
REQUESTS_PER_LISTENER_SECOND = 2 / PART_SECONDS
#: Keeping up: the app-alone goal's own test.
KEEP_UP_P99_MS = 192.0
#: After the ramp, before the window: players that fell behind while joining catch up (a
#: player behind walks forward one cached reload at a time), longer for bigger audiences.
SETTLE_SECONDS = 2.0
SETTLE_PER_PLAYER = 1 / 500
SETTLE_MAX = 6.0
#: How long the origin's CPU is read with the space live and nobody listening.
IDLE_SECONDS = 4.0
ROOT = Path(__file__).resolve().parent.parent

_PART_LINE = re.compile(r'#EXT-X-PART:DURATION=([0-9.]+),URI="([^"]+)"')


# ---------------------------------------------------------------- the player processes


class Completions:
    """When each part became whole, by name, from the first playlist that lists it (parsed
    once per part per process, not per player)."""

    def __init__(self) -> None:
        self.known: dict[str, float] = {}

    def get(self, name: str, playlist: str) -> float | None:
        found = self.known.get(name)
        if found is None:
            self._learn(playlist)
            found = self.known.get(name)
        return found

    def _learn(self, playlist: str) -> None:
        start: float | None = None
        offset = 0.0
        for line in playlist.split("\n"):
            if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
                value = line.split(":", 1)[1].replace("Z", "+00:00")
                start, offset = datetime.fromisoformat(value).timestamp(), 0.0
            elif line.startswith("#EXT-X-PART:"):
                match = _PART_LINE.match(line)
                if match is None or start is None:
                    continue
                offset += float(match[1])
                self.known.setdefault(match[2], start + offset)


@dataclass
class Meter:
    """What players saw inside the window (epoch times)."""

    start: float
    end: float
    completions: Completions = field(default_factory=Completions)
    parts: int = 0
    #: part name -> {delay in ms: players}
    delays: dict[str, Counter[int]] = field(default_factory=dict)

    def part(self, name: str, arrived: float, playlist: str) -> None:
        if not self.start <= arrived < self.end:
            return
        self.parts += 1
        completed = self.completions.get(name, playlist)
        if completed is not None:
            counts = self.delays.get(name)
            if counts is None:
                counts = self.delays[name] = Counter()
            counts[round((arrived - completed) * 1000)] += 1


@dataclass(eq=False)
class TimedPlayer(Player):
    """``Player``, noting when each part's bytes were in; it skips the CRC and cache keys the
    tests keep, which cost CPU and memory at thousands of players."""

    meter: Meter | None = None
    arrived: dict[str, float] = field(default_factory=dict)

    async def _get(self, client: HttpClient, target: str) -> RawResponse:
        self.requests += 1
        response = await client.get(target)
        if response.status != 200:
            raise HttpStatus(response.status, target)
        if target.endswith(".m4s"):
            self.arrived[target.rsplit("/", 1)[1]] = time.time()
        return response

    def _received(self, name: str, data: bytes) -> None:
        if name in self.parts:
            return
        self.parts[name] = 0
        self.order.append(name)
        arrived = self.arrived.pop(name, None)
        if self.meter is not None and arrived is not None:
            self.meter.part(name, arrived, self.playlists[-1] if self.playlists else "")


async def worker_phase(spec: dict[str, Any]) -> dict[str, Any]:
    """One phase of this process's share of the players; times in ``spec`` are epoch."""
    wall, mono = time.time(), time.monotonic()

    def monotonic(epoch: float) -> float:
        return mono + (epoch - wall)

    meter = Meter(spec["window_start"], spec["window_end"])
    players = [
        TimedPlayer(
            spec["base_url"],
            spec["playlist"],
            preload_hint=spec["preload_hint"],
            client=LeanHttpClient if spec["client"] == "lean" else RawHttpClient,
            meter=meter,
        )
        for _ in range(spec["players"])
    ]
    stop = monotonic(spec["stop"])

    async def play(index: int, player: TimedPlayer) -> None:
        slot = index * spec["workers"] + spec["worker"]
        begin = spec["ramp_start"] + spec["ramp"] * slot / max(1, spec["total"])
        await asyncio.sleep(max(0.0, monotonic(begin) - time.monotonic()))
        await player.run(until=stop)

    def snapshot() -> tuple[int, Counter[str], float]:
        errors: Counter[str] = Counter()
        for player in players:
            errors.update(player.errors)
        return sum(p.requests for p in players), errors, time.process_time()

    tasks = [asyncio.create_task(play(i, p)) for i, p in enumerate(players)]
    await asyncio.sleep(max(0.0, monotonic(spec["window_start"]) - time.monotonic()))
    requests0, errors0, cpu0 = snapshot()
    began = time.time()
    await asyncio.sleep(max(0.0, monotonic(spec["window_end"]) - time.monotonic()))
    requests1, errors1, cpu1 = snapshot()
    window = time.time() - began
    # Players stop by themselves; a request stuck at a server ends within its timeout.
    _, pending = await asyncio.wait(tasks, timeout=16)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for player in players:
        await player.aclose()
    errors1.subtract(errors0)
    return {
        "players": len(players),
        "window_s": window,
        "requests": requests1 - requests0,
        "errors": {kind: n for kind, n in errors1.items() if n > 0},
        "parts": meter.parts,
        "delays_ms": {
            name: {str(ms): n for ms, n in counts.items()} for name, counts in meter.delays.items()
        },
        "cpu_s": cpu1 - cpu0,
        "cancelled": len(pending),
    }


def worker_main() -> None:
    """A player process: one JSON phase spec a line on stdin, one JSON result a line out."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        spec = json.loads(line)
        if spec.get("quit"):
            break
        print(json.dumps(runner(worker_phase(spec))), flush=True)


# ---------------------------------------------------------------- the orchestrating process


class Workers:
    """The player processes (``python -m bench.edge_audience --worker``), kept for the whole
    benchmark so their start-up is paid once."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.processes: list[asyncio.subprocess.Process] = []

    async def __aenter__(self) -> Workers:
        root = ROOT
        for _ in range(self.count):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "bench.edge_audience", "--worker"),
                cwd=root,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            self.processes.append(process)
        for process in self.processes:
            assert json.loads(await self._line(process, 60))["ready"]
        return self

    async def __aexit__(self, *_: object) -> None:
        for process in self.processes:
            if process.returncode is None and process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.write(b'{"quit": true}\n')
                    await process.stdin.drain()
        for process in self.processes:
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()

    @staticmethod
    async def _line(process: asyncio.subprocess.Process, patience: float) -> str:
        assert process.stdout is not None
        async with asyncio.timeout(patience):
            line = await process.stdout.readline()
        if not line:
            raise RuntimeError("a player process exited")
        return line.decode()

    def start(self, spec: dict[str, Any], players: int) -> None:
        shares = [players // self.count + (i < players % self.count) for i in range(self.count)]
        for index, (process, share) in enumerate(zip(self.processes, shares, strict=True)):
            assert process.stdin is not None
            own = {**spec, "players": share, "worker": index, "workers": self.count}
            process.stdin.write((json.dumps({**own, "total": players}) + "\n").encode())

    async def results(self, patience: float) -> list[dict[str, Any]]:
        return [json.loads(await self._line(p, patience)) for p in self.processes]

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU seconds of the live processes ``roots`` and all below them."""
    from bench.audience import descendants
    from bench.common import process_cpu_seconds

    total = 0.0
    for root in roots:
        for pid in [root, *descendants(root)]:
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += process_cpu_seconds(pid)
    return total


async def origin_metrics(url: str) -> dict[str, float]:
    """The origin's HLS requests answered (all kinds) and mixer late ticks, from /metrics."""
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    found = {"hls": 0.0, "late_ticks": 0.0}
    for line in text.splitlines():
        if line.startswith("salon_hls_requests_total{"):
            found["hls"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith("salon_mixer_late_ticks_total "):
            found["late_ticks"] += float(line.rsplit(" ", 1)[1])
    return found


@dataclass
class Target:
    """Where the players go and what to meter: the origin, and the edge's processes if any."""

    base_url: str
    playlist: str
    origin_url: str
    origin_pid: int
    edge_pids: list[int] = field(default_factory=list)
    #: The edge's HTTPS port (HTTP/2 and HTTP/1.1 over TLS), if there is an edge.
    edge_https_url: str = ""


async def idle_cpu_pct(pid: int, seconds: float = IDLE_SECONDS) -> float:
    """The origin's CPU with its space live and nobody listening: the mixer, AAC and LL-HLS
    packaging, and the background sweeps, which one space costs whatever its audience."""
    from bench.common import process_cpu_seconds

    cpu0, t0 = process_cpu_seconds(pid), time.time()
    await asyncio.sleep(seconds)
    return 100 * (process_cpu_seconds(pid) - cpu0) / (time.time() - t0)


async def phase(
    workers: Workers,
    target: Target,
    players: int,
    seconds: float,
    preload_hint: bool = True,
    client: str = "lean",
) -> dict[str, Any]:
    idle_pct = None if target.edge_pids else await idle_cpu_pct(target.origin_pid)
    ramp = min(6.0, max(1.0, players / 600))
    ramp_start = time.time() + 0.3
    settle = min(SETTLE_MAX, SETTLE_SECONDS + players * SETTLE_PER_PLAYER)
    window_start = ramp_start + ramp + settle
    window_end = window_start + seconds
    spec: dict[str, Any] = {
        "base_url": target.base_url,
        "playlist": target.playlist,
        "ramp_start": ramp_start,
        "ramp": ramp,
        "window_start": window_start,
        "window_end": window_end,
        "stop": window_end + 0.5,
        "preload_hint": preload_hint,
        "client": client,
    }
    # One more player, in this process, straight to the origin: the reference each part's
    # delay is also taken from (robust to the stream's clock lagging the wall clock).
    probe_meter = Meter(window_start, window_end)
    probe = TimedPlayer(target.origin_url, target.playlist, meter=probe_meter)
    probe_task = asyncio.create_task(
        probe.run(until=time.monotonic() + (spec["stop"] - time.time()))
    )
    workers.start(spec, players)

    async def sample() -> tuple[float, dict[str, float], float, float]:
        from bench.common import process_cpu_seconds

        return (
            time.time(),
            await origin_metrics(target.origin_url),
            process_cpu_seconds(target.origin_pid),
            tree_cpu_seconds(target.edge_pids),  # nginx's master and workers
        )

    await asyncio.sleep(max(0.0, window_start - time.time()))
    t0, origin0, cpu0, edge0 = await sample()
    probe0 = probe.requests
    await asyncio.sleep(max(0.0, window_end - time.time()))
    t1, origin1, cpu1, edge1 = await sample()
    probe_requests = probe.requests - probe0
    wall = t1 - t0
    shares = await workers.results(patience=seconds + 60)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(16):
            await probe_task
    probe_task.cancel()
    await probe.aclose()
    reference = {name: next(iter(counts)) for name, counts in probe_meter.delays.items() if counts}
    delays: Counter[int] = Counter()
    added: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    for share in shares:
        for name, counts in share["delays_ms"].items():
            for ms, n in counts.items():
                delays[int(ms)] += n
                if name in reference:
                    added[int(ms) - reference[name]] += n
        errors.update(share["errors"])
    requests = sum(s["requests"] for s in shares)
    player_window = statistics.fmean(s["window_s"] for s in shares)
    rps = requests / player_window
    # The probe's own requests (straight to the origin) are not the audience's.
    origin_rps = (origin1["hls"] - origin0["hls"] - probe_requests) / wall
    edge_pct = 100 * (edge1 - edge0) / wall if target.edge_pids else None
    p50, p99 = histogram_percentile(delays, 50), histogram_percentile(delays, 99)
    parts_due = players * player_window / PART_SECONDS
    result: dict[str, Any] = {
        "players": players,
        "ramp_s": ramp,
        "settle_s": settle,
        "window_s": round(wall, 2),
        "player_requests_per_s": round(rps, 1),
        "parts_per_s": round(sum(s["parts"] for s in shares) / player_window, 1),
        "parts_due_per_s": round(parts_due / player_window, 1),
        "delay_p50_ms": p50,
        "delay_p99_ms": p99,
        "delay_samples": sum(delays.values()),
        # The same, less the direct probe player's delay for the same part.
        "delay_vs_probe_p50_ms": histogram_percentile(added, 50),
        "delay_vs_probe_p99_ms": histogram_percentile(added, 99),
        "probe_delay_p50_ms": histogram_percentile(
            Counter(ms for counts in probe_meter.delays.values() for ms in counts), 50
        ),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "players_cancelled_at_end": sum(s["cancelled"] for s in shares),
        "origin_hls_requests_per_s": round(origin_rps, 1),
        "origin_cpu_pct": round(100 * (cpu1 - cpu0) / wall, 1),
        "mixer_late_ticks": round(origin1["late_ticks"] - origin0["late_ticks"]),
        # Since the origin started (one origin per phase): each moves the stream's clock
        # behind the wall clock for good, so this phase's delays from completion read high.
        "mixer_late_ticks_since_start": round(origin1["late_ticks"]),
        "players_cpu_pct": round(100 * sum(s["cpu_s"] for s in shares) / player_window, 1),
    }
    result["kept_up"] = bool(
        result["errors"] == 0
        and p99 is not None
        and p99 <= KEEP_UP_P99_MS
        and result["parts_per_s"] >= 0.97 * result["parts_due_per_s"]
    )
    if edge_pct is not None:
        listeners = rps / REQUESTS_PER_LISTENER_SECOND
        result |= {
            "edge_cpu_pct": round(edge_pct, 1),
            "edge_cpu_pct_per_1000_players": round(1000 * edge_pct / players, 2),
            "listeners_per_edge_core": round(100 * listeners / edge_pct) if edge_pct else None,
            "hit_ratio_overall": round(1 - origin_rps / rps, 4) if rps else None,
        }
    else:
        # App alone: the origin's CPU per listener-second, and so listeners per core. The
        # space's own cost (``idle_pct``, measured just before) is paid once whatever the
        # audience: per listener is what the audience adds, and a core holds the space plus
        # (1 - idle) / that many listeners.
        assert idle_pct is not None
        cpu_per_listener_s = (cpu1 - cpu0) / wall / players
        added = max(1e-9, (cpu1 - cpu0) / wall - idle_pct / 100) / players
        result |= {
            "origin_idle_cpu_pct": round(idle_pct, 1),
            "origin_cpu_ms_per_listener_second": round(1000 * cpu_per_listener_s, 4),
            "listeners_per_origin_core": round(1 / cpu_per_listener_s)
            if cpu_per_listener_s
            else None,
            "origin_added_cpu_ms_per_listener_second": round(1000 * added, 4),
            "listeners_per_origin_core_with_the_space": round((1 - idle_pct / 100) / added),
        }
    return result


def histogram_percentile(counts: Counter[int], q: float) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    rank = q / 100 * (total - 1)
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen > rank:
            return float(value)
    return float(max(counts))


@contextlib.asynccontextmanager
async def live_space(edge: bool, edge_workers: int | None = None) -> Any:
    """An origin with one live space (and the edge in front, if ``edge``, with
    ``edge_workers`` nginx workers, one per core when None): a Target."""
    import httpx

    from bench.common import ServerProcess, build_stage
    from salon.config import Settings
    from salon.edge import Edge, free_ports

    with tempfile.TemporaryDirectory(prefix="salon-bench-edge-") as tmp:
        server = ServerProcess(Path(tmp))
        await server.start()
        front: Edge | None = None
        try:
            target = Target(server.url, "", server.url, server.pid)
            if edge:
                http_port, https_port = free_ports(2)
                front = Edge(
                    origin_port=server.port,
                    http_port=http_port,
                    https_port=https_port,
                    directory=Path(tmp) / "edge",
                    edge_secret=Settings(secret_key=server.secret_key).edge_secret(),
                    workers=edge_workers,
                )
                await front.start()
                # The edge's own processes (private in salon.edge; read-only here).
                children = [front._nginx]
                target.edge_pids = [c.process.pid for c in children if c is not None]
                assert front.runtime is not None
                target.base_url = front.http_url
                target.edge_https_url = front.https_url
            stage = await build_stage(server.url, 1, title="Edge audience")
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                listen = (await client.get(f"/api/spaces/{stage.space_id}/listen")).json()
                target.playlist = listen["playlist_url"]
                (await client.get(target.playlist)).raise_for_status()  # opens the room
            await asyncio.sleep(2.0)  # a few parts published before anyone listens
            try:
                yield target, stage
            finally:
                await stage.end()
                await stage.close()
        finally:
            if front is not None:
                await front.stop()
            await server.stop()


async def one_run(
    workers: Workers,
    edge_sizes: list[int],
    direct_sizes: list[int],
    seconds: float,
    label: str,
    edge_workers: int | None = None,
    preload_hint: bool = True,
    client: str = "lean",
) -> dict[str, list[dict[str, Any]]]:
    """Each phase on a fresh origin (and edge): an origin that once fell behind lags its own
    stream's clock from then on (its mixer skips ahead), which would spoil later phases."""
    found: dict[str, list[dict[str, Any]]] = {"edge": [], "direct": []}
    for path, sizes in (("edge", edge_sizes), ("direct", direct_sizes)):
        for size in sizes:
            async with live_space(path == "edge", edge_workers) as (target, _):
                found[path].append(
                    await phase(workers, target, size, seconds, preload_hint, client)
                )
                progress(label, path, found[path][-1])
    return found


def progress(label: str, path: str, p: dict[str, Any]) -> None:
    edge = (
        f", edge {p['edge_cpu_pct']} % CPU ({p['listeners_per_edge_core']} listeners per "
        f"edge core), hit {p['hit_ratio_overall']}"
        if "edge_cpu_pct" in p
        else ""
    )
    print(
        f"{label} {path} {p['players']}: {p['player_requests_per_s']} req/s, parts "
        f"{p['parts_per_s']}/{p['parts_due_per_s']}, delay p50/p99 {p['delay_p50_ms']}/"
        f"{p['delay_p99_ms']} ms (vs probe {p['delay_vs_probe_p50_ms']}/"
        f"{p['delay_vs_probe_p99_ms']}), errors {p['errors']}, "
        f"origin {p['origin_hls_requests_per_s']} req/s {p['origin_cpu_pct']} % CPU{edge}, "
        f"players {p['players_cpu_pct']} % CPU, "
        f"late ticks {p['mixer_late_ticks']} ({p['mixer_late_ticks_since_start']} since start)",
        flush=True,
    )


async def browser_latency(page_loads: int, seconds: float) -> dict[str, list[dict[str, Any]]]:
    """hls.js's ``latency`` in Chromium, the web app served through the edge and straight from
    the origin, alternating fresh pages on one origin and edge. The space plays silence (no
    speaker), so the page's first-audio and burst detectors find nothing: latency only."""
    from playwright.async_api import async_playwright
    from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS

    from bench.browser_listen import trial

    found: dict[str, list[dict[str, Any]]] = {"edge": [], "direct": []}
    async with live_space(edge=True) as (target, stage), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(page_loads):
                for path, base in (("direct", target.origin_url), ("edge", target.base_url)):
                    result, _ = await trial(browser, f"{base}/spaces/{stage.space_id}", seconds)
                    found[path].append(
                        {
                            "hls_js_latency_s": result.hls_latency,
                        }
                    )
                    print(f"browser {path}: hls.js latency {result.hls_latency} s", flush=True)
        finally:
            await browser.close()
    return found


# ---------------------------------------------------------------- figures


def spread(values: list[float | None]) -> dict[str, float] | None:
    """Median, min and max of the runs' values (None where a run had none)."""
    present = [float(v) for v in values if v is not None]
    if not present:
        return None
    return {
        "median": round(statistics.median(present), 4),
        "min": round(min(present), 4),
        "max": round(max(present), 4),
        "n": len(present),
    }


FIGURES = (
    "player_requests_per_s", "parts_per_s", "parts_due_per_s", "delay_p50_ms", "delay_p99_ms",
    "delay_vs_probe_p50_ms", "delay_vs_probe_p99_ms", "probe_delay_p50_ms",
    "errors", "origin_hls_requests_per_s", "origin_cpu_pct", "mixer_late_ticks",
    "mixer_late_ticks_since_start",
    "players_cpu_pct", "edge_cpu_pct", "edge_cpu_pct_per_1000_players",
    "listeners_per_edge_core", "hit_ratio_overall",
    "origin_cpu_ms_per_listener_second", "listeners_per_origin_core",
    "origin_idle_cpu_pct", "origin_added_cpu_ms_per_listener_second",
    "listeners_per_origin_core_with_the_space",
)  # fmt: skip


def summarise(runs: list[dict[str, list[dict[str, Any]]]]) -> dict[str, list[dict[str, Any]]]:
    summary: dict[str, list[dict[str, Any]]] = {}
    for path in ("edge", "direct"):
        rows = []
        for index, first in enumerate(runs[0][path]):
            phases = [run[path][index] for run in runs]
            row: dict[str, Any] = {"players": first["players"]}
            for name in FIGURES:
                if name in first:
                    row[name] = spread([p.get(name) for p in phases])
            row["runs_kept_up"] = sum(p["kept_up"] for p in phases)
            rows.append(row)
        summary[path] = rows
    return summary


def cell(figure: dict[str, float] | None, digits: int = 0, scale: float = 1.0) -> str:
    if figure is None:
        return "—"

    def number(value: float) -> str:
        return f"{value * scale:,.{digits}f}"

    low, high = number(figure["min"]), number(figure["max"])
    middle = number(figure["median"])
    return middle if low == high else f"{middle} ({low}–{high})"


def report(result: dict[str, Any]) -> None:
    from bench.common import show

    runs = result["parameters"]["runs"]
    seconds = result["parameters"]["seconds"]
    summary = result["summary"]
    players, costs = [], []
    for path in ("edge", "direct"):
        for row in summary[path]:
            size = f"{row['players']:,}"
            players.append(
                (path, size, cell(row["player_requests_per_s"]),
                 f"{cell(row['parts_per_s'])}/{cell(row['parts_due_per_s'])}",
                 cell(row["delay_p50_ms"]), cell(row["delay_p99_ms"]),
                 cell(row["delay_vs_probe_p50_ms"]), cell(row["delay_vs_probe_p99_ms"]),
                 cell(row["errors"]), f"{row['runs_kept_up']}/{runs}")
            )  # fmt: skip
            costs.append(
                (path, size, cell(row["origin_hls_requests_per_s"], 1),
                 cell(row["origin_cpu_pct"]),
                 cell(row.get("edge_cpu_pct")),
                 cell(row.get("edge_cpu_pct_per_1000_players"), 1),
                 cell(row.get("listeners_per_edge_core")),
                 cell(row.get("hit_ratio_overall"), 2, 100), cell(row["players_cpu_pct"]),
                 cell(row["mixer_late_ticks_since_start"]))
            )  # fmt: skip
    show(
        f"Players of one space through the edge (nginx, its audio cache) and direct, "
        f"{seconds:g} s "
        f"windows, median (min–max) of {runs} runs: what players got",
        ["path", "players", "req/s", "parts/s got/due", "delay p50 ms", "p99 ms",
         "vs probe p50", "vs probe p99", "errors", "kept up"],
        players,
    )  # fmt: skip
    show(
        f"... and what it cost (CPU in % of one core; 2 cores in all; nginx workers: "
        f"{result['parameters'].get('edge_workers', 'auto')})",
        ["path", "players", "origin req/s", "origin CPU", "edge CPU (nginx)",
         "edge CPU /1k players",
         "listeners /edge core", "hit % (1 − origin ÷ players)", "players CPU",
         "late ticks"],
        costs,
    )  # fmt: skip
    alone = result.get("app_alone")
    if alone:
        print(
            f"App alone, {alone['players']} players direct: "
            f"{cell(alone['origin_cpu_ms_per_listener_second'], 4)} ms of origin CPU per "
            f"listener-second, all included → 1 / that = "
            f"{cell(alone['listeners_per_origin_core'])} listeners per core; the space alone "
            f"{cell(alone['origin_idle_cpu_pct'], 1)} % of a core, each listener adds "
            f"{cell(alone['origin_added_cpu_ms_per_listener_second'], 4)} ms → a core holds "
            f"the space and {cell(alone['listeners_per_origin_core_with_the_space'])} "
            f"listeners (goal ≥ 1,500); kept up in {alone['runs_kept_up']}/{runs} runs "
            f"(p99 ≤ 192 ms, 0 errors). {alone['arithmetic']}"
        )
    browser = result.get("browser")
    if browser:
        show(
            "hls.js latency in Chromium (s), one page each, alternating",
            ["path", "page loads", "median", "min", "max"],
            [
                (path, b["n"], b["latency_s"]["median"] if b["latency_s"] else "—",
                 b["latency_s"]["min"] if b["latency_s"] else "—",
                 b["latency_s"]["max"] if b["latency_s"] else "—")
                for path, b in browser["summary"].items()
            ],
        )  # fmt: skip


def parse_sizes(text: str, parser: argparse.ArgumentParser, name: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        parser.error(f"{name} is a comma-separated list of player counts")
    if not all(1 <= s <= 6000 for s in sizes):
        parser.error(f"{name}: player counts are 1 to 6,000")
    return sizes


def app_alone(summary: dict[str, list[dict[str, Any]]], players: int) -> dict[str, Any] | None:
    row = next((r for r in summary["direct"] if r["players"] == players), None)
    if row is None or row["listeners_per_origin_core"] is None:
        return None
    per_core = row["listeners_per_origin_core"]["median"]
    idle = row["origin_idle_cpu_pct"]["median"]
    added = row["origin_added_cpu_ms_per_listener_second"]["median"]
    with_space = row["listeners_per_origin_core_with_the_space"]["median"]
    return {
        "players": players,
        "origin_cpu_ms_per_listener_second": row["origin_cpu_ms_per_listener_second"],
        "listeners_per_origin_core": row["listeners_per_origin_core"],
        "origin_idle_cpu_pct": row["origin_idle_cpu_pct"],
        "origin_added_cpu_ms_per_listener_second": row["origin_added_cpu_ms_per_listener_second"],
        "listeners_per_origin_core_with_the_space": row["listeners_per_origin_core_with_the_space"],
        "runs_kept_up": row["runs_kept_up"],
        "arithmetic": (
            f"all the origin's CPU over {players} players: "
            f"1 / {row['origin_cpu_ms_per_listener_second']['median']:g} ms per listener-second "
            f"= {per_core:,.0f} listeners per core. The space alone costs {idle:g} % of a core "
            f"whatever its audience; each listener adds {added:g} ms per second, so one core "
            f"holds the space and (1 - {idle / 100:g}) / {added:g} ms = {with_space:,.0f} "
            "listeners; 1,500 needs an added cost ≤ "
            f"{(1 - idle / 100) / 1500 * 1000:.4f} ms"
        ),
    }


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from bench.common import quiet_logs

    runs = []
    with quiet_logs():
        async with Workers(args.workers) as workers:
            for index in range(args.runs):
                runs.append(
                    await one_run(
                        workers, args.players, args.direct_players, args.seconds,
                        f"run {index + 1}/{args.runs}", args.edge_workers or None,
                        args.player == "preload-hint", args.client,
                    )
                )  # fmt: skip
        browser = await browser_latency(args.page_loads, args.listen) if args.page_loads else None
    summary = summarise(runs)
    result: dict[str, Any] = {
        "parameters": {
            "players": args.players,
            "direct_players": args.direct_players,
            "seconds": args.seconds,
            "runs": args.runs,
            "workers": args.workers,
            "edge_workers": args.edge_workers or "auto (one per core)",
            "player": args.player,
            "client": args.client,
            "page_loads": args.page_loads,
            "listen_s": args.listen,
        },
        "summary": summary,
        "app_alone": app_alone(summary, 300),
        "runs": runs,
    }
    if browser is not None:
        result["browser"] = {
            "summary": {
                path: {
                    "n": len(trials),
                    "latency_s": spread([t["hls_js_latency_s"] for t in trials]),
                }
                for path, trials in browser.items()
            },
            "page_loads": browser,
        }
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--direct-players",
        default="100,300,1000",
        help="(audience) comma-separated player counts straight to the origin",
    )
    parser.add_argument("--runs", type=int, default=3, help="(audience) runs; figures: median")
    parser.add_argument("--workers", type=int, default=2, help="(audience) player processes")
    parser.add_argument(
        "--edge-workers",
        type=int,
        default=0,
        help="(audience) nginx workers of the edge (0: one per core, as shipped); a figure "
        "with N saves as edge_audience_workersN.json",
    )
    parser.add_argument(
        "--player",
        choices=("preload-hint", "hls.js"),
        default="preload-hint",
        help="(audience) players that ask for the preload-hinted part before it exists, as "
        "Apple's do, or only for listed parts, as hls.js (the web app's player) does; "
        "hls.js saves as edge_audience_hlsjs.json",
    )
    parser.add_argument(
        "--client",
        choices=("lean", "raw"),
        default="lean",
        help="(audience) the players' HTTP client: bench/lean_http.py, or the tests' "
        "stream-based RawHttpClient (twice the players' CPU; saves with _raw_client)",
    )
    parser.add_argument(
        "--page-loads", type=int, default=3, help="(audience) Chromium pages per path (0: none)"
    )
    parser.add_argument("--listen", type=float, default=8.0, help="(audience) s per page")


def main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from bench.audience import raise_fd_limit
    from bench.common import machine, save

    args.players = parse_sizes(args.players or "100,1000,3000", parser, "--players")
    args.direct_players = parse_sizes(args.direct_players, parser, "--direct-players")
    if not args.players or not 1 <= args.runs <= 10 or not 1 <= args.workers <= 8:
        parser.error("give player counts, 1 to 10 runs and 1 to 8 worker processes")
    if not 0 <= args.edge_workers <= 8:
        parser.error("--edge-workers is 0 (one per core) to 8")
    if not 0 <= args.page_loads <= 10 or not 5 <= args.listen <= 60:
        parser.error("--page-loads is 0 to 10, --listen 5 to 60 s")
    args.seconds = 5.0 if args.seconds is None else args.seconds
    if not 2 <= args.seconds <= 60:
        parser.error("--seconds is 2 to 60 in audience mode")
    raise_fd_limit(65536)
    host = machine()
    result = asyncio.run(measure(args))
    report(result)
    name = "edge_audience"
    name += f"_workers{args.edge_workers}" if args.edge_workers else ""
    name += "_hlsjs" if args.player == "hls.js" else ""
    name += "_raw_client" if args.client == "raw" else ""
    path = save(name, result, host=host)
    print(f"saved {path.relative_to(path.parent.parent.parent)}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        worker_main()
    else:
        sys.exit("run `python -m bench.edge` (this module's --worker is its player process)")
