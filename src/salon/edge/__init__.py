"""The caching edge: nginx (TLS, HTTP/2, routing, the WebSocket, the ticketed-audio credential
check, CORS, and the audio cache collapsing requests, in Lua) in front of the Salon origin:
one node, or several that each answer any request. ``salon edge``, ``salon cluster`` and the
edge tests start it with :class:`Edge`.

The configuration template is ``deploy/nginx/salon.conf``, with the audio cache beside it in
``deploy/nginx/salon_audio.lua``; see ``deploy/README.md``.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from salon.edge.certificate import CertificateFiles, ensure_certificate
from salon.edge.listeners import REPORT_EVERY_SECONDS, ListenerReporter
from salon.edge.processes import (
    Child,
    EdgeError,
    give_to_worker,
    lua_paths,
    start_nginx,
    worker_user,
)
from salon.edge.render import (
    EdgeLayout,
    OriginNode,
    TemplateError,
    parse_size,
    render_nginx,
)

__all__ = [
    "Edge",
    "EdgeError",
    "EdgeLayout",
    "OriginNode",
    "free_port",
    "free_ports",
    "parse_origins",
]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel's pick)."""
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` different TCP ports nothing listens on right now: each socket is held until
    all are picked (one at a time, the kernel may hand the same port out twice)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def check_free(host: str, port: int) -> None:
    """EdgeError unless host:port can be listened on (else a server already there would
    answer our readiness probe in place of the one we start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise EdgeError(f"{host}:{port} is in use ({exc.strerror})") from None


def parse_origins(origins: Sequence[str | OriginNode]) -> tuple[OriginNode, ...]:
    """``HOST:PORT`` (or bare ``PORT``, on 127.0.0.1) strings as origin nodes; EdgeError if
    one is malformed."""
    try:
        return tuple(o if isinstance(o, OriginNode) else OriginNode.parse(o) for o in origins)
    except TemplateError as exc:
        raise EdgeError(str(exc)) from None


def _address(node: OriginNode) -> str:
    """``IP:PORT`` for ``node`` (its name resolved now, as nginx resolves its upstream's at
    start), as the audio cache connects to it."""
    host = node.host.strip("[]")
    try:
        found = socket.getaddrinfo(host, node.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise EdgeError(f"cannot resolve the origin node {node}: {exc}") from None
    family, _, _, _, address = found[0]
    ip = str(address[0])
    return f"[{ip}]:{node.port}" if family == socket.AF_INET6 else f"{ip}:{node.port}"


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (the nginx one holds the edge secret)."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


class Edge:
    """nginx in front of a Salon origin on 127.0.0.1:``origin_port``, or in front of several
    nodes (``origins``: ``HOST:PORT`` each; any node answers any request).

    ``async with Edge(...) as edge:`` renders the configuration into ``directory`` (with a
    self-signed certificate under ``directory/tls``, logs under ``directory/logs``), starts
    nginx on ``http_port`` (HTTP/1.1) and ``https_port`` (HTTP/2 and HTTP/1.1 over TLS) on
    127.0.0.1 (on ``listen`` if given, e.g. 0.0.0.0 in a container), its workers holding the
    audio cache (``cache_size`` among them), and stops it on exit. It reports the listeners
    nginx counted to one node (the next one if that fails). Runtime state (pid file, nginx's
    temporary files) lives in a fresh directory under the system's temporary directory,
    removed on exit, so that nginx's workers (``nobody`` when started as root) can reach it
    whatever ``directory``'s permissions are.
    """

    def __init__(
        self,
        *,
        origin_port: int | None = None,
        origins: Sequence[str | OriginNode] = (),
        http_port: int = 8080,
        https_port: int = 8443,
        directory: Path,
        edge_secret: str,
        cache_size: str = "256m",
        access_log: bool = False,
        report_every: float = REPORT_EVERY_SECONDS,
        listen: str = "127.0.0.1",
        workers: int | None = None,
    ) -> None:
        if (origin_port is None) == (not origins):
            raise EdgeError("give the edge either origin_port or origins")
        if workers is not None and workers < 1:
            raise EdgeError("the edge needs at least one nginx worker")
        self.origins = (
            parse_origins(origins) if origins else (OriginNode("127.0.0.1", origin_port or 0),)
        )
        self.http_port = http_port
        self.https_port = https_port
        # Absolute: nginx resolves relative paths against its prefix, not the working directory.
        self.directory = Path(directory).resolve()
        self._edge_secret = edge_secret
        self.cache_size = cache_size
        self.access_log = access_log
        #: The address this machine reaches nginx at when it listens on every interface.
        self.host = "127.0.0.1"
        #: Where nginx listens: 127.0.0.1, or e.g. 0.0.0.0 in a container.
        self.listen = listen
        self.runtime: Path | None = None
        self.certificate: CertificateFiles | None = None
        self._nginx: Child | None = None
        self.report_every = report_every
        #: nginx's worker processes: one per core when None (``worker_processes auto``).
        self.workers = workers
        self.reporter: ListenerReporter | None = None

    @property
    def nginx_host(self) -> str:
        """Where this machine reaches nginx: its listen address, 127.0.0.1 for a wildcard."""
        return self.host if self.listen in ("0.0.0.0", "[::]") else self.listen

    @property
    def http_url(self) -> str:
        return f"http://{self.nginx_host}:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://{self.nginx_host}:{self.https_port}"

    @property
    def origin_port(self) -> int:
        """The first origin node's port (the only one's, for a single local origin)."""
        return self.origins[0].port

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    def layout(self, runtime: Path, certificate: CertificateFiles) -> EdgeLayout:
        modules, resty = lua_paths()
        try:
            cache_bytes = parse_size(self.cache_size)
        except TemplateError as exc:
            raise EdgeError(str(exc)) from None
        return EdgeLayout(
            origins=self.origins,
            http_port=self.http_port,
            https_port=self.https_port,
            origin_addresses=tuple(_address(origin) for origin in self.origins),
            lua_modules=modules,
            resty_dir=resty,
            audio_cache_bytes=cache_bytes,
            edge_secret=self._edge_secret,
            certificate=certificate.certificate,
            certificate_key=certificate.key,
            logs=self.logs,
            runtime=runtime,
            listen=self.listen,
            worker_user=worker_user(),
            access_log=self.access_log,
            workers="auto" if self.workers is None else str(self.workers),
        )

    async def start(self) -> None:
        for port in (self.http_port, self.https_port):
            check_free(self.listen, port)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        self.certificate = ensure_certificate(self.directory / "tls")
        self.runtime = Path(tempfile.mkdtemp(prefix="salon-edge-"))
        try:
            self.runtime.chmod(0o755)
            layout = self.layout(self.runtime, self.certificate)
            try:
                nginx_conf = render_nginx(layout)
            except TemplateError as exc:
                raise EdgeError(str(exc)) from None
            give_to_worker(layout.temp)
            config = self.directory / "nginx.conf"
            _write_private(config, nginx_conf)
            self._nginx = await start_nginx(
                config=config,
                prefix=self.runtime,
                error_log=self.logs / "nginx-error.log",
                host=self.nginx_host,
                port=self.http_port,
            )
            self.reporter = ListenerReporter(
                path=layout.listeners_log,
                origins=[origin.url for origin in self.origins],
                edge_secret=self._edge_secret,
                name=f"{self.nginx_host}:{self.http_port}",
                interval=self.report_every,
            )
            self.reporter.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop nginx; remove the runtime directory. Safe to call twice."""
        nginx, self._nginx = self._nginx, None
        reporter, self.reporter = self.reporter, None
        if reporter is not None:
            await reporter.stop()
        try:
            if nginx is not None:
                await nginx.stop()
        finally:
            if self.runtime is not None:
                shutil.rmtree(self.runtime, ignore_errors=True)
                self.runtime = None

    async def wait(self) -> str:
        """Wait until nginx exits by itself; return its name (for a message)."""
        nginx = self._nginx
        if nginx is None:
            raise EdgeError("the edge is not running")
        await nginx.process.wait()
        return nginx.name

    @property
    def running(self) -> bool:
        return self._nginx is not None and self._nginx.running

    async def __aenter__(self) -> Edge:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
