"""Starting and stopping the edge's server, nginx (with its Lua module), as a child process.

It runs in the foreground (``-g "daemon off;"``) in its own session, so a Ctrl-C in the
terminal reaches only the ``salon`` process, which stops it. Starting waits until nginx
answers an HTTP request (not merely until its port is bound: it binds before its workers
serve), and fails with the tail of its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import pwd
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

#: Where Debian puts nginx (not on an ordinary user's PATH).
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")
#: Where Debian puts nginx's dynamic modules, and Lua libraries (lua-resty-core).
_NGINX_MODULES = (Path("/usr/lib/nginx/modules"), Path("/usr/share/nginx/modules"))
_LUA_LIBRARIES = (Path("/usr/share/lua/5.1"), Path("/usr/local/share/lua/5.1"))
#: What the audio cache needs, in Debian's packages.
LUA_PACKAGES = "libnginx-mod-http-lua lua-resty-core lua-resty-lrucache"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class EdgeError(RuntimeError):
    """The edge could not start: a missing program, a bad configuration, a busy port."""


def executable(name: str, package: str) -> str:
    """The path of ``name``, or an EdgeError saying how to install it."""
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(_SBIN)
    found = shutil.which(name, path=path)
    if found is None:
        raise EdgeError(
            f"{name} is not installed: apt-get install {package} (`make edge` does it as root)"
        )
    return found


def lua_paths() -> tuple[Path, Path]:
    """The directory of nginx's Lua module (and the NDK beside it) and the one holding
    ``resty/core.lua``; an EdgeError saying how to install them when missing."""
    modules = next((d for d in _NGINX_MODULES if (d / "ngx_http_lua_module.so").is_file()), None)
    resty = next((d for d in _LUA_LIBRARIES if (d / "resty" / "core.lua").is_file()), None)
    if modules is None or resty is None:
        raise EdgeError(
            f"nginx's Lua module is not installed: apt-get install {LUA_PACKAGES} "
            "(`make edge` does it as root)"
        )
    return modules, resty


def worker_user() -> str | None:
    """The user (and group) nginx's workers run as when its master is root; None otherwise.

    nginx's built-in default, ``nobody nobody``, fails on Debian, which has no group
    ``nobody``: name nobody's own group instead (``nogroup``).
    """
    if os.geteuid() != 0:
        return None
    nobody = pwd.getpwnam("nobody")
    return f"nobody {grp.getgrgid(nobody.pw_gid).gr_name}"


def give_to_worker(path: Path) -> None:
    """Make a directory nginx's workers write (its temporary files) theirs, when root."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    path.chmod(0o700)


def log_tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:].strip()
    except OSError:
        return ""


@dataclass
class Child:
    """One running server: its process and the file its output goes to."""

    name: str
    process: asyncio.subprocess.Process
    log: Path

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def failure(self, what: str) -> EdgeError:
        tail = log_tail(self.log)
        return EdgeError(f"{self.name} {what}" + (f":\n{tail}" if tail else f" (see {self.log})"))

    async def stop(self, grace: float = STOP_TIMEOUT) -> None:
        """SIGTERM (both stop at once, closing connections), then SIGKILL after ``grace``."""
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await self.process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                # The whole session: nginx's master and its workers.
                os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()


async def spawn(name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> Child:
    """Start ``argv`` in its own session (a terminal's Ctrl-C reaches only us), its output
    to ``log`` (overwritten)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    return Child(name, process, log)


async def answers_http(host: str, port: int) -> bool:
    """True once something on host:port answers an HTTP request with a status line."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    try:
        writer.write(
            b"GET /.well-known/salon-edge-probe HTTP/1.1\r\nHost: probe\r\n"
            b"Connection: close\r\n\r\n"
        )
        await writer.drain()
        line = await reader.readline()
        return line.startswith(b"HTTP/1.")
    except OSError:
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def wait_until_serving(child: Child, host: str, port: int, patience: float) -> None:
    """Poll until ``child`` answers HTTP on host:port; fail if it exits or takes too long."""
    deadline = time.monotonic() + patience
    delay = 0.01
    while not await answers_http(host, port):
        if not child.running:
            raise child.failure(f"exited with status {child.process.returncode}")
        if time.monotonic() > deadline:
            await child.stop()
            raise child.failure(f"did not answer on {host}:{port} within {patience:g} s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)


async def _check(argv: list[str], what: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise EdgeError(f"{what}:\n{output.decode(errors='replace').strip()}")


async def start_nginx(
    *,
    config: Path,
    prefix: Path,
    error_log: Path,
    host: str,
    port: int,
    patience: float = START_TIMEOUT,
) -> Child:
    """nginx in the foreground with ``config``, once ``nginx -t`` accepts it; returns when it
    answers HTTP on host:port."""
    nginx = executable("nginx", "nginx")
    # -e: the error log before the configuration's own is open (not /var/log/nginx).
    argv = [nginx, "-p", f"{prefix}/", "-c", str(config), "-e", str(error_log)]
    await _check([*argv, "-t", "-q", "-g", "daemon off;"], "nginx refused its configuration")
    child = await spawn("nginx", [*argv, "-g", "daemon off;"], error_log)
    await wait_until_serving(child, host, port, patience)
    return child
