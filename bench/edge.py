"""Edge: an audience through the caching edge and direct; the delay the edge adds to a reload.

Two modes:

- ``--mode audience`` (the default; ``bench/edge_audience.py`` says how): 100 → 1,000 → as
  many LL-HLS players as this box drives, through the shipped edge (nginx, its audio cache in
  Lua) and straight to the origin: origin requests/s, edge CPU per 1,000 players, cache hit ratio,
  part delay p50/p99, the app alone's CPU per listener-second, and hls.js's ``latency`` in
  Chromium through the edge and direct. Saves ``bench/results/edge_audience.json``.
- ``--mode reload``: the delay the edge adds to a blocking playlist reload, side by side with
  the origin alone and an nginx ``proxy_cache_lock`` anchor (below). Saves ``edge.json``.
- ``--mode protocols`` (``bench/edge_protocols.py`` says how): the edge's CPU per cached
  audio request over HTTP/1.1, HTTP/1.1 + TLS and HTTP/2 + TLS, side by side, with h2load
  (Debian's ``nghttp2-client``). Saves ``edge_protocols.json``.

Reload mode:
``salon serve`` runs as a child process with one live space (its mixer's silence is encoded
and packaged as usual). In front of it, in one run and at the same time:

- **origin alone**: a few players straight to the origin; the first of them to get each
  blocking reload marks the moment the origin answered it (the reference);
- **edge**: players through the edge ``salon edge`` runs (nginx, whose audio cache in Lua
  wakes every waiter the moment the object lands);
- **nginx proxy_cache_lock** (the anchor): players through a plain nginx cache in front of
  the origin, with ``proxy_cache_lock on`` (waiters poll for the object every 500 ms at most).

Every player follows like a low-latency player: the blocking reload for the preload-hinted
part and that part at once. For each reload (one (msn, part) key), the delay is its arrival
at the player minus the reference's arrival for the same key: what each path adds to the
origin's own answer. The origin's HLS request count over the window says how well each
path collapsed (the origin serves all three).

Run: .venv/bin/python -m bench.edge [--players 100,1000,3000] [--runs 3] [--seconds 5]
     .venv/bin/python -m bench.edge --mode reload [--players 50] [--seconds 15]
     .venv/bin/python -m bench.edge --mode protocols [--players 1000] [--runs 3] [--seconds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from tests.edge.players import RawHttpClient

from bench import edge_audience, edge_protocols
from bench.common import ServerProcess, build_stage, machine, quiet_logs, save, show, summary_ms
from salon.config import Settings
from salon.edge import Edge, free_port
from salon.edge.processes import Child, give_to_worker, start_nginx, worker_user

_HINT = re.compile(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(part(\d+)\.(\d+)\.m4s)"')

ANCHOR_CONF = """\
{user}
worker_processes auto;
pid {runtime}/anchor.pid;
error_log {logs}/anchor-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    keepalive_requests 1000000;
    proxy_cache_path {cache} levels=1:2 keys_zone=salon_anchor:10m max_size=256m inactive=1m
        use_temp_path=off;
    upstream origin {{ server 127.0.0.1:{origin_port}; keepalive 64; keepalive_timeout 4s; }}
    server {{
        listen 127.0.0.1:{port};
        location /api/spaces/ {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_cache salon_anchor;
            proxy_cache_key "$uri|$arg__HLS_msn|$arg__HLS_part";
            proxy_cache_lock on;
            proxy_cache_lock_timeout 10s;
            proxy_cache_lock_age 10s;
            proxy_cache_valid 200 6s;
            proxy_cache_valid any 1s;
        }}
    }}
}}
"""


@dataclass
class Group:
    name: str
    base_url: str
    #: (msn, part) -> arrival times (time.monotonic()) of the blocking reload's answer.
    arrivals: dict[tuple[int, int], list[float]] = field(default_factory=dict)
    errors: int = 0
    reloads: int = 0


async def follow(group: Group, playlist: str, until: float) -> None:
    reloads, parts = RawHttpClient(group.base_url), RawHttpClient(group.base_url)
    directory = playlist.rsplit("/", 1)[0] + "/"
    try:
        while time.monotonic() < until:
            try:
                text = (await reloads.get(playlist)).text
                while time.monotonic() < until:
                    hint = _HINT.search(text)
                    if hint is None:
                        raise ValueError("no preload hint")
                    key = (int(hint[2]), int(hint[3]))
                    target = f"{playlist}?_HLS_msn={key[0]}&_HLS_part={key[1]}"

                    async def reload(target: str = target, key: tuple[int, int] = key) -> str:
                        response = await reloads.get(target)
                        if response.status != 200:
                            raise ValueError(f"HTTP {response.status}")
                        group.arrivals.setdefault(key, []).append(time.monotonic())
                        group.reloads += 1
                        return response.text

                    text, _ = await asyncio.gather(reload(), parts.get(directory + hint[1]))
            except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError):
                group.errors += 1
                await reloads.aclose()
                await parts.aclose()
                await asyncio.sleep(0.25)
    finally:
        await reloads.aclose()
        await parts.aclose()


async def hls_requests(origin_url: str) -> int:
    """The origin's ``salon_hls_requests_total``, all kinds."""
    async with httpx.AsyncClient(base_url=origin_url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(text)
            if family.name == "salon_hls_requests"
            for sample in family.samples
            if sample.name.endswith("_total")
        )
    )


def prepare_anchor(origin_port: int, port: int, directory: Path) -> tuple[Path, Path]:
    """The anchor's configuration file and runtime directory (its cache and temp files)."""
    runtime = Path(tempfile.mkdtemp(prefix="salon-anchor-"))
    runtime.chmod(0o755)
    give_to_worker(runtime / "temp")
    give_to_worker(runtime / "cache")
    user = worker_user()
    config = directory / "anchor.conf"
    config.write_text(
        ANCHOR_CONF.format(
            user=f"user {user};" if user else "",
            runtime=runtime,
            logs=directory,
            temp=runtime / "temp",
            cache=runtime / "cache",
            origin_port=origin_port,
            port=port,
        )
    )
    return config, runtime


async def anchor_nginx(origin_port: int, port: int, directory: Path) -> tuple[Child, Path]:
    config, runtime = prepare_anchor(origin_port, port, directory)
    child = await start_nginx(
        config=config,
        prefix=runtime,
        error_log=directory / "anchor-error.log",
        host="127.0.0.1",
        port=port,
    )
    return child, runtime


async def run(players: int, direct: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="salon-bench-edge-") as tmp:
        directory = Path(tmp)
        server = ServerProcess(directory)
        await server.start()
        anchor_port = free_port()
        edge = Edge(
            origin_port=server.port,
            http_port=free_port(),
            https_port=free_port(),
            directory=directory / "edge",
            edge_secret=Settings(secret_key=server.secret_key).edge_secret(),
        )
        anchor: Child | None = None
        anchor_runtime: Path | None = None
        try:
            await edge.start()
            anchor, anchor_runtime = await anchor_nginx(server.port, anchor_port, directory)
            stage = await build_stage(server.url, 1, title="Edge")
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                listen = (await client.get(f"/api/spaces/{stage.space_id}/listen")).json()
                playlist = listen["playlist_url"]
                (await client.get(playlist)).raise_for_status()  # opens the room
            await asyncio.sleep(2.0)  # a few parts published before the window
            groups = [
                Group("origin alone", server.url),
                Group("edge (nginx + Lua cache)", edge.http_url),
                Group("nginx proxy_cache_lock", f"http://127.0.0.1:{anchor_port}"),
            ]
            counts = {groups[0].name: direct, groups[1].name: players, groups[2].name: players}
            before = await hls_requests(server.url)
            until = time.monotonic() + seconds
            await asyncio.gather(
                *(
                    follow(group, playlist, until)
                    for group in groups
                    for _ in range(counts[group.name])
                )
            )
            origin_requests = await hls_requests(server.url) - before
            await stage.end()
            await stage.close()
        finally:
            if anchor is not None:
                await anchor.stop()
            if anchor_runtime is not None:
                shutil.rmtree(anchor_runtime, ignore_errors=True)
            await edge.stop()
            await server.stop()
    reference = {key: min(times) for key, times in groups[0].arrivals.items()}
    rows: dict[str, Any] = {}
    for group in groups:
        delays = [
            t - reference[key]
            for key, times in group.arrivals.items()
            if key in reference
            for t in times
        ]
        rows[group.name] = {
            "players": counts[group.name],
            "reloads": group.reloads,
            "errors": group.errors,
            "added_delay": summary_ms(delays),
        }
    return {
        "parameters": {"players": players, "direct_players": direct, "seconds": seconds},
        "origin_hls_requests_in_window": origin_requests,
        "paths": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("audience", "reload", "protocols"), default="audience")
    parser.add_argument(
        "--players",
        help="audience: comma-separated player counts through the edge (100,1000,3000); "
        "reload: players per cached path (50); protocols: players (1000)",
    )
    parser.add_argument("--direct", type=int, default=5, help="(reload) players to the origin")
    parser.add_argument(
        "--seconds",
        type=float,
        help="measuring window per phase (audience 5, reload 15, protocols 6)",
    )
    edge_audience.add_arguments(parser)
    args = parser.parse_args()
    if args.mode == "audience":
        edge_audience.main(args, parser)
        return
    if args.mode == "protocols":
        try:
            players = int(args.players or 1000)
        except ValueError:
            parser.error("--players is one number in protocols mode")
        seconds = 6.0 if args.seconds is None else args.seconds
        if not 2 <= players <= 4000 or not 2 <= seconds <= 60 or not 1 <= args.runs <= 10:
            parser.error("--players is 2 to 4000, --seconds 2 to 60, --runs 1 to 10")
        edge_protocols.main(players, seconds, args.runs)
        return
    try:
        players = int(args.players or 50)
    except ValueError:
        parser.error("--players is one number in reload mode")
    seconds = 15.0 if args.seconds is None else args.seconds
    if not 1 <= players <= 2000 or not 1 <= args.direct <= 50:
        parser.error("--players is 1 to 2000, --direct 1 to 50")
    if not 3 <= seconds <= 120:
        parser.error("--seconds is 3 to 120")
    host = machine()
    with quiet_logs():
        result = asyncio.run(run(players, args.direct, seconds))
    rows = []
    for name, row in result["paths"].items():
        delay = row["added_delay"]
        rows.append(
            (name, row["players"], row["reloads"], delay.get("median_ms", "—"),
             delay.get("p95_ms", "—"), delay.get("p99_ms", "—"), delay.get("max_ms", "—"),
             row["errors"])
        )  # fmt: skip
    show(
        f"Delay added to a blocking playlist reload, {seconds:g} s, one run side by side "
        f"(origin served {result['origin_hls_requests_in_window']} HLS requests in all)",
        ["path", "players", "reloads", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"],
        rows,
    )
    path = save("edge", result, host=host)
    print(f"saved {path.relative_to(path.parent.parent.parent)}")


if __name__ == "__main__":
    main()
