"""Edge protocols: what the edge spends on one audio request it answers from its cache, over
HTTP/1.1, HTTP/1.1 with TLS and HTTP/2 with TLS, side by side.

``bench.edge --mode protocols`` runs this. One ``salon serve`` child with one live space and
``salon edge`` in front (as shipped: one nginx worker per core); nghttp2's ``h2load`` (Debian's
``nghttp2-client``) asks the edge for one part of the live stream that the edge holds, from
``--players`` connections at 10.4 requests per listener-second, paced (``--rps``):

- HTTP/1.1 (port 8080): one connection per player, one request at a time: two connections
  per player would cost the same per request;
- HTTP/1.1 over TLS (port 8443, ``--h1``): the same, encrypted;
- HTTP/2 over TLS (port 8443): half as many connections, two streams at a time on each (a
  browser's blocking reload and preload-hinted part share one connection).

For each, after a 2 s warm-up and 2 s more, the edge's CPU (nginx, its workers and the audio
cache in them, from /proc) over ``--seconds``, divided by the requests h2load paced in that
time: µs per request, and the listeners one edge core holds at that cost (10.4 requests per
listener-second). ``--runs`` rounds, the order turned each round; median (min–max).

This isolates the protocol: every request is a cache hit answered at once, so the blocking
wait, the collapse of requests into one origin fetch, and the burst of answers when a part
lands (what ``--mode audience`` measures with real players) are left out.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import time
from typing import Any

import httpx

from bench.common import machine, quiet_logs, save, show
from bench.edge_audience import REQUESTS_PER_LISTENER_SECOND, live_space, tree_cpu_seconds

H2LOAD = "h2load"
WARM_UP_SECONDS = 2.0
#: After the warm-up, before the window: connections made, TLS handshakes done.
SETTLE_SECONDS = 2.0
PROTOCOLS = ("HTTP/1.1", "HTTP/1.1 + TLS", "HTTP/2 + TLS")


async def one_protocol(
    protocol: str, url: str, edge_pids: list[int], players: int, seconds: float
) -> dict[str, Any]:
    rate = REQUESTS_PER_LISTENER_SECOND  # per player
    if protocol == "HTTP/2 + TLS":
        clients, streams, options = players // 2, 2, []
    else:
        clients, streams, options = players, 1, ["--h1"]
    per_client = rate * players / clients
    duration = SETTLE_SECONDS + seconds + 1.0
    process = await asyncio.create_subprocess_exec(
        H2LOAD, "-t", "1", "-c", str(clients), "-m", str(streams),
        "--rps", f"{per_client:.2f}", "-D", f"{duration:g}",
        "--warm-up-time", f"{WARM_UP_SECONDS:g}", *options, url,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    await asyncio.sleep(WARM_UP_SECONDS + SETTLE_SECONDS)
    cpu0, t0 = tree_cpu_seconds(edge_pids), time.monotonic()
    await asyncio.sleep(seconds)
    cpu1, t1 = tree_cpu_seconds(edge_pids), time.monotonic()
    output = (await process.communicate())[0].decode(errors="replace")
    done = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded", output)
    if process.returncode != 0 or done is None:
        raise RuntimeError(f"h2load failed for {protocol}: {output[-400:]}")
    total, succeeded = int(done[1]), int(done[4])
    paced = rate * players * (t1 - t0)
    us = (cpu1 - cpu0) / paced * 1e6
    return {
        "protocol": protocol,
        "connections": clients,
        "streams_per_connection": streams,
        "requests_per_s": rate * players,
        "edge_cpu_pct": (cpu1 - cpu0) / (t1 - t0) * 100,
        "edge_us_per_request": us,
        "listeners_per_edge_core": 1e6 / (us * rate),
        "h2load_requests": total,
        "h2load_failed": total - succeeded,
    }


async def measure(players: int, seconds: float, runs: int) -> dict[str, Any]:
    rounds: list[list[dict[str, Any]]] = []
    async with live_space(edge=True) as (target, _):
        async with httpx.AsyncClient(base_url=target.origin_url, timeout=10) as client:
            text = (await client.get(target.playlist)).text
        part = re.findall(r'#EXT-X-PART:[^\n]*URI="([^"]+)"', text)[-1]
        path = target.playlist.rsplit("/", 1)[0] + "/" + part
        for index in range(runs):
            order = PROTOCOLS if index % 2 == 0 else PROTOCOLS[::-1]
            found = []
            for protocol in order:
                base = target.base_url if protocol == "HTTP/1.1" else target.edge_https_url
                found.append(
                    await one_protocol(protocol, base + path, target.edge_pids, players, seconds)
                )
                print(
                    f"run {index + 1}/{runs} {protocol}: "
                    f"{found[-1]['edge_us_per_request']:.1f} µs a request",
                    flush=True,
                )
            rounds.append(found)
    summary = []
    for protocol in PROTOCOLS:
        rows = [row for found in rounds for row in found if row["protocol"] == protocol]
        summary.append(
            {
                "protocol": protocol,
                "connections": rows[0]["connections"],
                "streams_per_connection": rows[0]["streams_per_connection"],
                "requests_per_s": rows[0]["requests_per_s"],
                **{
                    key: spread([row[key] for row in rows])
                    for key in ("edge_cpu_pct", "edge_us_per_request", "listeners_per_edge_core")
                },
                "h2load_failed": sum(row["h2load_failed"] for row in rows),
            }
        )
    return {
        "parameters": {"players": players, "seconds": seconds, "runs": runs, "part": part},
        "summary": summary,
        "runs": rounds,
    }


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def cell(figure: dict[str, float], digits: int = 0) -> str:
    return (
        f"{figure['median']:,.{digits}f} ({figure['min']:,.{digits}f}–{figure['max']:,.{digits}f})"
    )


def main(players: int, seconds: float, runs: int) -> None:
    if shutil.which(H2LOAD) is None:
        raise SystemExit("--mode protocols needs h2load: apt-get install -y nghttp2-client")
    host = machine()
    with quiet_logs():
        result = asyncio.run(measure(players, seconds, runs))
    base = result["summary"][0]["edge_us_per_request"]["median"]
    show(
        f"The edge answering one cached part to {players:,} players at 10.4 requests per "
        f"listener-second, {seconds:g} s windows, median (min–max) of {runs} runs",
        ["protocol", "connections × streams", "req/s", "edge CPU %", "µs a request",
         "× HTTP/1.1", "listeners /edge core", "failed"],
        [
            (row["protocol"], f"{row['connections']:,} × {row['streams_per_connection']}",
             f"{row['requests_per_s']:,.0f}", cell(row["edge_cpu_pct"], 1),
             cell(row["edge_us_per_request"], 1),
             f"{row['edge_us_per_request']['median'] / base:.2f}",
             cell(row["listeners_per_edge_core"]), row["h2load_failed"])
            for row in result["summary"]
        ],
    )  # fmt: skip
    path = save("edge_protocols", result, host=host)
    print(f"saved {path.relative_to(path.parent.parent.parent)}")
