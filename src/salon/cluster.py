"""``salon cluster`` (``make cluster``): several Salon nodes on one machine, on PostgreSQL and
Redis, behind the caching edge, for trying and testing Salon as several nodes.

Everything the cluster keeps lives apart from a single-node Salon's: its own database
(created if missing, kept between runs), its own Redis key prefix, and its own folder (by
default ``var/cluster/``) holding the shared secret key and recordings folder (made once and
kept), each node's var directory, the edge's files and every log. ``salon cluster-clean``
(``make cluster-clean``) drops the database, deletes the prefix's keys and the folder.

The nodes are ``salon serve`` child processes (this Python, so ``PYTHONPATH`` carries over),
each in its own session: a Ctrl-C in the terminal reaches only this process, which stops the
edge (nginx) and then the nodes, each with SIGTERM and after a grace period
SIGKILL, so nothing is left running. A lock file keeps two clusters (or a clean) from using
the same folder at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    import asyncpg

from salon.edge import Edge, EdgeError, check_free
from salon.edge.processes import Child, log_tail, spawn

DEFAULT_NODE_PORTS = (8001, 8002, 8003)
DEFAULT_DATABASE = "salon_cluster"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "salon-cluster:"
HOST = "127.0.0.1"
#: How long a node may take to answer /healthz after it is started.
NODE_START_TIMEOUT = 60.0

_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PREFIX = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class ClusterError(RuntimeError):
    """The cluster cannot start or be cleaned: said in one line (and a log's tail)."""


@dataclass(frozen=True)
class ClusterPlan:
    """What runs where, and where it keeps its state."""

    directory: Path
    database: str = DEFAULT_DATABASE
    #: The PostgreSQL server (no database name): the cluster's database is created there.
    postgres: str = DEFAULT_POSTGRES
    redis_url: str = DEFAULT_REDIS
    redis_prefix: str = DEFAULT_PREFIX
    node_ports: tuple[int, ...] = DEFAULT_NODE_PORTS
    http_port: int = 8080
    https_port: int = 8443
    cache_size: str = "256m"

    def check(self) -> None:
        if not _DATABASE_NAME.match(self.database):
            raise ClusterError(
                f"{self.database!r} is not a database name this command makes "
                "(lower-case letters, digits, underscores)"
            )
        if not _PREFIX.match(self.redis_prefix):
            raise ClusterError(
                f"{self.redis_prefix!r} is not a Redis prefix this command uses "
                "(1-64 letters, digits and _.:-)"
            )
        if not self.node_ports:
            raise ClusterError("a cluster needs at least one node port")
        ports = [*self.node_ports, self.http_port, self.https_port]
        if len(set(ports)) != len(ports):
            raise ClusterError(f"the node and edge ports must all differ: {ports}")
        if not self.postgres.startswith(("postgresql://", "postgres://")):
            raise ClusterError(f"{self.postgres!r} is not a postgresql:// server URL")

    @property
    def server(self) -> str:
        """The PostgreSQL server URL without a trailing database or slash."""
        base = self.postgres.split("://", 1)[1]
        if "/" in base:  # a database named in the URL is ignored: the cluster has its own
            base = base.split("/", 1)[0]
        return base

    @property
    def server_shown(self) -> str:
        """The server without a password, for messages."""
        userinfo, at, host = self.server.rpartition("@")
        return f"{userinfo.split(':', 1)[0]}@{host}" if at else host

    @property
    def admin_dsn(self) -> str:
        """Where the database is created and dropped from (the server's ``postgres``)."""
        return f"postgresql://{self.server}/postgres"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://{self.server}/{self.database}"

    @property
    def secret_file(self) -> Path:
        return self.directory / "secret_key"

    @property
    def recordings(self) -> Path:
        return self.directory / "recordings"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    @property
    def edge_directory(self) -> Path:
        return self.directory / "edge"

    @property
    def lock_file(self) -> Path:
        return self.directory / "cluster.lock"

    def node_directory(self, number: int) -> Path:
        return self.directory / f"node{number}"

    def node_url(self, port: int) -> str:
        return f"http://{HOST}:{port}"


@contextlib.contextmanager
def locked(plan: ClusterPlan) -> Iterator[None]:
    """Hold the cluster folder's lock (ClusterError if a running cluster holds it)."""
    plan.directory.mkdir(parents=True, exist_ok=True)
    with plan.lock_file.open("a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ClusterError(
                f"a cluster is running on {plan.directory} (stop it first)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def ensure_secret(path: Path) -> str:
    """The cluster's secret key: made once (readable by its owner only), then kept."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if not key:
        raise ClusterError(f"{path} is empty: delete it to make a new key")
    return key


def _reason(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


async def _admin(plan: ClusterPlan) -> asyncpg.Connection:
    """A connection to the server's ``postgres`` database (ClusterError if unreachable)."""
    import asyncpg

    try:
        return await asyncpg.connect(plan.admin_dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise ClusterError(
            f"cannot reach PostgreSQL at {plan.server_shown} ({_reason(exc)}); "
            "--postgres names another server"
        ) from None


async def ensure_database(plan: ClusterPlan) -> bool:
    """Create the cluster's database if it is missing; True when it was made now."""
    import asyncpg

    admin = await _admin(plan)
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", plan.database):
            return False
        try:
            await admin.execute(f'CREATE DATABASE "{plan.database}"')
        except asyncpg.DuplicateDatabaseError:
            return False
        return True
    finally:
        await admin.close()


async def migrate(plan: ClusterPlan) -> None:
    """Bring the database up to date once, before the nodes start (each node migrates on
    start too, but three at once on an empty database would race)."""
    from salon.store.db import create_engine
    from salon.store.migrate import upgrade

    engine = create_engine(plan.database_url, timeout=10, statement_timeout=None)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def check_redis(plan: ClusterPlan) -> None:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(plan.redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        raise ClusterError(
            f"cannot reach Redis at {plan.redis_url} ({_reason(exc)}); --redis names another"
        ) from None
    finally:
        await client.aclose()


def _glob_escape(text: str) -> str:
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


async def drop_keys(redis_url: str, prefix: str) -> int:
    """Delete every key under ``prefix`` (and no other); how many."""
    from redis.asyncio import Redis

    if not _PREFIX.match(prefix):
        raise ClusterError(f"{prefix!r} is not a prefix this command deletes keys under")
    client = Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=10)
    deleted = 0
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=_glob_escape(prefix) + "*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                deleted += await client.delete(*batch)
                batch.clear()
        if batch:
            deleted += await client.delete(*batch)
    finally:
        await client.aclose()
    return deleted


def node_environment(plan: ClusterPlan, number: int, port: int, secret: str) -> dict[str, str]:
    """This process's environment with the node's own settings on top."""
    return {
        **os.environ,
        "SALON_DATABASE_URL": plan.database_url,
        "SALON_REDIS_URL": plan.redis_url,
        "SALON_REDIS_PREFIX": plan.redis_prefix,
        "SALON_SECRET_KEY": secret,
        "SALON_RECORDINGS_PATH": str(plan.recordings.resolve()),
        "SALON_VAR_DIR": str(plan.node_directory(number).resolve()),
        "SALON_HOST": HOST,
        "SALON_PORT": str(port),
        "SALON_NODE_URL": plan.node_url(port),
    }


async def start_node(plan: ClusterPlan, number: int, port: int, secret: str) -> Child:
    plan.node_directory(number).mkdir(parents=True, exist_ok=True)
    return await spawn(
        f"node {number}",
        [sys.executable, "-m", "salon", "serve", "--port", str(port)],
        plan.logs / f"node{number}.log",
        env=node_environment(plan, number, port, secret),
    )


async def wait_healthy(node: Child, url: str, patience: float = NODE_START_TIMEOUT) -> None:
    """Until ``url``/healthz answers 200; ClusterError with the node's log if it exits or
    takes longer than ``patience``."""
    deadline = time.monotonic() + patience
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            if not node.running:
                raise _failed(node, f"exited with status {node.process.returncode}")
            if time.monotonic() > deadline:
                raise _failed(node, f"did not answer on {url} within {patience:g} s")
            await asyncio.sleep(0.1)


def _failed(node: Child, what: str) -> ClusterError:
    tail = log_tail(node.log)
    return ClusterError(f"{node.name} {what}" + (f":\n{tail}" if tail else f" (see {node.log})"))


@dataclass
class Cluster:
    """The running nodes and edge (for the summary and for stopping)."""

    plan: ClusterPlan
    nodes: list[Child] = field(default_factory=list)
    edge: Edge | None = None
    created_database: bool = False

    async def stop(self) -> None:
        """The edge first (so no request reaches a stopping node), then every node at once."""
        edge, self.edge = self.edge, None
        try:
            if edge is not None:
                await edge.stop()
        finally:
            await asyncio.gather(*(node.stop() for node in self.nodes), return_exceptions=True)

    async def watch(self, stop: asyncio.Event, say: Callable[[str], None]) -> None:
        """Until ``stop`` is set. A node that exits is reported and left down (the edge
        routes around it: kill one to watch that); ClusterError when nginx stops by
        itself, or when no node is left."""
        assert self.edge is not None

        async def exited(node: Child) -> Child:
            await node.process.wait()
            return node

        nodes = {asyncio.ensure_future(exited(node)) for node in self.nodes}
        edge = asyncio.ensure_future(self.edge.wait())
        stopping = asyncio.ensure_future(_wait(stop))
        try:
            while True:
                done, _ = await asyncio.wait(
                    {*nodes, edge, stopping}, return_when=asyncio.FIRST_COMPLETED
                )
                if stopping in done:
                    return
                if edge in done:
                    raise ClusterError(f"{edge.result()} stopped by itself; see {self.edge.logs}")
                for future in nodes & done:
                    nodes.discard(future)
                    node = future.result()
                    say(
                        f"[yellow]{node.name} exited (status {node.process.returncode})[/]; "
                        f"the edge sends everything to the others. Its log: {node.log}"
                    )
                if not nodes:
                    raise ClusterError(f"every node has stopped; see the logs in {self.plan.logs}")
        finally:
            for waiting in (*nodes, edge, stopping):
                waiting.cancel()


async def start_cluster(plan: ClusterPlan, cluster: Cluster, say: Callable[[str], None]) -> None:
    """Database, migrations, nodes (at once), then the edge in front; ``cluster`` holds what
    started so far, for the caller to stop whatever happens."""
    for port in (*plan.node_ports, plan.http_port, plan.https_port):
        try:
            check_free(HOST, port)
        except EdgeError as exc:
            raise ClusterError(str(exc)) from None
    secret = ensure_secret(plan.secret_file)
    plan.recordings.mkdir(parents=True, exist_ok=True)
    plan.logs.mkdir(parents=True, exist_ok=True)
    await check_redis(plan)
    cluster.created_database = await ensure_database(plan)
    say(
        ("Created" if cluster.created_database else "Using")
        + f" the database {plan.database}; migrating…"
    )
    await migrate(plan)
    say(f"Starting {len(plan.node_ports)} nodes…")
    for number, port in enumerate(plan.node_ports, start=1):
        cluster.nodes.append(await start_node(plan, number, port, secret))
    waits = [
        asyncio.ensure_future(wait_healthy(node, plan.node_url(port)))
        for node, port in zip(cluster.nodes, plan.node_ports, strict=True)
    ]
    try:
        await asyncio.gather(*waits)
    finally:
        for wait in waits:
            wait.cancel()
    say("Starting nginx…")
    from salon.config import Settings

    edge = Edge(
        origins=[f"{HOST}:{port}" for port in plan.node_ports],
        http_port=plan.http_port,
        https_port=plan.https_port,
        directory=plan.edge_directory,
        edge_secret=Settings(secret_key=secret).edge_secret(),
        cache_size=plan.cache_size,
    )
    cluster.edge = edge
    try:
        await edge.start()
    except EdgeError as exc:
        raise ClusterError(str(exc)) from None


def _shown(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def summary(cluster: Cluster) -> list[str]:
    """What runs where (lines of rich markup)."""
    plan, edge = cluster.plan, cluster.edge
    assert edge is not None
    certificate = edge.certificate.certificate if edge.certificate else "?"
    lines = [
        f"[bold]Salon[/], {len(plan.node_ports)} nodes behind the edge: open "
        f"[bold]{edge.http_url}[/] or [bold]{edge.https_url}[/] (HTTP/2, self-signed "
        f"certificate {certificate})",
    ]
    for number, (node, port) in enumerate(zip(cluster.nodes, plan.node_ports, strict=True), 1):
        lines.append(
            f"  node {number}   {plan.node_url(port)}  pid {node.process.pid}, "
            f"var {plan.node_directory(number)}, log {node.log}"
        )
    lines += [
        f"  nginx    {edge.http_url}, {edge.https_url} → every node in turn; "
        "the audio cache in its workers",
        f"  edge     configuration and logs in {plan.edge_directory}",
        f"  database {_shown(plan.database_url)} (kept between runs)",
        f"  Redis    {plan.redis_url}, keys {plan.redis_prefix}*",
        f"  shared   secret key {plan.secret_file}, recordings {plan.recordings}",
        "Ctrl-C stops everything; `make cluster-clean` forgets it all.",
    ]
    return lines


async def run_cluster(
    plan: ClusterPlan,
    *,
    say: Callable[[str], None],
    status: Callable[[str], contextlib.AbstractContextManager[object]] | None = None,
) -> str:
    """Run the cluster until SIGINT or SIGTERM (or until one of its processes exits by
    itself: ClusterError); stop everything either way. What stopped it."""
    plan.check()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        with locked(plan):
            cluster = Cluster(plan)
            try:
                started = asyncio.ensure_future(start_cluster(plan, cluster, say))
                if not await _first(started, _wait(stop)):
                    return "stopped while starting"
                for line in summary(cluster):
                    say(line)
                await cluster.watch(stop, say)
                return "stopped"
            finally:
                manager = status("Stopping the edge and the nodes…") if status else None
                with manager or contextlib.nullcontext():
                    await cluster.stop()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _first(work: asyncio.Future[None], stopped: Awaitable[None]) -> bool:
    """Wait for ``work`` unless ``stopped`` comes first (then cancel it): True if it ended."""
    stopping: asyncio.Future[None] = asyncio.ensure_future(stopped)
    try:
        done, _ = await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if work in done:
        work.result()  # its error, if any
        return True
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError, ClusterError, EdgeError):
        await work
    return False


async def _wait(event: asyncio.Event) -> None:
    await event.wait()


async def clean_cluster(plan: ClusterPlan, say: Callable[[str], None]) -> None:
    """Drop the database, delete the prefix's Redis keys and the folder (not while a cluster
    runs on it)."""
    plan.check()
    from redis.exceptions import RedisError

    if plan.directory.exists():
        with locked(plan):
            pass  # only to refuse while a cluster runs
    admin = await _admin(plan)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{plan.database}" WITH (FORCE)')
    finally:
        await admin.close()
    say(f"Dropped the database {plan.database} (if it was there).")
    try:
        deleted = await drop_keys(plan.redis_url, plan.redis_prefix)
    except (OSError, RedisError) as exc:
        raise ClusterError(f"cannot reach Redis at {plan.redis_url}: {_reason(exc)}") from None
    say(f"Deleted {deleted} Redis keys under {plan.redis_prefix}")
    shutil.rmtree(plan.directory, ignore_errors=True)
    say(f"Deleted {plan.directory}.")
