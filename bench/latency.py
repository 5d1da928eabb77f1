"""Latency: speaker → speaker over WebRTC, speaker → LL-HLS part, and listener glass-to-glass.

Bot A (the host) plays tone bursts: silence, then a 1 kHz tone starting exactly on a 20 ms
frame, once per ``--period``. Bot B (a speaker, sending silence) records its mix-minus with
the wall-clock time each frame arrives; an LL-HLS follower in this process records when each
part arrives. Onsets are found by level (first sample above 10 % of full scale after ≥ 0.2 s
below it) and matched to the burst that was sent; a sent onset's time is
``PcmTrack.sent_at`` of its frame (the moment A handed it to WebRTC).

The server runs in this process (uvicorn in a thread, as in tests/harness.py), so three
probes can be attached to it, wrapping attributes at run time only (src/ is not changed):

    t0  A hands the frame to its WebRTC sender               (PcmTrack.sent_at)
    t1  the server pushes A's decoded audio into the mixer   (InboundAudio._on_pcm)
    t2  the mixer clock feeds B's mix-minus frame            (MixMinusTrack.feed)
    t3  the server's WebRTC sender takes that frame for B    (MixMinusTrack.recv)
    t4  B's bot receives the decoded frame                   (TimedSpeaker)

t1-t0 is Opus + loopback + the server's inline decode (inbound.py); t2-t1 the
mixer's own buffer plus the wait for the 20 ms tick; t3-t2 the outbound queue; t4-t3 Opus +
loopback + the *bot's* aiortc jitter buffer + decode. "Server-added" is t3-t0.

Run: .venv/bin/python -m bench.latency [--bursts 20] [--period 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from bench.common import (
    FetchedPart,
    HlsFollower,
    TimedChunks,
    TimedSpeaker,
    build_stage,
    first_after,
    fmt_ms,
    in_process_server,
    joined,
    listener_url,
    machine,
    onsets,
    quiet_logs,
    save,
    show,
    summary_ms,
    timed_onsets,
)
from salon.bots.listener import PartDecoder
from salon.bots.tracks import PcmTrack, tone
from salon.media.opus import OpusDecoder
from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE
from salon.media.room import Room

THRESHOLD = 0.1  # of full scale; the tone is at 0.3
QUIET = int(0.2 * SAMPLE_RATE)
FREQUENCY = 1000.0
#: aiortc 1.x receives audio through JitterBuffer(capacity=16, prefetch=4): a frame is
#: released only when four later frames are in, i.e. 4 × 20 ms behind.
AIORTC_AUDIO_PREFETCH_MS = 80


class ServerProbes:
    """Timed copies of one talker's audio at three points inside a running Room."""

    def __init__(self, room: Room, *, talker: int, hearer: int) -> None:
        self.uplink: TimedChunks = []
        self.mixed: TimedChunks = []
        self.taken: TimedChunks = []
        #: Samples left in the talker's mixer buffer right after each tick: a standing queue.
        self.fill_after_tick: list[int] = []
        inbound, outbound = room.peers[talker].inbound, room.peers[hearer].outbound
        on_pcm, feed, recv = inbound._on_pcm, outbound.feed, outbound.recv
        # The server sends Opus packets: decoded here (one decoder per probe point, each fed
        # every packet in order) to find the onsets in them.
        fed_decoder, taken_decoder = OpusDecoder(), OpusDecoder()

        def pushed(pcm: Any) -> None:
            self.uplink.append((time.time(), pcm.copy()))
            on_pcm(pcm)

        def fed(packet: Any) -> None:
            self.mixed.append((time.time(), fed_decoder.decode(bytes(packet))))
            self.fill_after_tick.append(room.mixer.buffered(talker))
            feed(packet)

        async def took() -> Any:
            packet = await recv()
            self.taken.append((time.time(), taken_decoder.decode(bytes(packet))))
            return packet

        inbound._on_pcm = pushed  # type: ignore[method-assign]
        outbound.feed = fed  # type: ignore[method-assign]
        outbound.recv = took  # type: ignore[method-assign]

    def clear(self) -> None:
        self.uplink.clear()
        self.mixed.clear()
        self.taken.clear()
        self.fill_after_tick.clear()


@dataclass
class Run:
    sent: list[float]
    stages: dict[str, list[float]]  # name → per-onset delays (s)
    hls_available: list[float]
    hls_part_after_completion: list[float]
    hold_back: float | None
    hls_errors: dict[str, int]
    burst_count: int
    mixer_fill_ms: dict[str, float]


def hls_onset_arrivals(init: bytes, parts: list[FetchedPart]) -> list[float]:
    """Arrival time of each part in which a decoded onset first appears."""
    decoder = PartDecoder(init)
    chunks: TimedChunks = [(p.arrived, decoder.decode(p.data)) for p in parts]
    audio, starts, times = joined(chunks)
    found = onsets(audio, threshold=THRESHOLD, quiet_samples=QUIET)
    return [float(times[int(np.searchsorted(starts, i, side="right")) - 1]) for i in found]


def fill_summary(samples: list[int]) -> dict[str, float]:
    if not samples:
        return {}
    ms = np.asarray(samples, dtype=np.float64) * 1000 / SAMPLE_RATE
    return {
        "mean": round(float(ms.mean()), 1),
        "min": round(float(ms.min()), 1),
        "max": round(float(ms.max()), 1),
    }


async def measure(*, bursts: int, period: float, tone_ms: int, warmup: float) -> Run:
    frame_s = FRAME_SAMPLES / SAMPLE_RATE
    tone_frames = max(1, round(tone_ms / 1000 / frame_s))
    silence_frames = max(1, round(period / frame_s) - tone_frames)
    silence = silence_frames * FRAME_SAMPLES
    burst = np.concatenate(
        [np.zeros(silence, np.int16), tone(FREQUENCY, tone_frames * frame_s, level=0.3)]
    )
    async with in_process_server() as server:
        stage = await build_stage(server.url, 2, title="Latency")
        sid = stage.space_id
        talker = PcmTrack(burst, loop=True)
        a = TimedSpeaker(server.url, sid, stage.tokens[0], talker, keep=False)
        b = TimedSpeaker(
            server.url, sid, stage.tokens[1], PcmTrack(np.zeros(50 * FRAME_SAMPLES, np.int16))
        )
        await a.connect()
        await b.connect()
        room = server.app.state.engine.rooms[sid]
        for _ in range(200):  # the server adds a peer once its offer is answered
            if {m.id for m in stage.members} <= set(room.peers):
                break
            await asyncio.sleep(0.05)
        probes = ServerProbes(room, talker=stage.members[0].id, hearer=stage.members[1].id)
        await asyncio.sleep(warmup)  # jitter buffers fill, the HLS stream gets going

        url = await listener_url(server.url, sid)
        parts: list[FetchedPart] = []
        duration = bursts * period + 1.5
        async with httpx.AsyncClient(timeout=10) as client:
            follower = HlsFollower(client, url, on_part=parts.append)
            probes.clear()
            b.received.clear()
            begin = time.time()
            async with asyncio.timeout(duration + 15):
                await follower.run(until=time.monotonic() + duration)
            end = time.time()
        await a.hang_up()
        await b.hang_up()
        await stage.end()
        await stage.close()

    period_samples = len(burst)
    sent = sorted(
        t
        for pts, t in talker.sent_at.items()
        if pts % period_samples == silence and begin + 0.3 < t < end - 1.2
    )
    stream_onsets = {
        name: timed_onsets(chunks, threshold=THRESHOLD, quiet_samples=QUIET)
        for name, chunks in (
            ("uplink", probes.uplink),
            ("mixed", probes.mixed),
            ("taken", probes.taken),
            ("heard", b.received),
        )
    }
    stages: dict[str, list[float]] = {
        k: [] for k in ("uplink", "mixer", "outbound", "downlink", "server_added", "total")
    }
    for t0 in sent:
        t1 = first_after(stream_onsets["uplink"], t0, 0.5)
        t2 = first_after(stream_onsets["mixed"], t1, 0.3) if t1 else None
        t3 = first_after(stream_onsets["taken"], t2, 0.3) if t2 else None
        t4 = first_after(stream_onsets["heard"], t3, 0.5) if t3 else None
        if t1 is None or t2 is None or t3 is None or t4 is None:
            continue
        for name, value in (
            ("uplink", t1 - t0),
            ("mixer", t2 - t1),
            ("outbound", t3 - t2),
            ("downlink", t4 - t3),
            ("server_added", t3 - t0),
            ("total", t4 - t0),
        ):
            stages[name].append(value)

    arrivals = hls_onset_arrivals(follower.init, parts) if follower.init else []
    hls_available = [a - t0 for t0 in sent if (a := first_after(arrivals, t0, 3.0)) is not None]
    after_completion = [p.arrived - p.completed for p in parts if p.completed is not None]
    return Run(
        sent=sent,
        stages=stages,
        hls_available=hls_available,
        hls_part_after_completion=after_completion,
        hold_back=follower.hold_back,
        hls_errors=follower.errors,
        burst_count=len(sent),
        mixer_fill_ms=fill_summary(probes.fill_after_tick),
    )


def report(run: Run, args: argparse.Namespace, host: dict[str, Any]) -> None:
    s = {name: summary_ms(values) for name, values in run.stages.items()}
    hls = summary_ms(run.hls_available)
    hold_back = run.hold_back or 0.0
    glass = summary_ms([v + hold_back for v in run.hls_available])
    rows = [
        ("(a) speaker → speaker, bot to bot (t4−t0)", s["total"]),
        ("(a) server-added: A's frame → server sends B's mix (t3−t0)", s["server_added"]),
        ("    uplink: Opus, loopback, server aiortc jitter buffer, decode", s["uplink"]),
        ("    mixer: mixer buffer + wait for the 20 ms tick", s["mixer"]),
        ("    outbound queue to the server's WebRTC sender", s["outbound"]),
        ("    downlink: Opus, loopback, bot's aiortc jitter buffer, decode", s["downlink"]),
        ("(b) speaker → LL-HLS part with the onset fetched", hls),
        (f"(c) listener glass-to-glass = (b) + PART-HOLD-BACK {hold_back:g} s", glass),
        (
            "    part fetched − part complete (PDT+offset+dur)",
            summary_ms(run.hls_part_after_completion),
        ),
    ]
    show(
        f"Latency over {run.burst_count} tone bursts (ms)",
        ["path", "n", "median", "p95", "min", "max"],
        [
            (name, v.get("n", 0), fmt_ms(v, "median_ms"), fmt_ms(v, "p95_ms"),
             fmt_ms(v, "min_ms"), fmt_ms(v, "max_ms"))
            for name, v in rows
        ],
    )  # fmt: skip
    data = {
        "parameters": {
            "bursts": args.bursts,
            "period_s": args.period,
            "tone_ms": args.tone_ms,
            "warmup_s": args.warmup,
        },
        "speaker_to_speaker_ms": {
            "bot_to_bot": s["total"],
            "server_added": s["server_added"],
            "breakdown": {k: s[k] for k in ("uplink", "mixer", "outbound", "downlink")},
            "aiortc_audio_jitter_buffer_prefetch_ms": AIORTC_AUDIO_PREFETCH_MS,
            "mixer_buffer_after_tick_ms": run.mixer_fill_ms,
        },
        "speaker_to_hls_part_ms": hls,
        "part_hold_back_s": run.hold_back,
        "listener_glass_to_glass_ms": {
            "formula": "(b) speaker→part fetched + PART-HOLD-BACK",
            **glass,
        },
        "hls_part_fetched_after_completion_ms": summary_ms(run.hls_part_after_completion),
        "hls_errors": run.hls_errors,
    }
    fill = run.mixer_fill_ms
    if fill:
        print(
            f"talker's mixer buffer right after each tick: mean {fill['mean']} ms "
            f"(min {fill['min']}, max {fill['max']})"
        )
    path = save("latency", data, host=host)
    print(f"saved {path.relative_to(path.parent.parent.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bursts", type=int, default=20, help="tone bursts (default 20)")
    parser.add_argument("--period", type=float, default=1.0, help="seconds between onsets")
    parser.add_argument("--tone-ms", type=int, default=300, help="tone length per burst")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    args = parser.parse_args()
    if not 1 <= args.bursts <= 200 or not 0.5 <= args.period <= 5:
        parser.error("use 1-200 bursts and a period of 0.5-5 s")
    host = machine()
    with quiet_logs():
        run = asyncio.run(
            measure(
                bursts=args.bursts, period=args.period, tone_ms=args.tone_ms, warmup=args.warmup
            )
        )
    report(run, args, host)


if __name__ == "__main__":
    main()
