"""``bench.failover``'s cluster: three ``salon serve`` children on 127.0.0.1, one throwaway
PostgreSQL database and one Redis key prefix, plus what the bench reads besides the nodes'
HTTP API (the media leases in the database, /proc CPU times) and its output file.

Written for the bench alone: nothing here imports ``tests/`` (nor ``bench.common``, which does).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: Cheap password hashing: accounts are made by the dozen.
ARGON2 = {"SALON_ARGON2_TIME_COST": "1", "SALON_ARGON2_MEMORY_KIB": "1024"}
PASSWORD = "bench-pass-123"


# ---------------------------------------------------------------- the nodes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Node:
    """``salon serve`` as one node: a fixed port and var directory, so it can be killed with
    SIGKILL and started again as the same address (a new node name: a new process)."""

    def __init__(self, index: int, directory: Path, settings: dict[str, str]) -> None:
        self.index = index
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "node.log"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SALON_")}
        self.env = {
            **inherited,
            **settings,
            "SALON_VAR_DIR": str(directory / "var"),
            "SALON_HOST": "127.0.0.1",
            "SALON_PORT": str(self.port),
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def name(self) -> str:
        return f"node{self.index}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> float:
        """Start it and wait for /healthz; the seconds that took."""
        began = time.monotonic()
        self.starts += 1
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "salon", "serve", "--host", "127.0.0.1", "--port", str(self.port)),
                cwd=self.directory,  # so no stray .env is read
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while time.monotonic() - began < 60 and self.process.returncode is None:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/healthz")).status_code == 200:
                        return time.monotonic() - began
                await asyncio.sleep(0.05)
        tail = self.log_tail()
        await self.stop()
        raise RuntimeError(f"{self.name} (salon serve) did not come up:\n{tail}")

    def kill(self) -> None:
        """SIGKILL, as a crash (this child only)."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    async def wait(self) -> None:
        if self.process is not None:
            await self.process.wait()

    async def stop(self) -> None:
        """SIGINT (uvicorn shuts down gracefully), then SIGKILL after 10 s; this child only."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(10):
                await self.process.wait()
        except TimeoutError:
            self.kill()
            await self.process.wait()

    def log_tail(self, chars: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-chars:]
        return ""


@dataclass
class Cluster:
    nodes: list[Node]
    #: asyncpg's DSN of the nodes' database (the nodes get the SQLAlchemy form).
    dsn: str
    redis_prefix: str
    lease_seconds: float

    def node_at(self, url: str | None) -> Node | None:
        return next((node for node in self.nodes if node.url == url), None)


async def _create_database(admin_dsn: str) -> str:
    name = f"salon_bench_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name


async def _drop_database(admin_dsn: str, name: str) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def drop_keys(redis_url: str, prefix: str) -> int:
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        return len(keys)
    finally:
        await client.aclose()


@asynccontextmanager
async def cluster(
    directory: Path, *, nodes: int, admin_dsn: str, redis_url: str, lease_seconds: float
) -> AsyncIterator[Cluster]:
    """``nodes`` nodes on a new database and Redis prefix; everything removed afterwards."""
    name = await _create_database(admin_dsn)
    base = admin_dsn.rsplit("/", 1)[0]
    prefix = f"salon-bench-{secrets.token_hex(4)}:"
    settings = {
        "SALON_DATABASE_URL": base.replace("postgresql://", "postgresql+asyncpg://") + "/" + name,
        "SALON_REDIS_URL": redis_url,
        "SALON_REDIS_PREFIX": prefix,
        "SALON_SECRET_KEY": secrets.token_urlsafe(32),
        "SALON_RECORDINGS_PATH": str(directory / "recordings"),
        "SALON_HOST_MIN_FOLLOWERS": "0",
        "SALON_LOG_LEVEL": "WARNING",
        "SALON_MEDIA_LEASE_SECONDS": f"{lease_seconds:g}",
        **ARGON2,
    }
    running = [Node(i, directory / f"node{i}", settings) for i in range(nodes)]
    try:
        for node in running:  # one after another: the first one migrates the database
            await node.start()
        yield Cluster(running, f"{base}/{name}", prefix, lease_seconds)
    finally:
        for node in running:
            await node.stop()
        with contextlib.suppress(Exception):
            await drop_keys(redis_url, prefix)
        await _drop_database(admin_dsn, name)


# ---------------------------------------------------------------- the leases


async def lease(db: asyncpg.Connection, space_id: str) -> tuple[str | None, str | None]:
    """(media_node, media_url) of the space's live lease; (None, None) if none is live."""
    row = await db.fetchrow(
        "SELECT media_node, media_url FROM spaces WHERE id = $1 AND media_lease_until > now()",
        space_id,
    )
    return (None, None) if row is None else (row["media_node"], row["media_url"])


async def leases_by_url(db: asyncpg.Connection, space_ids: list[str]) -> dict[str, int]:
    """How many of ``space_ids`` each node (by its URL) holds a live lease on."""
    rows = await db.fetch(
        "SELECT media_url, count(*) AS n FROM spaces "
        "WHERE id = ANY($1::varchar[]) AND media_lease_until > now() GROUP BY media_url",
        space_ids,
    )
    return {str(row["media_url"]): int(row["n"]) for row in rows}


# ---------------------------------------------------------------- accounts


class Account:
    """An account signed in on one node (a cookie session; it works on every node)."""

    def __init__(self, http: httpx.AsyncClient, me: dict[str, Any]) -> None:
        self.http = http
        self.id = int(me["id"])

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content and response.status_code != 204 else None

    async def token(self) -> str:
        return str((await self.ok("POST", "/api/me/tokens", json={"name": "bench"}))["token"])

    async def aclose(self) -> None:
        await self.http.aclose()


async def register(base_url: str) -> Account:
    handle = f"f{secrets.token_hex(6)}"
    http = httpx.AsyncClient(base_url=base_url, timeout=30)
    response = await http.post(
        "/api/accounts", json={"handle": handle, "display_name": handle, "password": PASSWORD}
    )
    if response.status_code != 201:
        await http.aclose()
        raise RuntimeError(f"registration failed: {response.status_code} {response.text}")
    return Account(http, response.json())


# ---------------------------------------------------------------- /proc


_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat (idle and iowait are not busy)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])  # guest time is already in user
    return total - values[3] - values[4], total


class Meter:
    """CPU between ``start()`` and ``read()``: each pid's as % of one core, and the machine's
    as % of all its cores."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._wall = 0.0
        self._cpu: dict[str, float] = {}
        self._machine = (0, 0)

    def start(self) -> Meter:
        self._wall = time.monotonic()
        self._cpu = {name: process_cpu_seconds(pid) for name, pid in self.pids.items()}
        self._machine = machine_ticks()
        return self

    def read(self) -> dict[str, float]:
        wall = time.monotonic() - self._wall
        busy, total = machine_ticks()
        out = {
            name: round(100 * (process_cpu_seconds(pid) - self._cpu[name]) / wall, 1)
            for name, pid in self.pids.items()
        }
        spent = total - self._machine[1]
        out["machine"] = round(100 * (busy - self._machine[0]) / spent, 1) if spent else 0.0
        return out


# ---------------------------------------------------------------- output


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
    }


def command_line() -> str:
    return " ".join([".venv/bin/python -m bench.failover", *sys.argv[1:]])


def save(name: str, data: dict[str, Any], *, host: dict[str, Any]) -> Path:
    """bench/results/<name>.json, in the other benches' layout."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    document = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": host,
        **data,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path
