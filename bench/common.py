"""What the benchmarks share: servers (in-process or a ``salon serve`` child), accounts and a
stage built through the real API, timed bots, an LL-HLS follower, /proc meters, and output.

Every server here listens on 127.0.0.1 only, on SQLite in a temporary directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import av
import httpx
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from rich.console import Console
from rich.table import Table
from tests.harness import FAST_HASHING, OffsetClock, Server

from salon.bots.playlist import Part, Playlist
from salon.bots.speaker import WhipSpeaker
from salon.config import Settings
from salon.media.mixer import downmix_to_mono
from salon.media.pcm import SAMPLE_RATE, Pcm

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: Wide enough for the tables when the output is piped to a file.
console = Console() if sys.stdout.isatty() else Console(width=130)


# ---------------------------------------------------------------- figures and output


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


def summary_ms(values: Sequence[float]) -> dict[str, float | int]:
    """n, median, p95, p99, min, max and mean of durations given in seconds, in milliseconds."""
    if not values:
        return {"n": 0}
    ms = np.asarray(values, dtype=np.float64) * 1000
    return {
        "n": len(values),
        "median_ms": round(float(np.median(ms)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "min_ms": round(float(ms.min()), 1),
        "max_ms": round(float(ms.max()), 1),
        "mean_ms": round(float(ms.mean()), 1),
    }


def fmt_ms(summary: dict[str, Any], key: str) -> str:
    value = summary.get(key)
    return "—" if value is None else f"{value:.1f}"


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "load_avg_1m_at_start": round(load[0], 2),
    }


def command_line() -> str:
    module = Path(sys.argv[0]).stem
    return " ".join([".venv/bin/python -m", f"bench.{module}", *sys.argv[1:]])


def save(name: str, data: dict[str, Any], *, host: dict[str, Any]) -> Path:
    """Write bench/results/<name>.json (small, stable key order) and return its path."""
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


def show(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    table = Table(title=title, title_justify="left")
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    console.print(table)


# ---------------------------------------------------------------- /proc meters


_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def process_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def process_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


@dataclass
class CpuMeter:
    """CPU use of one process between ``start()`` and ``stop()``, as % of one core."""

    pid: int
    _wall: float = 0.0
    _cpu: float = 0.0
    percent: float = float("nan")
    seconds: float = 0.0

    def start(self) -> None:
        self._wall, self._cpu = time.monotonic(), process_cpu_seconds(self.pid)

    def stop(self) -> float:
        wall = time.monotonic() - self._wall
        self.seconds = process_cpu_seconds(self.pid) - self._cpu
        self.percent = 100 * self.seconds / wall if wall > 0 else float("nan")
        return self.percent


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def in_process_server() -> AsyncIterator[Server]:
    """The tests' server (uvicorn in a thread of this process) on SQLite in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="salon-bench-") as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/salon.db",
            var_dir=Path(tmp) / "var",
            host_min_followers=0,
            log_level="WARNING",
            **FAST_HASHING,
        )
        async with Server(settings, OffsetClock()) as server:
            yield server


class ChildProcess:
    """A server run as a child process, so its CPU and memory can be read on their own."""

    #: What it is called in errors ("salon serve", "janus").
    name = "a child process"

    def __init__(self, log_path: Path) -> None:
        self._log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def _start(
        self, argv: list[str], *, cwd: Path, ready_url: str, env: dict[str, str] | None = None
    ) -> None:
        """Start ``argv``, then wait (30 s at most) until ``ready_url`` answers 200."""
        with self._log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(300):
                if self.process.returncode is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(ready_url)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        tail = self.log_tail()
        await self.stop()
        raise RuntimeError(f"{self.name} did not come up:\n{tail}")

    async def stop(self) -> None:
        """SIGINT (a graceful shutdown), then SIGKILL after 10 s; this child only."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(10):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def log_tail(self, chars: int = 2000) -> str:
        return self._log_path.read_text(errors="replace")[-chars:]


class ServerProcess(ChildProcess):
    """``salon serve`` as a child process (SQLite in ``tmp``, loopback, a free port)."""

    name = "salon serve"

    def __init__(self, tmp: Path, *, secret_key: str = "", env: dict[str, str] | None = None):
        super().__init__(tmp / "server.log")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret_key = secret_key or secrets.token_urlsafe(32)
        self._env = {
            **os.environ,
            "SALON_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/salon.db",
            "SALON_VAR_DIR": str(tmp / "var"),
            "SALON_HOST": "127.0.0.1",
            "SALON_PORT": str(self.port),
            "SALON_HOST_MIN_FOLLOWERS": "0",
            "SALON_ARGON2_TIME_COST": str(FAST_HASHING["argon2_time_cost"]),
            "SALON_ARGON2_MEMORY_KIB": str(FAST_HASHING["argon2_memory_kib"]),
            "SALON_LOG_LEVEL": "WARNING",
            "SALON_SECRET_KEY": self.secret_key,
            **(env or {}),
        }
        self._cwd = tmp  # so no stray .env is read

    async def start(self) -> None:
        argv = [sys.executable, "-m", "salon", "serve", "--host", "127.0.0.1"]
        await self._start(argv, cwd=self._cwd, env=self._env, ready_url=f"{self.url}/healthz")


@asynccontextmanager
async def server_process(env: dict[str, str] | None = None) -> AsyncIterator[ServerProcess]:
    with tempfile.TemporaryDirectory(prefix="salon-bench-") as tmp:
        server = ServerProcess(Path(tmp), env=env)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()


# ---------------------------------------------------------------- accounts and a stage


@dataclass
class Account:
    http: httpx.AsyncClient
    id: int
    handle: str

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return None if response.status_code == 204 else response.json()

    async def bot_token(self) -> str:
        return str((await self.ok("POST", "/api/me/tokens", json={"name": "bench"}))["token"])


async def register(base_url: str) -> Account:
    handle = f"b{secrets.token_hex(6)}"
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    response = await client.post(
        "/api/accounts",
        json={"handle": handle, "display_name": handle, "password": "bench-pass-123"},
    )
    if response.status_code != 201:
        await client.aclose()
        raise RuntimeError(f"registration failed: {response.status_code} {response.text}")
    me = response.json()
    return Account(client, int(me["id"]), handle)


@dataclass
class Stage:
    """A live space and its stage members (host first), each with a bot token."""

    base_url: str
    space_id: str
    members: list[Account]
    tokens: list[str]

    @property
    def host(self) -> Account:
        return self.members[0]

    async def end(self) -> None:
        with contextlib.suppress(RuntimeError, httpx.HTTPError):
            await self.host.ok("POST", f"/api/spaces/{self.space_id}/end")

    async def close(self) -> None:
        for member in self.members:
            await member.http.aclose()


MAX_STAGE = 13  # 1 host, 2 co-hosts, 10 speakers


async def build_stage(base_url: str, size: int, *, title: str = "Bench") -> Stage:
    """Host a live space and seat ``size - 1`` more people: speakers first, then co-hosts."""
    if not 1 <= size <= MAX_STAGE:
        raise ValueError(f"a stage holds 1 to {MAX_STAGE} people, not {size}")
    host = await register(base_url)
    space = await host.ok("POST", "/api/spaces", json={"title": title})
    sid = str(space["id"])
    members = [host]
    for seat in range(1, size):
        person = await register(base_url)
        await person.ok("POST", f"/api/spaces/{sid}/join")
        if seat <= 10:
            await person.ok("POST", f"/api/spaces/{sid}/hand")
            await host.ok("POST", f"/api/spaces/{sid}/participants/{person.id}/approve")
        else:
            await host.ok("PUT", f"/api/spaces/{sid}/cohosts/{person.id}")
        members.append(person)
    for member in members:
        await member.ok("POST", f"/api/spaces/{sid}/participants/{member.id}/unmute")
    tokens = [await member.bot_token() for member in members]
    return Stage(base_url, sid, members, tokens)


# ---------------------------------------------------------------- bots


TimedChunks = list[tuple[float, Pcm]]


class TimedSpeaker(WhipSpeaker):
    """A stage bot that notes the wall-clock time (``time.time()``) each frame arrives.

    With ``keep=False`` it only counts frames, so a dozen of them stay cheap.
    """

    def __init__(self, *args: Any, keep: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keep = keep
        self.received: TimedChunks = []
        self.frames = 0

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                arrived = time.time()
                if not isinstance(frame, av.AudioFrame):
                    continue
                self.frames += 1
                if self.keep:
                    channels = len(frame.layout.channels)
                    self.received.append((arrived, downmix_to_mono(frame.to_ndarray(), channels)))
        self.closed.set()


# ---------------------------------------------------------------- LL-HLS


@dataclass
class FetchedPart:
    msn: int
    index: int
    data: bytes
    #: time.time() when the part's bytes were in.
    arrived: float
    #: When the part became complete by the playlist: PROGRAM-DATE-TIME + offset + duration.
    completed: float | None


_DURATION = re.compile(r"DURATION=([0-9.]+)")
_URI = re.compile(r'URI="([^"]*)"')


def parse_playlist(text: str) -> Playlist:
    """``salon.bots.listener.Playlist.parse``, made cheap enough for thousands of clients:
    regular expressions for attributes, date-times parsed only for segments with parts."""
    if not text.startswith("#EXTM3U"):
        raise ValueError("not an HLS playlist")
    msn = index = 0
    map_uri = ""
    parts: list[Part] = []
    dates: dict[int, str] = {}
    ended = False
    for line in text.split("\n"):
        if not line:
            continue
        if line[0] != "#":
            msn, index = msn + 1, 0
        elif line.startswith("#EXT-X-PART:"):
            uri, duration = _URI.search(line), _DURATION.search(line)
            if uri is None or duration is None:
                raise ValueError(f"a part without URI or DURATION: {line}")
            parts.append(Part(msn, index, uri[1], float(duration[1])))
            index += 1
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            dates[msn] = line.split(":", 1)[1]
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            msn = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-MAP:"):
            found = _URI.search(line)
            map_uri = found[1] if found else ""
        elif line.startswith("#EXT-X-ENDLIST"):
            ended = True
    with_parts = {part.msn for part in parts}
    starts = {
        m: datetime.fromisoformat(value.replace("Z", "+00:00"))
        for m, value in dates.items()
        if m in with_parts
    }
    return Playlist(msn, map_uri, parts, ended, starts)


def part_hold_back(playlist_text: str) -> float | None:
    for line in playlist_text.splitlines():
        if line.startswith("#EXT-X-SERVER-CONTROL:"):
            for attribute in line.split(":", 1)[1].split(","):
                key, _, value = attribute.partition("=")
                if key == "PART-HOLD-BACK":
                    return float(value)
    return None


def completion_times(playlist: Playlist) -> dict[tuple[int, int], float]:
    """When each listed part became complete, by (msn, index), from the program date-times."""
    times: dict[tuple[int, int], float] = {}
    offsets: dict[int, float] = {}
    for part in playlist.parts:
        start = playlist.starts.get(part.msn)
        offset = offsets.get(part.msn, 0.0)
        if start is not None:
            times[(part.msn, part.index)] = start.timestamp() + offset + part.duration
        offsets[part.msn] = offset + part.duration
    return times


class Getter(Protocol):
    async def get(self, url: str) -> Any: ...


@dataclass
class RawResponse:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class RawHttpClient:
    """One keep-alive HTTP/1.1 connection, GET only: a player's requests without a client
    library's per-request overhead (for load generation, where the client must stay cheaper
    than the server it measures). Expects Content-Length bodies, as uvicorn sends them."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        parsed = urlsplit(base_url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, url: str) -> RawResponse:
        parsed = urlsplit(url)
        target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        request = f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        async with asyncio.timeout(self.timeout):
            for attempt in range(2):
                reused = self._writer is not None
                try:
                    return await self._exchange(request)
                except (ConnectionError, asyncio.IncompleteReadError):
                    await self.aclose()
                    if attempt or not reused:  # a fresh connection failed: give up
                        raise
                except BaseException:
                    await self.aclose()
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, request: bytes) -> RawResponse:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length: int | None = None
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        if length is None:
            raise ValueError("a response without Content-Length")
        body = await self._reader.readexactly(length)
        if close:
            await self.aclose()
        return RawResponse(status, body)

    async def aclose(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@dataclass
class HlsFollower:
    """Follows one live playlist like a low-latency player: blocking reload for the next
    part, then fetch every new part. Counts requests and errors; recovers from errors by
    starting again from a plain playlist fetch. Stops by itself at ``until`` (monotonic)."""

    client: Getter  # an httpx.AsyncClient or a RawHttpClient
    playlist_url: str  # absolute (with its credential, in a ticketed space)
    on_part: Callable[[FetchedPart], None] | None = None
    fetch_init: bool = True
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    init: bytes = b""
    hold_back: float | None = None

    def _error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    async def _get(self, url: str) -> Any:
        self.requests += 1
        response = await self.client.get(url)
        if response.status_code != 200:
            raise _HttpStatus(response.status_code)
        return response

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            try:
                await self._follow(until)
                return
            except _HttpStatus as exc:
                self._error(f"http {exc.status}")
            except (httpx.TimeoutException, TimeoutError):
                self._error("timeout")
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                self._error(type(exc).__name__)
            await asyncio.sleep(0.25)

    async def _follow(self, until: float) -> None:
        text = (await self._get(self.playlist_url)).text
        playlist = parse_playlist(text)
        self.hold_back = part_hold_back(text)
        if self.fetch_init and not self.init:
            self.init = (await self._get(urljoin(self.playlist_url, playlist.map_uri))).content
        last = playlist.parts[-1] if playlist.parts else None
        want = (last.msn, last.index + 1) if last else (playlist.media_sequence, 0)
        while time.monotonic() < until:
            sep = "&" if "?" in self.playlist_url else "?"
            url = f"{self.playlist_url}{sep}_HLS_msn={want[0]}&_HLS_part={want[1]}"
            playlist = parse_playlist((await self._get(url)).text)
            fresh = [p for p in playlist.parts if (p.msn, p.index) >= want]
            if not fresh:
                if playlist.ended:
                    return
                want = (want[0] + 1, 0)  # asked past a segment's last part
                continue
            completed = completion_times(playlist)
            for part in fresh:
                data = (await self._get(urljoin(self.playlist_url, part.uri))).content
                arrived = time.time()
                if self.on_part is not None:
                    self.on_part(
                        FetchedPart(
                            part.msn,
                            part.index,
                            data,
                            arrived,
                            completed.get((part.msn, part.index)),
                        )
                    )
                want = (part.msn, part.index + 1)


class _HttpStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


async def listener_url(base_url: str, space_id: str) -> str:
    """A free space's absolute playlist URL, as an anonymous listener gets it."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        response = await client.get(f"/api/spaces/{space_id}/listen")
        response.raise_for_status()
        return urljoin(base_url + "/", response.json()["playlist_url"])


# ---------------------------------------------------------------- signal helpers


Int16s = npt.NDArray[np.int16]


def joined(chunks: TimedChunks) -> tuple[Int16s, npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Concatenated audio, each chunk's first sample index, and each chunk's time."""
    if not chunks:
        return np.zeros(0, np.int16), np.zeros(0, np.int64), np.zeros(0, np.float64)
    audio = np.concatenate([pcm for _, pcm in chunks])
    lengths = np.array([len(pcm) for _, pcm in chunks], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    times = np.array([t for t, _ in chunks], dtype=np.float64)
    return audio, starts, times


def tone_level(audio: Int16s, frequency: float, window: int = 480) -> npt.NDArray[np.float64]:
    """The level (of full scale) of one frequency, sample by sample: the audio shifted down by
    ``frequency`` and averaged over a centred window (10 ms: a tone 100 Hz or more away is
    ~40 dB down), so a burst is found under other speakers' steady tones."""
    t = np.arange(len(audio)) / SAMPLE_RATE
    shifted = audio / 32767 * np.exp(-2j * np.pi * frequency * t)
    sums = np.concatenate(([0], np.cumsum(shifted)))
    half = window // 2
    ends = np.clip(np.arange(len(audio)) + half, 0, len(audio))
    starts = np.clip(np.arange(len(audio)) - half, 0, len(audio))
    level: npt.NDArray[np.float64] = 2 * np.abs(sums[ends] - sums[starts]) / window
    return level


def onsets(
    audio: Int16s, *, threshold: float, quiet_samples: int, frequency: float | None = None
) -> list[int]:
    """Sample indexes where the level first exceeds ``threshold`` (of full scale) after at
    least ``quiet_samples`` below it: the level of the whole signal, or of ``frequency``."""
    if frequency is None:
        level = np.abs(audio.astype(np.int32)) / 32767
    else:
        level = tone_level(audio, frequency)
    loud = np.flatnonzero(level > threshold)
    if len(loud) == 0:
        return []
    first = np.concatenate(([True], np.diff(loud) > quiet_samples))
    return [int(i) for i in loud[first]]


def timed_onsets(
    chunks: TimedChunks, *, threshold: float, quiet_samples: int, frequency: float | None = None
) -> list[float]:
    """Wall-clock times of the onsets in a stream of timed chunks: the time its chunk was
    handed over plus the onset's offset inside the chunk (a chunk's time is its first
    sample's)."""
    audio, starts, times = joined(chunks)
    found: list[float] = []
    for index in onsets(
        audio, threshold=threshold, quiet_samples=quiet_samples, frequency=frequency
    ):
        chunk = int(np.searchsorted(starts, index, side="right")) - 1
        found.append(float(times[chunk] + (index - starts[chunk]) / SAMPLE_RATE))
    return found


def first_after(times: Sequence[float], after: float, within: float) -> float | None:
    """The first of the sorted ``times`` in (after, after + within], else None."""
    index = int(np.searchsorted(np.asarray(times), after, side="right"))
    if index < len(times) and times[index] <= after + within:
        return float(times[index])
    return None


def resample(pcm: Int16s, rate_in: int, rate_out: int) -> Int16s:
    """Mono int16 from one rate to another with FFmpeg's resampler."""
    if rate_in == rate_out:
        return pcm
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate_out)
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate_in
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.int16) if out else np.zeros(0, np.int16)


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """aiortc and friends log noisily at shutdown; keep the tables readable."""
    import logging

    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)
    for name in ("aiortc", "aioice", "uvicorn", "salon"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        logging.getLogger().setLevel(previous)
