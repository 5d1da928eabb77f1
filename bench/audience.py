"""Audience: N concurrent LL-HLS listeners of one live space, served by the app alone.

``salon serve`` runs as a child process (SQLite in a temp dir, 127.0.0.1, a free port, a
known secret key). One live space is opened; its mixer runs and the program (silence, or one
speaking bot with ``--speaker``) is encoded and packaged as usual. This process then starts
N simulated players, ramped in over a few seconds. Each follows like a low-latency player:
a blocking playlist reload for the next part (``_HLS_msn``/``_HLS_part``), then a GET of
every new part; on an error it counts it, waits 0.25 s and starts again from a plain
playlist fetch. Every player stops by itself at the end of the phase.

Players use plain asyncio + httpx, one ``AsyncClient`` (one keep-alive connection) each:
httpx's pool scans all its connections on every request, so one big shared pool made the
client, not the server, the bottleneck. Even so httpx costs about as much CPU per request
as the server does; ``--client raw`` swaps in a minimal keep-alive HTTP/1.1 client (same
player logic) that costs a fraction, to find the server's limit on a 2-core machine.

Over the measuring window (after the ramp) it reports requests/s served, the delay from a
part's completion (PROGRAM-DATE-TIME + earlier parts + its duration: the moment the part was
whole) to its bytes arriving at the player (p50/p99), errors, the server's CPU (% of one
core, /proc) and RSS, and this process's CPU: on a 2-core machine the players compete with
the server, so a saturated client is a limit of the measurement, not of the server.

The space is free, so its audio is public: every player follows the same playlist URL, as
any number of anonymous listeners would.

With ``--edge`` the players go through the shipped edge (nginx and its audio cache,
``salon.edge``) in front of the same origin; the report adds the origin's own HLS requests
in the window (from its ``salon_hls_requests_total`` counter) and the edge's CPU (nginx's
processes).

Run: .venv/bin/python -m bench.audience [--listeners 100,1000,5000] [--seconds 15] [--edge]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    CpuMeter,
    FetchedPart,
    HlsFollower,
    RawHttpClient,
    ServerProcess,
    TimedSpeaker,
    build_stage,
    free_port,
    listener_url,
    machine,
    process_cpu_seconds,
    process_fds,
    process_rss_bytes,
    quiet_logs,
    save,
    server_process,
    show,
    summary_ms,
)
from salon.bots.tracks import PcmTrack, tone
from salon.config import Settings
from salon.edge import Edge

GROUP = 1  # players per httpx client (see the module docstring)
PART_SECONDS = 0.192  # the stream's PART-TARGET
#: A player keeping up makes two requests per part: the blocking reload and the part.
REQUESTS_PER_LISTENER_SECOND = 2 / PART_SECONDS
MAX_LISTENERS = 10_000


def skip_sniffio_probe() -> None:
    """httpcore tries ``import sniffio`` on every request and falls back to asyncio when it is
    missing (it is not installed here). A failed import is not cached, so each request walked
    sys.path (~0.1 ms, a third of this client's CPU). ``None`` in sys.modules makes the import
    fail at once, with the same fallback."""
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def raise_fd_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class Window:
    """The measuring window (monotonic times) and what players saw inside it."""

    start: float
    end: float
    delays: list[float] = field(default_factory=list)
    parts: int = 0

    def on_part(self, part: FetchedPart) -> None:
        if self.start <= time.monotonic() < self.end:
            self.parts += 1
            if part.completed is not None:
                self.delays.append(part.arrived - part.completed)


def totals(followers: list[HlsFollower]) -> tuple[int, int]:
    return (
        sum(f.requests for f in followers),
        sum(sum(f.errors.values()) for f in followers),
    )


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (children, their children...), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], list(parents.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


def edge_cpu_seconds(origin_pid: int) -> float:
    """CPU time of this process's descendants but the origin: nginx's."""
    total = 0.0
    for pid in descendants(os.getpid()):
        if pid != origin_pid:
            with contextlib.suppress(OSError):
                total += process_cpu_seconds(pid)
    return total


async def origin_hls_requests(server: ServerProcess) -> int:
    """The origin's own count of the audio requests it answered (all kinds)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    return round(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("salon_hls_requests_total{")
        )
    )


async def phase(
    server: ServerProcess,
    base_url: str,
    space_id: str,
    listeners: int,
    seconds: float,
    kind: str,
    edge: bool,
) -> dict[str, Any]:
    ramp = min(8.0, max(1.0, listeners / 600))
    settle = 2.0
    begin = time.monotonic()
    window = Window(start=begin + ramp + settle, end=begin + ramp + settle + seconds)
    stop_at = window.end + 0.5
    clients: list[httpx.AsyncClient | RawHttpClient] = [
        httpx.AsyncClient(
            base_url=base_url,
            verify=False,  # plain HTTP on loopback: skip loading CA certificates per client
            timeout=httpx.Timeout(10.0),
            limits=httpx.Limits(max_connections=GROUP, max_keepalive_connections=GROUP),
        )
        if kind == "httpx"
        else RawHttpClient(base_url, timeout=10.0)
        for _ in range((listeners + GROUP - 1) // GROUP)
    ]
    followers = [
        HlsFollower(
            clients[i // GROUP],
            f"{base_url}/api/spaces/{space_id}/hls/live.m3u8",
            on_part=window.on_part,
        )
        for i in range(listeners)
    ]

    async def play(index: int, follower: HlsFollower) -> None:
        await asyncio.sleep(ramp * index / listeners)
        await follower.run(until=stop_at)

    tasks = [asyncio.create_task(play(i, f)) for i, f in enumerate(followers)]
    server_cpu = CpuMeter(server.pid)
    rss_peak = 0
    fds_peak = 0
    await asyncio.sleep(max(0.0, window.start - time.monotonic()))
    requests0, errors0 = totals(followers)
    origin0 = await origin_hls_requests(server)
    edge0 = edge_cpu_seconds(server.pid)
    server_cpu.start()
    own0, wall0 = time.process_time(), time.monotonic()
    while time.monotonic() < window.end:
        await asyncio.sleep(min(1.0, max(0.0, window.end - time.monotonic())))
        rss_peak = max(rss_peak, process_rss_bytes(server.pid))
        fds_peak = max(fds_peak, process_fds(server.pid))
    requests1, errors1 = totals(followers)
    server_pct = server_cpu.stop()
    wall = time.monotonic() - wall0
    edge_pct = 100 * (edge_cpu_seconds(server.pid) - edge0) / wall
    origin_rps = (await origin_hls_requests(server) - origin0) / wall
    own_pct = 100 * (time.process_time() - own0) / wall
    # Players stop by themselves; a request blocked on the server ends within its timeout.
    _, pending = await asyncio.wait(tasks, timeout=15)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for client in clients:
        await client.aclose()
    errors: dict[str, int] = {}
    for follower in followers:
        for kind, count in follower.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    rps = (requests1 - requests0) / wall
    cpu_ms_per_request = server_pct * 10 / rps if rps else float("nan")
    through_edge = {
        "origin_hls_requests_per_s": round(origin_rps, 1),
        "edge_cpu_pct": round(edge_pct, 1),
        # What the edge spends per player, and so how many one core of it serves.
        "edge_listeners_per_core": round(100 * listeners / edge_pct) if edge_pct > 0 else None,
    }
    return {
        "listeners": listeners,
        "ramp_s": ramp,
        "window_s": round(wall, 2),
        "requests_per_s": round(rps, 1),
        "server_cpu_ms_per_request": round(cpu_ms_per_request, 3),
        # One core's worth of such requests, divided by what one listener asks for.
        "listeners_per_core_estimate": round(
            1000 / cpu_ms_per_request / REQUESTS_PER_LISTENER_SECOND
        ),
        "parts_per_s": round(window.parts / wall, 1),
        "parts_per_s_expected": round(listeners / PART_SECONDS, 1),
        "delay_after_part_complete": summary_ms(window.delays),
        "errors_in_window": errors1 - errors0,
        "errors_total": errors,
        "players_cancelled_at_end": len(pending),
        "server_cpu_pct": round(server_pct, 1),
        "server_rss_mb_peak": round(rss_peak / 2**20, 1),
        "server_fds_peak": fds_peak,
        "client_cpu_pct": round(own_pct, 1),
        **(through_edge if edge else {}),
    }


async def run(
    sizes: list[int], seconds: float, speaker: bool, kind: str, edge: bool
) -> dict[str, Any]:
    async with server_process() as server, contextlib.AsyncExitStack() as stack:
        base_url = server.url
        if edge:
            front = Edge(
                origin_port=server.port,
                http_port=free_port(),
                https_port=free_port(),
                directory=Path(tempfile.mkdtemp(prefix="salon-bench-edge-")),
                edge_secret=Settings(secret_key=server.secret_key).edge_secret(),
            )
            await stack.enter_async_context(front)
            base_url = front.http_url
        stage = await build_stage(server.url, 1, title="Audience")
        bot: TimedSpeaker | None = None
        if speaker:
            bot = TimedSpeaker(
                server.url, stage.space_id, stage.tokens[0], PcmTrack(tone(440, 2.0)), keep=False
            )
            await bot.connect()
        async with httpx.AsyncClient(timeout=10) as client:  # opens the room
            (await client.get(await listener_url(server.url, stage.space_id))).raise_for_status()
        await asyncio.sleep(2.0)
        idle_rss = process_rss_bytes(server.pid)
        phases = []
        for size in sizes:
            result = await phase(server, base_url, stage.space_id, size, seconds, kind, edge)
            phases.append(result)
            print(
                f"{size} listeners: {result['requests_per_s']} req/s, "
                f"server {result['server_cpu_pct']} % CPU, client {result['client_cpu_pct']} %"
                + (
                    f", origin {result['origin_hls_requests_per_s']} HLS req/s, "
                    f"edge {result['edge_cpu_pct']} % CPU"
                    if edge
                    else ""
                )
            )
            await asyncio.sleep(2.0)  # let the server close connections
        if bot is not None:
            await bot.hang_up()
        await stage.end()
        await stage.close()
    return {"server_rss_mb_before": round(idle_rss / 2**20, 1), "phases": phases}


def report(result: dict[str, Any], args: argparse.Namespace, host: dict[str, Any]) -> None:
    if args.edge:
        report_edge(result, args, host)
        return
    rows = []
    for p in result["phases"]:
        delay = p["delay_after_part_complete"]
        parts = f"{p['parts_per_s']:.0f}/{p['parts_per_s_expected']:.0f}"
        rows.append(
            (p["listeners"], p["requests_per_s"], parts,
             delay.get("median_ms", "—"), delay.get("p99_ms", "—"), p["errors_in_window"],
             p["server_cpu_pct"], p["server_cpu_ms_per_request"], p["listeners_per_core_estimate"],
             p["server_rss_mb_peak"], p["client_cpu_pct"])
        )  # fmt: skip
    show(
        f"LL-HLS audience of one space, {args.seconds:g} s windows, {args.client} players "
        "(app alone, no cache)",
        ["listeners", "req/s", "parts/s got/due", "p50 delay ms", "p99 delay ms", "errors",
         "server CPU %", "CPU ms/req", "listeners/core", "RSS MB", "client CPU %"],
        rows,
    )  # fmt: skip
    data = {
        "parameters": {
            "listeners": args.listeners,
            "seconds": args.seconds,
            "speaker": args.speaker,
            "client": args.client,
        },
        **result,
    }
    # The raw-client run is kept beside the default one rather than replacing it.
    path = save("audience" if args.client == "httpx" else "audience_raw", data, host=host)
    print(f"saved {path.relative_to(path.parent.parent.parent)}")


def report_edge(result: dict[str, Any], args: argparse.Namespace, host: dict[str, Any]) -> None:
    rows = []
    for p in result["phases"]:
        delay = p["delay_after_part_complete"]
        parts = f"{p['parts_per_s']:.0f}/{p['parts_per_s_expected']:.0f}"
        rows.append(
            (p["listeners"], p["requests_per_s"], parts,
             delay.get("median_ms", "—"), delay.get("p99_ms", "—"), p["errors_in_window"],
             p["origin_hls_requests_per_s"], p["server_cpu_pct"], p["edge_cpu_pct"],
             p["edge_listeners_per_core"], p["client_cpu_pct"])
        )  # fmt: skip
    show(
        f"LL-HLS audience of one space through the edge (nginx, its audio cache), "
        f"{args.seconds:g} s "
        f"windows, {args.client} players",
        ["listeners", "req/s", "parts/s got/due", "p50 delay ms", "p99 delay ms", "errors",
         "origin HLS req/s", "origin CPU %", "edge CPU %", "listeners/edge core",
         "client CPU %"],
        rows,
    )  # fmt: skip
    data = {
        "parameters": {
            "listeners": args.listeners,
            "seconds": args.seconds,
            "speaker": args.speaker,
            "client": args.client,
            "edge": True,
        },
        **result,
    }
    path = save(f"audience_edge_{args.client}", data, host=host)
    print(f"saved {path.relative_to(path.parent.parent.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listeners", default="100,1000,5000", help="comma-separated counts")
    parser.add_argument("--seconds", type=float, default=15.0, help="measuring window per count")
    parser.add_argument("--speaker", action="store_true", help="one bot speaks a tone")
    parser.add_argument(
        "--client",
        choices=("httpx", "raw"),
        default="httpx",
        help="players' HTTP client: httpx, or a minimal keep-alive HTTP/1.1 client that "
        "costs far less CPU per request (to find the server's limit, not the client's)",
    )
    parser.add_argument(
        "--edge", action="store_true", help="players go through the shipped edge (nginx)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.listeners.split(",") if s.strip()]
    if not sizes or not all(1 <= s <= MAX_LISTENERS for s in sizes):
        parser.error(f"listener counts are 1 to {MAX_LISTENERS}")
    if not 3 <= args.seconds <= 60:
        parser.error("--seconds is 3 to 60")
    args.listeners = sizes
    limit = raise_fd_limit(max(sizes) * 2 + 1000)
    if limit < max(sizes) + 500:
        parser.error(f"the file descriptor limit ({limit}) is too low for {max(sizes)} players")
    skip_sniffio_probe()
    host = machine()
    with quiet_logs():
        result = asyncio.run(run(sizes, args.seconds, args.speaker, args.client, args.edge))
    report(result, args, host)


if __name__ == "__main__":
    main()
