"""Rendering the edge's configuration: ``deploy/nginx/salon.conf`` with the origin nodes, ports,
paths, the audio cache's size and the edge secret filled in.

Pure: text in, text out. The templates mark each value as ``{{ name }}``; rendering refuses a
template that names a value it was not given, and a value that would change the meaning of
the file around it (a quote, a ``$``, a brace, a semicolon or white space). The list that
depends on how many origin nodes there are (nginx's ``server`` lines) is written here, from
values checked the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: The repository's deploy/ directory (src/salon/edge/render.py → the repository root).
DEPLOY_DIR = Path(__file__).resolve().parents[3] / "deploy"
NGINX_TEMPLATE = DEPLOY_DIR / "nginx" / "salon.conf"
#: The audio cache (``salon_audio.lua``) lives beside the template.
LUA_DIR = NGINX_TEMPLATE.parent

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
#: What a value may hold: no quote, $, brace, semicolon, backslash or white space.
_SAFE = re.compile(r'^[^\s"\'$;{}\\#]+$')
#: The edge secret sits inside nginx's secure_link_md5 string.
_SECRET = re.compile(r"^[A-Za-z0-9._~+/=-]{16,256}$")


#: A host name or IPv4 address; an IPv6 address goes in brackets (``[::1]:8000``).
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])$")

#: nginx: a node that fails once (refused, reset, timed out) is skipped for this long, then
#: tried again with one request (nginx passes a request it could not deliver to the next).
UPSTREAM_MAX_FAILS = 1
UPSTREAM_FAIL_TIMEOUT = "5s"

#: The sizes ``--cache-size`` takes: bytes, or a number with k, m or g.
_SIZE = re.compile(r"^([0-9]{1,12})([kKmMgG]?)$")


def parse_size(text: str) -> int:
    """``256m`` → 268435456; TemplateError for anything else."""
    match = _SIZE.match(text.strip())
    if not match:
        raise TemplateError(f"{text!r} is not a size (bytes, or a number with k, m or g)")
    number, unit = int(match.group(1)), match.group(2).lower()
    return number * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


class TemplateError(ValueError):
    """A template names an unknown value, or a value is unsafe to put in it."""


@dataclass(frozen=True, slots=True)
class OriginNode:
    """One Salon node the edge sends requests to: ``host:port``."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str, default_host: str = "127.0.0.1") -> OriginNode:
        """``HOST:PORT``, ``[IPV6]:PORT`` or a bare ``PORT`` (on ``default_host``)."""
        text = text.strip()
        host, colon, port = text.rpartition(":")
        if not colon:
            host, port = default_host, text
        if not port.isdigit():
            raise TemplateError(f"{text!r} is not HOST:PORT")
        node = cls(host, int(port))
        node.check()
        return node

    def check(self) -> None:
        if not _HOST.match(self.host):
            raise TemplateError(f"{self.host!r} is not a host name or address")
        if not 1 <= self.port <= 65535:
            raise TemplateError(f"{self.port} is not a TCP port")

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self}"


def fill(template: str, values: dict[str, str]) -> str:
    """Replace every ``{{ name }}`` in ``template`` with ``values[name]``."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"the template names {{{{ {name} }}}}, which has no value")
        return values[name]

    return _PLACEHOLDER.sub(value, template)


@dataclass(frozen=True, slots=True)
class EdgeLayout:
    """Where the edge listens, what it proxies to, and where its files are."""

    #: The Salon nodes, every one able to answer any request (one for a single origin).
    origins: tuple[OriginNode, ...]
    http_port: int
    https_port: int
    edge_secret: str
    certificate: Path
    certificate_key: Path
    #: Logs (nginx's error log, optionally its access log).
    logs: Path
    #: Runtime state: nginx's pid file and temporary directories (writable by its workers).
    runtime: Path
    listen: str = "127.0.0.1"
    #: Where Debian's nginx Lua module (and the NDK it needs) and lua-resty-core live.
    lua_modules: Path = Path("/usr/lib/nginx/modules")
    resty_dir: Path = Path("/usr/share/lua/5.1")
    #: The audio cache's memory, shared out among nginx's workers.
    audio_cache_bytes: int = 256 * 1024**2
    #: Each origin node's IP address and port, as the audio cache connects to it (nginx's Lua
    #: resolves no names): ``10.0.0.2:8000``, ``[::1]:8003``. Empty: the nodes as given.
    origin_addresses: tuple[str, ...] = ()
    #: ``user nobody nogroup;`` when the master runs as root; empty otherwise.
    worker_user: str | None = None
    workers: str = "auto"
    access_log: bool = False

    @property
    def temp(self) -> Path:
        return self.runtime / "nginx-temp"

    @property
    def listeners_log(self) -> Path:
        """One line per counted audio request (the space's id), read by ``edge/listeners.py``."""
        return self.runtime / "listeners.log"

    def check(self) -> None:
        if not self.origins:
            raise TemplateError("the edge needs at least one origin")
        for origin in self.origins:
            origin.check()
        if len(set(self.origins)) != len(self.origins):
            raise TemplateError("an origin is named twice")
        for port in (self.http_port, self.https_port):
            if not 1 <= port <= 65535:
                raise TemplateError(f"{port} is not a TCP port")
        own = {self.http_port, self.https_port}
        if len(own) != 2:
            raise TemplateError("the HTTP and HTTPS ports must differ")
        if self.origin_addresses and len(self.origin_addresses) != len(self.origins):
            raise TemplateError("each origin node needs one address")
        if not 1024**2 <= self.audio_cache_bytes <= 1024**4:
            raise TemplateError("the audio cache's size must be between 1m and 1024g")
        local = {self.listen, "127.0.0.1", "localhost"}
        for origin in self.origins:
            if origin.host in local and origin.port in own:
                raise TemplateError(
                    f"the origin {origin} is on a port the edge listens on; ports must all differ"
                )
        if not _SECRET.match(self.edge_secret):
            raise TemplateError(
                "the edge secret must be 16-256 characters of letters, digits and ._~+/=-"
            )


def _safe(name: str, value: object) -> str:
    text = str(value)
    if not _SAFE.match(text):
        raise TemplateError(f"{name} = {text!r} cannot go into the edge configuration")
    return text


def nginx_values(layout: EdgeLayout) -> dict[str, str]:
    layout.check()
    values = {
        "http_port": layout.http_port,
        "https_port": layout.https_port,
        "listen": layout.listen,
        "lua_modules": layout.lua_modules,
        "lua_dir": LUA_DIR,
        "resty_dir": layout.resty_dir,
        "audio_cache_bytes": layout.audio_cache_bytes,
        "certificate": layout.certificate,
        "certificate_key": layout.certificate_key,
        "logs": layout.logs,
        "runtime": layout.runtime,
        "temp": layout.temp,
        "workers": layout.workers,
        "access_log": layout.logs / "nginx-access.log" if layout.access_log else "off",
        "listeners_log": layout.listeners_log,
    }
    rendered = {name: _safe(name, value) for name, value in values.items()}
    rendered["edge_secret"] = layout.edge_secret  # checked by layout.check()
    addresses = layout.origin_addresses or tuple(str(o) for o in layout.origins)
    rendered["audio_origins"] = ", ".join(
        f'"{_safe("origin address", address)}"' for address in addresses
    )
    # Audio locations log to the listener count as well, so the general access log (if on)
    # is named there again: `access_log off` would cancel the count's log at that level.
    rendered["audio_access_log"] = (
        f"access_log {rendered['access_log']};" if layout.access_log else ""
    )
    several = len(layout.origins) > 1
    # Listed in the header comment too, so the rendered file says where it sends requests.
    rendered["origin"] = " ".join(str(o) for o in layout.origins)
    rendered["origin_servers"] = "\n        ".join(
        f"server {o} max_fails={UPSTREAM_MAX_FAILS} fail_timeout={UPSTREAM_FAIL_TIMEOUT};"
        if several
        else f"server {o};"
        for o in layout.origins
    )
    user = layout.worker_user
    if user:
        rendered["user"] = "user " + " ".join(_safe("worker_user", w) for w in user.split()) + ";"
    else:
        rendered["user"] = ""
    return rendered


def render_nginx(layout: EdgeLayout, template: str | None = None) -> str:
    """nginx's configuration for ``layout`` (from ``deploy/nginx/salon.conf`` by default)."""
    text = NGINX_TEMPLATE.read_text() if template is None else template
    return fill(text, nginx_values(layout))
