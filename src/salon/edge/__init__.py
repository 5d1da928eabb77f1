"""The caching edge: nginx (TLS, HTTP/2, routing, the WebSocket, the ticketed-audio credential
check, CORS) in front of Varnish (the audio cache, collapsing requests) in front of the Salon
origin: one node, or several that each answer any request. ``salon edge``, ``salon cluster``
and the edge tests start it with :class:`Edge`.

Configuration templates live in ``deploy/nginx/salon.conf`` and ``deploy/varnish/salon.vcl``;
see ``deploy/README.md``.
"""

from __future__ import annotations

import asyncio
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
    start_nginx,
    start_varnish,
    worker_user,
)
from salon.edge.render import (
    EdgeLayout,
    OriginNode,
    TemplateError,
    render_nginx,
    render_varnish,
)

__all__ = ["Edge", "EdgeError", "EdgeLayout", "OriginNode", "free_port", "parse_origins"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


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


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (the nginx one holds the edge secret)."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


class Edge:
    """nginx and Varnish in front of a Salon origin on 127.0.0.1:``origin_port``, or in front
    of several nodes (``origins``: ``HOST:PORT`` each; any node answers any request).

    ``async with Edge(...) as edge:`` renders the configuration into ``directory`` (with a
    self-signed certificate under ``directory/tls``, logs under ``directory/logs``), starts
    Varnish on ``varnish_port`` (a free one by default) and nginx on ``http_port`` (HTTP/1.1)
    and ``https_port`` (HTTP/2 and HTTP/1.1 over TLS), all on 127.0.0.1 (nginx on ``listen``
    if given, e.g. 0.0.0.0 in a container), and stops both on exit. It reports the listeners
    nginx counted to one node (the next one if that fails). Runtime state (pid file, nginx's
    temporary files, Varnish's work directory) lives in a fresh directory under the system's
    temporary directory, removed on exit, so that nginx's workers (``nobody`` when started as
    root) and Varnish's (``vcache``) can reach it whatever ``directory``'s permissions are.
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
        varnish_port: int | None = None,
        cache_size: str = "256m",
        access_log: bool = False,
        report_every: float = REPORT_EVERY_SECONDS,
        listen: str = "127.0.0.1",
    ) -> None:
        if (origin_port is None) == (not origins):
            raise EdgeError("give the edge either origin_port or origins")
        self.origins = (
            parse_origins(origins) if origins else (OriginNode("127.0.0.1", origin_port or 0),)
        )
        self.http_port = http_port
        self.https_port = https_port
        self.varnish_port = varnish_port
        # Absolute: nginx resolves relative paths against its prefix, not the working directory.
        self.directory = Path(directory).resolve()
        self._edge_secret = edge_secret
        self.cache_size = cache_size
        self.access_log = access_log
        #: Where Varnish listens, and the address this machine reaches nginx at.
        self.host = "127.0.0.1"
        #: Where nginx listens: 127.0.0.1, or e.g. 0.0.0.0 in a container.
        self.listen = listen
        self.runtime: Path | None = None
        self.certificate: CertificateFiles | None = None
        self._nginx: Child | None = None
        self._varnish: Child | None = None
        self.report_every = report_every
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
    def varnish_url(self) -> str:
        return f"http://{self.host}:{self.varnish_port}"

    @property
    def origin_port(self) -> int:
        """The first origin node's port (the only one's, for a single local origin)."""
        return self.origins[0].port

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    def layout(self, runtime: Path, certificate: CertificateFiles) -> EdgeLayout:
        assert self.varnish_port is not None
        return EdgeLayout(
            origins=self.origins,
            http_port=self.http_port,
            https_port=self.https_port,
            varnish_port=self.varnish_port,
            edge_secret=self._edge_secret,
            certificate=certificate.certificate,
            certificate_key=certificate.key,
            logs=self.logs,
            runtime=runtime,
            listen=self.listen,
            worker_user=worker_user(),
            access_log=self.access_log,
        )

    async def start(self) -> None:
        if self.varnish_port is None:
            self.varnish_port = free_port(self.host)
        check_free(self.host, self.varnish_port)
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
                nginx_conf, vcl = render_nginx(layout), render_varnish(layout)
            except TemplateError as exc:
                raise EdgeError(str(exc)) from None
            give_to_worker(layout.temp)
            config = self.directory / "nginx.conf"
            _write_private(config, nginx_conf)
            # varnishd reads its VCL as its own user (``varnish``, when started as root): it
            # holds no secret, and lives where that user can reach it. A copy to read beside
            # nginx.conf.
            vcl_path = self.runtime / "salon.vcl"
            vcl_path.write_text(vcl)
            vcl_path.chmod(0o644)
            (self.directory / "salon.vcl").write_text(vcl)
            self._varnish = await start_varnish(
                vcl=vcl_path,
                workdir=self.runtime / "varnish",
                log=self.logs / "varnishd.log",
                host=self.host,
                port=self.varnish_port,
                storage=f"malloc,{self.cache_size}",
            )
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
        """Stop nginx, then Varnish; remove the runtime directory. Safe to call twice."""
        nginx, self._nginx = self._nginx, None
        varnish, self._varnish = self._varnish, None
        reporter, self.reporter = self.reporter, None
        if reporter is not None:
            await reporter.stop()
        try:
            if nginx is not None:
                await nginx.stop()
        finally:
            if varnish is not None:
                await varnish.stop()
            if self.runtime is not None:
                shutil.rmtree(self.runtime, ignore_errors=True)
                self.runtime = None

    async def wait(self) -> str:
        """Wait until nginx or Varnish exits by itself; return which one (for a message)."""
        children = [c for c in (self._nginx, self._varnish) if c is not None]
        if not children:
            raise EdgeError("the edge is not running")
        waits = {asyncio.ensure_future(c.process.wait()): c.name for c in children}
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in waits:
                future.cancel()
        return waits[done.pop()]

    @property
    def running(self) -> bool:
        return all(c is not None and c.running for c in (self._nginx, self._varnish))

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
