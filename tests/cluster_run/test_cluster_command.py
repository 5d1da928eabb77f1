"""``salon cluster`` (``make cluster``) end to end: three nodes on PostgreSQL and Redis behind
the edge, on free loopback ports, a throwaway database and a random Redis prefix (so a
developer's own ``make cluster`` is never touched). Through the edge: sign up, start a live
space, follow its event stream while a reaction is sent (the WebSocket and the reaction may
land on different nodes: the event crosses Redis). Then SIGINT, as Ctrl-C: the command exits
cleanly and every process it started is gone. ``salon cluster-clean`` then drops the
database and the prefix's keys (only those) and the folder."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import websockets
from redis.asyncio import Redis

from salon.edge import free_ports
from tests.harness import FAST_HASHING, PASSWORD, POSTGRES_ADMIN_DSN

REDIS_URL = "redis://127.0.0.1:6379/0"
#: The whole test, start to clean-up; it takes ~15-25 s on two cores.
PATIENCE = 60

pytestmark = pytest.mark.postgres


def processes() -> dict[int, tuple[int, str, str]]:
    """Every process: pid → (parent pid, state, start time)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                found[int(entry.name)] = (int(fields[1]), fields[0], fields[19])
    return found


def descendants(pid: int) -> dict[int, str]:
    """The processes below ``pid``, each with its start time (to tell a reused pid)."""
    table = processes()
    found: dict[int, str] = {}
    frontier = {pid}
    while frontier:
        frontier = {child for child, (parent, _, _) in table.items() if parent in frontier}
        found |= {child: table[child][2] for child in frontier}
    return found


def still_running(started: dict[int, str]) -> list[int]:
    """Those of ``started`` still running (a zombie has finished: not counted)."""
    table = processes()
    return [
        pid
        for pid, start in started.items()
        if pid in table and table[pid][2] == start and table[pid][1] != "Z"
    ]


def read(path: Path) -> str:
    return path.read_text(errors="replace")


def mode(path: Path) -> int | None:
    """A file's permission bits; None if it is not there."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return None


async def database_exists(name: str) -> bool:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


async def keys(pattern: str) -> list[bytes]:
    client = Redis.from_url(REDIS_URL)
    try:
        return [key async for key in client.scan_iter(match=pattern)]
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def leftovers_removed(database: str, prefixes: list[str]) -> AsyncIterator[None]:
    """Whatever the test leaves (it cleans up itself when it passes): dropped."""
    try:
        yield
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
        client = Redis.from_url(REDIS_URL)
        try:
            for prefix in prefixes:
                found = [key async for key in client.scan_iter(match=f"{prefix}*")]
                if found:
                    await client.delete(*found)
        finally:
            await client.aclose()


async def salon(*arguments: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "salon",
        *arguments,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


async def test_make_cluster_runs_three_nodes_behind_the_edge_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    token = secrets.token_hex(4)
    database = f"salon_test_cluster_{token}"
    prefix = f"salon-test-cluster-{token}:"
    neighbour = f"salon-test-cluster-{token}-other:"  # shares the start, not the prefix
    directory = tmp_path / "cluster"
    *node_ports, http_port, https_port = free_ports(5)
    where = [
        *("--directory", str(directory)),
        *("--database", database),
        *("--postgres", POSTGRES_ADMIN_DSN),
        *("--redis", REDIS_URL),
        *("--redis-prefix", prefix),
    ]
    env = {
        **os.environ,
        "SALON_ARGON2_TIME_COST": str(FAST_HASHING["argon2_time_cost"]),
        "SALON_ARGON2_MEMORY_KIB": str(FAST_HASHING["argon2_memory_kib"]),
        "SALON_LOG_LEVEL": "WARNING",
    }
    edge = f"http://127.0.0.1:{http_port}"
    log = tmp_path / "cluster.log"
    async with asyncio.timeout(PATIENCE), leftovers_removed(database, [prefix, neighbour]):
        with log.open("wb") as out:
            cluster = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "salon", "cluster", *where),
                *(arg for port in node_ports for arg in ("--node-port", str(port))),
                *("--http-port", str(http_port), "--https-port", str(https_port)),
                env=env,
                cwd=tmp_path,  # no developer's .env
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        started: dict[int, str] = {}
        try:
            async with httpx.AsyncClient(base_url=edge, timeout=10) as http:
                while "Ctrl-C stops everything" not in read(log):
                    assert cluster.returncode is None, read(log)
                    await asyncio.sleep(0.1)
                health = await http.get("/healthz")
                assert health.status_code == 200, health.text
                started = descendants(cluster.pid)
                # Three nodes, nginx's master and its workers (at least one).
                assert len(started) >= 5, started
                text = read(log)
                for port in node_ports:
                    assert f"http://127.0.0.1:{port}" in text
                assert f"open {edge}" in text
                assert await database_exists(database)
                assert mode(directory / "secret_key") == 0o600
                assert await keys(f"{prefix}*")  # the nodes' heartbeats, under the prefix

                # A second command on the same folder is refused while this one runs.
                code, output = await salon("cluster-clean", *where, env=env, cwd=tmp_path)
                assert code == 1
                assert "a cluster is running" in output

                # Through the edge: the first account (the admin) signs up and goes live.
                handle = f"c{token}"
                signed_up = await http.post(
                    "/api/accounts",
                    json={"handle": handle, "display_name": handle, "password": PASSWORD},
                    headers={"Origin": edge},
                )
                assert signed_up.status_code == 201, signed_up.text
                space = await http.post(
                    "/api/spaces", json={"title": "Cluster"}, headers={"Origin": edge}
                )
                assert space.status_code == 201, space.text
                assert space.json()["state"] == "live"
                space_id = space.json()["id"]
                cookie = http.cookies["salon_session"]
                async with websockets.connect(
                    f"ws://127.0.0.1:{http_port}/api/spaces/{space_id}/events",
                    additional_headers={"Cookie": f"salon_session={cookie}"},
                    origin=websockets.Origin(edge),
                    open_timeout=10,
                ) as events:
                    snapshot = json.loads(await events.recv(decode=True))
                    assert snapshot["type"] == "snapshot"
                    assert snapshot["space"]["id"] == space_id
                    # Sent three times, so nginx's round robin lands at least one on a node
                    # other than the stream's.
                    for _ in range(3):
                        reacted = await http.post(
                            f"/api/spaces/{space_id}/reactions",
                            json={"emoji": "👏"},
                            headers={"Origin": edge},
                        )
                        assert reacted.status_code < 300, reacted.text
                    reactions = 0
                    while reactions < 3:
                        event = json.loads(await events.recv(decode=True))
                        reactions += event["type"] == "reaction"

                # Its audio through the edge's cache: one node runs the media, the others forward.
                listen = await http.get(f"/api/spaces/{space_id}/listen")
                assert listen.status_code == 200, listen.text
                playlist = listen.json()["playlist_url"]
                parts: list[str] = []
                while len(parts) < 6:  # the media opens as the space goes live
                    answer = await http.get(playlist)
                    assert answer.status_code in (200, 404, 503), answer.text
                    parts = re.findall(r'#EXT-X-PART:.*URI="([^"]+)"', answer.text)
                    await asyncio.sleep(0.2)
                # Each part is its own object: the cache fetches them from each node in turn.
                base = playlist.rsplit("/", 1)[0]
                for name in parts[-6:]:
                    part = await http.get(f"{base}/{name}")
                    assert part.status_code == 200, part.text
                    assert part.content

            # Ctrl-C: everything it started stops, and it says so.
            cluster.send_signal(signal.SIGINT)
            assert await cluster.wait() == 0, read(log)
            assert still_running(started) == []
            assert "Cluster stopped" in read(log)
        finally:
            if cluster.returncode is None:
                started |= descendants(cluster.pid)
                cluster.kill()
                await cluster.wait()
            for pid in still_running(started):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

        # Kept between runs until cleaned: the database, the secret key.
        assert await database_exists(database)
        assert mode(directory / "secret_key") == 0o600
        client = Redis.from_url(REDIS_URL)
        try:
            await client.set(f"{prefix}left-behind", "1")
            await client.set(f"{neighbour}not-ours", "1")
        finally:
            await client.aclose()
        code, output = await salon("cluster-clean", *where, env=env, cwd=tmp_path)
        assert code == 0, output
        assert not await database_exists(database)
        assert await keys(f"{prefix}*") == []
        assert await keys(f"{neighbour}*") == [f"{neighbour}not-ours".encode()]
        assert mode(directory) is None
