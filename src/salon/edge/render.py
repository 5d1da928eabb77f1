"""Rendering the edge's configuration: ``deploy/nginx/salon.conf`` and
``deploy/varnish/salon.vcl`` with the ports, paths and the edge secret filled in.

Pure: text in, text out. The templates mark each value as ``{{ name }}``; rendering refuses a
template that names a value it was not given, and a value that would change the meaning of
the file around it (a quote, a ``$``, a brace, a semicolon or white space).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: The repository's deploy/ directory (src/salon/edge/render.py → the repository root).
DEPLOY_DIR = Path(__file__).resolve().parents[3] / "deploy"
NGINX_TEMPLATE = DEPLOY_DIR / "nginx" / "salon.conf"
VARNISH_TEMPLATE = DEPLOY_DIR / "varnish" / "salon.vcl"

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
#: What a value may hold: no quote, $, brace, semicolon, backslash or white space.
_SAFE = re.compile(r'^[^\s"\'$;{}\\#]+$')
#: The edge secret sits inside nginx's secure_link_md5 string.
_SECRET = re.compile(r"^[A-Za-z0-9._~+/=-]{16,256}$")


class TemplateError(ValueError):
    """A template names an unknown value, or a value is unsafe to put in it."""


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

    origin_port: int
    http_port: int
    https_port: int
    varnish_port: int
    edge_secret: str
    certificate: Path
    certificate_key: Path
    #: Logs (nginx's error log, optionally its access log).
    logs: Path
    #: Runtime state: nginx's pid file and temporary directories (writable by its workers).
    runtime: Path
    listen: str = "127.0.0.1"
    origin_host: str = "127.0.0.1"
    varnish_host: str = "127.0.0.1"
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
        for port in (self.origin_port, self.http_port, self.https_port, self.varnish_port):
            if not 1 <= port <= 65535:
                raise TemplateError(f"{port} is not a TCP port")
        if len({self.http_port, self.https_port, self.varnish_port, self.origin_port}) != 4:
            raise TemplateError("the origin, Varnish, HTTP and HTTPS ports must all differ")
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
        "origin": f"{layout.origin_host}:{layout.origin_port}",
        "varnish": f"{layout.varnish_host}:{layout.varnish_port}",
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
    # Audio locations log to the listener count as well, so the general access log (if on)
    # is named there again: `access_log off` would cancel the count's log at that level.
    rendered["audio_access_log"] = (
        f"access_log {rendered['access_log']};" if layout.access_log else ""
    )
    user = layout.worker_user
    if user:
        rendered["user"] = "user " + " ".join(_safe("worker_user", w) for w in user.split()) + ";"
    else:
        rendered["user"] = ""
    return rendered


def varnish_values(layout: EdgeLayout) -> dict[str, str]:
    layout.check()
    return {
        "origin_host": _safe("origin_host", layout.origin_host),
        "origin_port": _safe("origin_port", layout.origin_port),
    }


def render_nginx(layout: EdgeLayout, template: str | None = None) -> str:
    """nginx's configuration for ``layout`` (from ``deploy/nginx/salon.conf`` by default)."""
    text = NGINX_TEMPLATE.read_text() if template is None else template
    return fill(text, nginx_values(layout))


def render_varnish(layout: EdgeLayout, template: str | None = None) -> str:
    """Varnish's VCL for ``layout`` (from ``deploy/varnish/salon.vcl`` by default)."""
    text = VARNISH_TEMPLATE.read_text() if template is None else template
    return fill(text, varnish_values(layout))
