"""Stage cost: the server's CPU per speaker for spaces of 1, 5 and 13 speakers, beside Janus.

``salon serve`` runs as a child process (SQLite in a temp dir, 127.0.0.1, a free port), so
its CPU time can be read alone from /proc/<pid>/stat (user + system, every thread: the
event loop, aiortc's decoder threads, FFmpeg). So does Debian's ``janus`` (bench/janus.py),
with a 48 kHz AudioBridge room as the reference: the same open-source job (each participant
sends Opus, the server decodes, mixes and encodes a mix-minus for each) done in C.

For each stage size, N aiortc bots in this process join (a fresh Salon space through the
API, a fresh AudioBridge room through Janus' HTTP API) and each plays a steady tone; after a
settling period the server's CPU is read over ``--seconds``. Salon and Janus take turns,
``--runs`` times per size, the order swapped each run, so both see the same noise from the
rest of this shared machine; the figures are medians with their spread (min–max).

Speaker → speaker delay, on both servers alike: bot 0 also plays a 3 kHz burst once a
second (300 ms, starting on a 20 ms frame) over its tone; bot 1 keeps what it hears with
each frame's arrival time, and the burst's onset is found by the level *of 3 kHz* (the other
bots' tones are 220–1,540 Hz). Delay = onset heard − the moment bot 0 handed that frame to
WebRTC (``PcmTrack.sent_at``), as in bench.latency's "bot to bot".

Two Salon baselines come first: the idle server, and a live space with no speaker (mixer
clock + AAC of silence). Per speaker is reported two ways: total / N, and (total −
empty-space baseline) / N. "Full 13-speaker spaces per core" is 100 / CPU%(13). The bots'
own CPU (this process) is reported too: it competes with the servers for this machine's cores.

``--profile``: py-spy (if installed next to this Python) samples the Salon server at the
largest size for one more window after its first measured one, and the top frames are printed.

Run: .venv/bin/python -m bench.stage_cost [--sizes 1,5,13] [--runs 3] [--seconds 10]
     [--no-janus] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from bench.common import (
    CpuMeter,
    ServerProcess,
    TimedSpeaker,
    build_stage,
    first_after,
    listener_url,
    machine,
    process_rss_bytes,
    quiet_logs,
    save,
    server_process,
    show,
    summary_ms,
    timed_onsets,
)
from bench.janus import JanusProcess, JanusSpeaker, create_room, janus_process
from salon.bots.tracks import PcmTrack, tone
from salon.media.encoding import stage_encoder
from salon.media.hls.encoder import AacEncoder
from salon.media.mixer import Mixer
from salon.media.opus import OpusDecoder
from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE

FRAMES_PER_SECOND = SAMPLE_RATE // FRAME_SAMPLES
#: Each bot's steady tone: 12 of them sum below full scale, so no clipping (in either
#: mixer) smears energy into the burst's band.
TONE_LEVEL = 0.05
BURST_HZ = 3000.0
BURST_LEVEL = 0.3
BURST_S = 0.3
PERIOD_S = 1.0  # one burst a second; the tones loop over the same second, seamlessly
THRESHOLD = 0.1  # of full scale, of the 3 kHz level
QUIET = int(0.2 * SAMPLE_RATE)
#: Where the burst starts in its period: on a frame, so its onset is one frame's send time.
BURST_AT = round((PERIOD_S - BURST_S) * FRAMES_PER_SECOND) * FRAME_SAMPLES


def components(frames: int = 500) -> dict[str, float]:
    """What one 20 ms frame of each server step costs, as % of a core at 50 frames a second.

    Per speaker and tick the server decodes one Opus frame (their microphone, libopus mono
    through media/opus.py) and, while they make sound, encodes one (their own mix-minus, the
    stage encoder of media/encoding.py); the program's Opus encode, the mixer tick and the AAC
    encoder run once per space. Measured here, in this process, on the same libraries.
    """
    pcm = tone(440.0, frames * FRAME_SAMPLES / SAMPLE_RATE, level=0.1)
    chunks = [pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES] for i in range(frames)]

    def per_frame(work: Any) -> float:
        start = time.process_time()
        for index in range(frames):
            work(index)
        return 100 * (time.process_time() - start) / frames * FRAMES_PER_SECOND

    encoder, payloads = stage_encoder(), []
    encode = per_frame(lambda i: payloads.append(encoder.encode(chunks[i])))
    decoder = OpusDecoder()
    decode = per_frame(lambda i: decoder.decode(payloads[i % len(payloads)]))
    mixer = Mixer()
    for speaker in range(13):
        mixer.add_input(speaker)

    def tick(i: int) -> None:
        for speaker in range(13):
            mixer.push(speaker, chunks[i])
        mixer.tick()

    mix13 = per_frame(tick)
    aac = AacEncoder()
    aac_cost = per_frame(lambda i: list(aac.encode(chunks[i])))
    return {
        "opus_encode_pct": round(encode, 3),
        "opus_decode_pct": round(decode, 3),
        "mixer_tick_13_inputs_pct": round(mix13, 3),
        "aac_encode_pct": round(aac_cost, 3),
    }


def spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": round(float(np.median(values)), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def fmt_spread(value: dict[str, float] | None, digits: int = 2) -> str:
    if not value:
        return "—"
    median, low, high = (f"{value[k]:.{digits}f}" for k in ("median", "min", "max"))
    return median if low == high else f"{median} ({low}–{high})"


# ---------------------------------------------------------------- one stage


def bot_tracks(size: int, talkers: int | None = None) -> list[PcmTrack]:
    """A steady tone per bot (220, 330, … Hz); bot 0's carries the bursts when someone can
    hear them. With ``talkers``, only that many bots sound and the rest send silence (a stage
    where most listen, as stages are)."""
    sounding = size if talkers is None else talkers
    tones = [
        tone(220.0 + 110.0 * index, PERIOD_S, level=TONE_LEVEL if index < sounding else 0.0)
        for index in range(size)
    ]
    if size > 1:
        burst = tone(BURST_HZ, BURST_S, level=BURST_LEVEL)
        tones[0][BURST_AT : BURST_AT + len(burst)] += burst
    return [PcmTrack(pcm) for pcm in tones]


#: A stage on one server: its bots connected (bot 1 keeping what it hears), torn down after.
StageOf = Callable[[list[PcmTrack]], AbstractAsyncContextManager[list[TimedSpeaker]]]


class WhepViewer:
    """A WHEP listener (aiortc, receive-only) that only counts the frames it gets."""

    def __init__(self, url: str, space_id: str) -> None:
        self.url, self.space_id = url, space_id
        self.frames = 0
        self._pc = RTCPeerConnection()
        self._location: str | None = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, client: httpx.AsyncClient) -> None:
        self._pc.addTransceiver("audio", direction="recvonly")
        self._pc.on("track", self._on_track)
        await self._pc.setLocalDescription(await self._pc.createOffer())
        answer = await client.post(
            f"{self.url}/api/spaces/{self.space_id}/whep",
            content=self._pc.localDescription.sdp,
            headers={"Content-Type": "application/sdp"},
        )
        answer.raise_for_status()
        self._location = answer.headers["location"]
        await self._pc.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._reader = asyncio.create_task(self._count(track))

    async def _count(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.frames += 1

    async def hang_up(self, client: httpx.AsyncClient) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._location is not None:
            with contextlib.suppress(httpx.HTTPError):
                await client.delete(f"{self.url}{self._location}")
        await self._pc.close()


def salon_stage(server: ServerProcess, whep_viewers: int = 0) -> StageOf:
    """Salon's stage; with ``whep_viewers``, that many WHEP listeners connected too."""

    @asynccontextmanager
    async def stage(tracks: list[PcmTrack]) -> AsyncIterator[list[TimedSpeaker]]:
        built = await build_stage(server.url, len(tracks), title=f"{len(tracks)} speakers")
        bots = [
            TimedSpeaker(server.url, built.space_id, token, track, keep=index == 1, ice_servers=[])
            for index, (token, track) in enumerate(zip(built.tokens, tracks, strict=True))
        ]
        viewers = [WhepViewer(server.url, built.space_id) for _ in range(whep_viewers)]
        async with httpx.AsyncClient(timeout=20) as client:
            try:
                for bot in bots:
                    await bot.connect()
                for viewer in viewers:
                    await viewer.connect(client)
                yield bots
            finally:
                for viewer in viewers:
                    await viewer.hang_up(client)
                for bot in bots:
                    await bot.hang_up()
                await built.end()
                await built.close()

    return stage


def janus_stage(janus: JanusProcess) -> StageOf:
    @asynccontextmanager
    async def stage(tracks: list[PcmTrack]) -> AsyncIterator[list[TimedSpeaker]]:
        room = await create_room(janus.url)
        bots: list[TimedSpeaker] = [
            JanusSpeaker(janus.url, room, track, keep=index == 1, ice_servers=[])
            for index, track in enumerate(tracks)
        ]
        try:
            for bot in bots:
                await bot.connect()
            yield bots
        finally:
            for bot in bots:
                await bot.hang_up()

    return stage


@dataclass
class Contender:
    """A server measured here: its process and how a stage is built on it."""

    name: str
    pid: int
    stage: StageOf
    metrics_url: str | None = None  # Salon's /metrics, for its mixer's late ticks


async def metric(url: str, name: str) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


async def measured(pid: int, seconds: float, metrics_url: str | None = None) -> dict[str, Any]:
    """Server CPU % of one core over ``seconds``, this process's CPU %, RSS, late ticks."""
    late = "salon_mixer_late_ticks_total"
    before = await metric(metrics_url, late) if metrics_url else 0.0
    meter = CpuMeter(pid)
    meter.start()
    own_cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    server_cpu = meter.stop()
    own = 100 * (time.process_time() - own_cpu) / (time.monotonic() - wall)
    return {
        "server_cpu_pct": round(server_cpu, 2),
        "bots_cpu_pct": round(own, 2),
        "server_rss_mb": round(process_rss_bytes(pid) / 2**20, 1),
        "late_ticks": (await metric(metrics_url, late) - before) if metrics_url else None,
    }


async def empty_space(server: ServerProcess, seconds: float) -> dict[str, Any]:
    stage = await build_stage(server.url, 1, title="Empty")
    try:
        url = await listener_url(server.url, stage.space_id)
        async with httpx.AsyncClient(timeout=10) as client:
            (await client.get(url)).raise_for_status()  # opens the room: mixer + AAC start
        await asyncio.sleep(1.0)
        return await measured(server.pid, seconds, server.url)
    finally:
        await stage.end()
        await stage.close()


def burst_delays(talker: PcmTrack, hearer: TimedSpeaker, begin: float, end: float) -> list[float]:
    """Bot 0's burst onsets sent in [begin, end − 1 s], each to its onset heard by bot 1."""
    period = int(PERIOD_S * SAMPLE_RATE)
    sent = sorted(
        t for pts, t in talker.sent_at.items() if pts % period == BURST_AT and begin < t < end - 1.0
    )
    heard = timed_onsets(
        hearer.received, threshold=THRESHOLD, quiet_samples=QUIET, frequency=BURST_HZ
    )
    return [h - t0 for t0 in sent if (h := first_after(heard, t0, 0.5)) is not None]


async def stage_run(
    contender: Contender,
    size: int,
    seconds: float,
    settle: float,
    profile: Path | None,
    talkers: int | None = None,
) -> dict[str, Any]:
    tracks = bot_tracks(size, talkers)
    async with contender.stage(tracks) as bots:
        async with asyncio.timeout(20):
            while any(bot.frames == 0 for bot in bots):  # noqa: ASYNC110 - aiortc has no event
                await asyncio.sleep(0.1)
        await asyncio.sleep(settle)
        before = [bot.frames for bot in bots]
        if size > 1:
            bots[1].received.clear()
        begin = time.time()
        result = await measured(contender.pid, seconds, contender.metrics_url)
        frames = [bot.frames - start for bot, start in zip(bots, before, strict=True)]
        result["mix_minus_frames_per_s_per_bot_min"] = round(min(frames) / seconds, 1)
        result["per_participant_pct"] = round(result["server_cpu_pct"] / size, 3)
        if size > 1:
            delays = burst_delays(tracks[0], bots[1], begin, time.time())
            result["speaker_to_speaker_s"] = [round(d, 4) for d in delays]
        if profile is not None:
            await py_spy(contender.pid, seconds, profile)
    return result


# ---------------------------------------------------------------- profile


def py_spy_path() -> str | None:
    """py-spy installed next to this Python (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def py_spy(pid: int, seconds: float, output: Path) -> None:
    """Sample ``pid`` for ``seconds`` into collapsed stacks (one ``a;b;c count`` a line);
    non-blocking, so the server is not paused at each sample."""
    spy = py_spy_path()
    assert spy is not None
    process = await asyncio.create_subprocess_exec(
        *(spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))),
        *("--rate", "100", "--nonblocking", "--format", "raw", "--output", str(output)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await process.wait()


#: Leaf frames that are a thread blocked, not working: py-spy's idle filter misses them here
#: (aiortc's decoder threads, the executor's Opus workers and aiosqlite's thread wait on
#: queues that are woken every 20 ms), so they are left out of the shares.
WAITING = {
    "Condition.wait (threading.py)",
    "_worker (concurrent/futures/thread.py)",
    "_connection_worker_thread (aiosqlite/core.py)",
}


def top_frames(collapsed: str, count: int = 20) -> dict[str, Any]:
    """The frames where the busy samples were taken (self), with their share of all busy
    samples and of those they were anywhere on the stack in (total)."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    busy = waiting = 0
    for line in collapsed.splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        frames = [_without_line(frame) for frame in stack.split(";")]
        if frames[-1] in WAITING:
            waiting += int(number)
            continue
        busy += int(number)
        own[frames[-1]] += int(number)
        for frame in set(frames):
            anywhere[frame] += int(number)
    return {
        "waiting_samples_left_out_pct": round(100 * waiting / max(busy + waiting, 1), 1),
        "top_frames": [
            {
                "frame": frame,
                "self_pct": round(100 * n / busy, 1),
                "total_pct": round(100 * anywhere[frame] / busy, 1),
            }
            for frame, n in own.most_common(count)
        ],
    }


def _without_line(frame: str) -> str:
    """``recv (aiortc/rtcrtpsender.py:123)`` → ``recv (aiortc/rtcrtpsender.py)``, with the
    path from the package on (no site-packages prefix)."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "/lib/python"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})" if where else name


# ---------------------------------------------------------------- runs


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        cap = {"SALON_WHEP_MAX_VIEWERS": str(max(50, args.whep_viewers))}
        server = await stack.enter_async_context(server_process(cap))
        contenders = [
            Contender("salon", server.pid, salon_stage(server, args.whep_viewers), server.url)
        ]
        if args.janus:
            janus = await stack.enter_async_context(janus_process())
            contenders.append(Contender("janus", janus.pid, janus_stage(janus)))
        await asyncio.sleep(1.0)
        others = [CpuMeter(c.pid) for c in contenders[1:]]  # Janus' idle, in the same window
        for meter in others:
            meter.start()
        idle = await measured(server.pid, min(args.seconds, 5.0), server.url)
        for meter in others:
            idle["janus_cpu_pct"] = round(meter.stop(), 2)
        empty = await empty_space(server, args.seconds)
        runs: dict[int, dict[str, list[dict[str, Any]]]] = {}
        profile: dict[str, Any] | None = None
        for size in args.sizes:
            runs[size] = {c.name: [] for c in contenders}
            for index in range(args.runs):
                for contender in contenders if index % 2 == 0 else contenders[::-1]:
                    wants_profile = (
                        args.profile and contender.name == "salon" and size == max(args.sizes)
                    )
                    with tempfile.TemporaryDirectory(prefix="salon-bench-spy-") as tmp:
                        output = Path(tmp) / "stacks.txt" if wants_profile and not index else None
                        row = await stage_run(
                            contender, size, args.seconds, args.settle, output, args.talkers
                        )
                        if output is not None:
                            text = output.read_text() if output.exists() else ""
                            profile = {"speakers": size, **top_frames(text)}
                    runs[size][contender.name].append(row)
                    await asyncio.sleep(1.0)
    return {
        "idle_server": idle,
        "empty_space": empty,
        "stages": {size: summarised(by_server, size, empty) for size, by_server in runs.items()},
        "components_pct_of_core": components(),
        "salon_profile": profile,
    }


def summarised(
    by_server: dict[str, list[dict[str, Any]]], size: int, empty: dict[str, Any]
) -> dict[str, Any]:
    """Per server: the runs, and medians (min–max) of CPU per participant and the delays of
    every run together; Salon's CPU over Janus', run by run (the runs are paired)."""
    out: dict[str, Any] = {}
    for name, rows in by_server.items():
        delays = [d for row in rows for d in row.pop("speaker_to_speaker_s", [])]
        cpu = [row["server_cpu_pct"] for row in rows]
        out[name] = {
            "server_cpu_pct": spread(cpu),
            "per_participant_pct": spread([c / size for c in cpu]),
            "speaker_to_speaker_ms": summary_ms(delays) if size > 1 else None,
            "runs": rows,
        }
    salon = out["salon"]
    salon["marginal_per_speaker_pct"] = spread(
        [(c - empty["server_cpu_pct"]) / size for c in (r["server_cpu_pct"] for r in salon["runs"])]
    )
    if "janus" in out:
        pairs = zip(salon["runs"], out["janus"]["runs"], strict=True)
        out["salon_over_janus_cpu"] = spread(
            [s["server_cpu_pct"] / max(j["server_cpu_pct"], 0.01) for s, j in pairs]
        )
    return out


def median_of(rows: list[dict[str, Any]], key: str) -> float:
    return round(float(np.median([row[key] for row in rows])), 1)


def report(result: dict[str, Any], args: argparse.Namespace, host: dict[str, Any]) -> None:
    idle, empty, stages = result["idle_server"], result["empty_space"], result["stages"]
    rows: list[tuple[object, ...]] = [
        ("idle server", "—", f"{idle['server_cpu_pct']:.1f}", "—", "—",
         f"{idle['bots_cpu_pct']:.1f}", idle["server_rss_mb"], "—", idle["late_ticks"]),
        ("empty live space", 0, f"{empty['server_cpu_pct']:.1f}", "—", "—",
         f"{empty['bots_cpu_pct']:.1f}", empty["server_rss_mb"], "—", empty["late_ticks"]),
    ]  # fmt: skip
    for size, row in stages.items():
        salon, runs = row["salon"], row["salon"]["runs"]
        rows.append(
            (f"{size} speaker{'s' if size > 1 else ''}", size,
             fmt_spread(salon["server_cpu_pct"], 1),
             f"{salon['per_participant_pct']['median']:.2f}",
             f"{salon['marginal_per_speaker_pct']['median']:.2f}", median_of(runs, "bots_cpu_pct"),
             max(r["server_rss_mb"] for r in runs),
             min(r["mix_minus_frames_per_s_per_bot_min"] for r in runs),
             sum(r["late_ticks"] for r in runs))
        )  # fmt: skip
    show(
        f"Salon: server CPU (% of one core) over {args.seconds:g} s, median (min–max) of "
        f"{args.runs} run{'s' if args.runs > 1 else ''} per stage size",
        ["space", "speakers", "server CPU %", "per speaker %", "marginal / speaker %",
         "bots CPU %", "server RSS MB", "mix fps/bot (min)", "late ticks"],
        rows,
    )  # fmt: skip
    if args.janus:
        show(
            f"Salon beside Janus AudioBridge (48 kHz), median (min–max) of {args.runs} paired "
            f"runs; Janus idle {idle['janus_cpu_pct']:.2f} % of a core",
            ["speakers", "Salon CPU / participant %", "Janus CPU / participant %",
             "Salon ÷ Janus", "Salon delay ms, median (p95)", "Janus delay ms, median (p95)",
             "bursts"],
            [
                (size, fmt_spread(row["salon"]["per_participant_pct"]),
                 fmt_spread(row["janus"]["per_participant_pct"]),
                 fmt_spread(row["salon_over_janus_cpu"]),
                 fmt_delay(row["salon"]["speaker_to_speaker_ms"]),
                 fmt_delay(row["janus"]["speaker_to_speaker_ms"]),
                 "/".join(str((row[n]["speaker_to_speaker_ms"] or {}).get("n", "—"))
                          for n in ("salon", "janus")))
                for size, row in stages.items()
            ],
        )  # fmt: skip
    parts = result["components_pct_of_core"]
    show(
        "What single steps cost (% of one core, at 50 frames/s, measured in this process)",
        ["step", "CPU %"],
        [
            ("Opus encode, the program or one talker's mix-minus", parts["opus_encode_pct"]),
            ("Opus decode, one microphone (per speaker)", parts["opus_decode_pct"]),
            ("mixer tick, 13 inputs (per space)", parts["mixer_tick_13_inputs_pct"]),
            ("AAC encode of the program (per space)", parts["aac_encode_pct"]),
        ],
    )
    profile = result["salon_profile"]
    if profile is not None:
        show(
            f"py-spy: Salon server at {profile['speakers']} speakers, top frames by own busy "
            f"samples (waits left out: {profile['waiting_samples_left_out_pct']} % of samples)",
            ["frame", "self %", "total %"],
            [(f["frame"], f["self_pct"], f["total_pct"]) for f in profile["top_frames"]],
        )
    data: dict[str, Any] = {
        "parameters": {
            "sizes": args.sizes,
            "runs": args.runs,
            "seconds": args.seconds,
            "settle_s": args.settle,
            "janus": args.janus,
            "talkers": args.talkers,
            "whep_viewers": args.whep_viewers,
        },
        **result,
    }
    largest = max(stages) if stages else None
    if largest is not None:
        cpu = stages[largest]["salon"]["server_cpu_pct"]["median"]
        data["full_spaces_per_core"] = {"speakers": largest, "spaces": round(100 / cpu, 1)}
        print(f"full {largest}-speaker Salon spaces per core = 100 / {cpu:.1f} = {100 / cpu:.1f}")
    name = "stage_cost"
    if args.talkers is not None:
        name += f"_talkers{args.talkers}"
    if args.whep_viewers:
        name += f"_whep{args.whep_viewers}"
    path = save(name, data, host=host)
    print(f"saved {path.relative_to(path.parent.parent.parent)}")


def fmt_delay(summary: dict[str, Any] | None) -> str:
    if not summary or not summary.get("n"):
        return "—"
    return f"{summary['median_ms']:.1f} ({summary['p95_ms']:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,5,13", help="stage sizes, comma-separated (1-13)")
    parser.add_argument("--runs", type=int, default=3, help="paired runs per size (1-10)")
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per run")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument(
        "--no-janus", dest="janus", action="store_false", help="Salon alone, no Janus"
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the Salon server at the largest size"
    )
    parser.add_argument(
        "--talkers",
        type=int,
        default=None,
        help="only this many bots sound, the rest send silence (default: all)",
    )
    parser.add_argument(
        "--whep-viewers",
        type=int,
        default=0,
        help="WHEP listeners connected to each Salon stage (0-200; the cap is 50 by default)",
    )
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or not all(1 <= s <= 13 for s in sizes):
        parser.error("sizes are 1 to 13")
    if not 1 <= args.seconds <= 60 or not 1 <= args.runs <= 10:
        parser.error("--seconds is 1 to 60, --runs 1 to 10")
    if args.janus and shutil.which("janus") is None:
        parser.error("janus is not installed (apt-get install janus), or use --no-janus")
    if args.talkers is not None and not 1 <= args.talkers <= min(sizes):
        parser.error("--talkers is 1 to the smallest size")
    if not 0 <= args.whep_viewers <= 200:
        parser.error("--whep-viewers is 0 to 200")
    if args.profile and py_spy_path() is None:
        parser.error("--profile needs py-spy (.venv/bin/pip install py-spy)")
    args.sizes = sizes
    host = machine()
    with quiet_logs():
        result = asyncio.run(run(args))
    report(result, args, host)


if __name__ == "__main__":
    main()
