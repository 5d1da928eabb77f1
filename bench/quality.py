"""Quality: PESQ wideband (ITU-T P.862.2) of speech through Salon's two listening paths, run
after run, on a clean link and on an impaired one.

A speech file (made with espeak-ng, or ``--file``) is played by bot A (the host) over WebRTC.
Bot B (a speaker, sending silence) records its mix-minus: the **speaker → speaker** path
(Opus up, mixer, Opus down). An LL-HLS follower records and decodes the program: the
**speaker → listener** path (Opus up, mixer, AAC-LC 96 kbit/s, fMP4 parts, LL-HLS).

The server is ``salon serve`` in a child process, a fresh one per run (its own event loop and
GIL, as in production, not competing with the bots'); after each run its ``/metrics`` say what
the media plane threw away or filled in (the mixer's overflow and drain drops, its underruns,
ticks run late, the uplink's FEC/PLC frames).

Senders. On the clean link A sends with aiortc's own encoder (Opus CELT 96 kbit/s, no FEC), as
the figures before. On an impaired link it sends like a browser: libopus with in-band FEC and
the voice hint at 64 kbit/s (``salon.bots.tracks.SPEECH_OPUS``; ``--impaired-sender aiortc``
for the other). B's receiver (``PlayoutSink``) puts packets back in order (up to 100 ms) and
decodes them with FEC/PLC on the room's timeline, as a browser would; aiortc's own would drop a
lost frame unconcealed and shorten the recording.

Impairment (``salon.bots.lossy_link``): 5 % loss and 30 ± 20 ms delay (which reorders) on the
SRTP/SRTCP of a bot's link, both ways. **One impaired hop**: A's link (its uplink is what the
mix and LL-HLS are built from; B's downlink is clean). **Two**: B's link as well (its
downlink carries what it records). The relays and proxies run in this process.

Reference and degraded signals are resampled to 16 kHz (FFmpeg's resampler via PyAV), the
degraded one is aligned to the reference by cross-correlation (FFT) and cut to its length,
then scored with ``pesq(16000, ref, deg, "wb")``. For scale, the same file is scored through
the codec chains alone, offline (no network, no mixer clock), once.

Run: .venv/bin/python -m bench.quality [--runs 5] [--impaired-runs 3] [--hops 0,1,2]
[--file speech.wav]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.rtp import RtpPacket
from pesq import pesq
from prometheus_client.parser import text_string_to_metric_families

from bench.common import (
    FetchedPart,
    HlsFollower,
    Int16s,
    TimedSpeaker,
    build_stage,
    listener_url,
    machine,
    quiet_logs,
    resample,
    save,
    server_process,
    show,
)
from salon.bots.listener import PartDecoder
from salon.bots.lossy_link import (
    SEED,
    TO_SERVER,
    Impairment,
    LossyRelay,
    SignalingProxy,
    loss_generator,
)
from salon.bots.tracks import SPEECH_OPUS, OpusTrack, PcmTrack, read_audio
from salon.media.aiortc_fixes import decode_inline
from salon.media.encoding import stage_encoder
from salon.media.hls.encoder import AacEncoder
from salon.media.inbound import MAX_CONCEAL_SAMPLES, InboundAudio
from salon.media.mixer import downmix_to_mono
from salon.media.opus import OpusEncoder
from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE, Pcm

SENDERS = {
    "aiortc": "aiortc's Opus encoder (CELT 96 kbit/s, no FEC)",
    "fec": "libopus, in-band FEC, voice, 64 kbit/s (as a browser sends)",
}


RATE = 16_000
LEAD_SECONDS = 2.0
TEXT = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish. "
    "Rice is often served in round bowls."
)


def speech_file(directory: Path) -> Path:
    """A few Harvard sentences spoken by espeak-ng, as a WAV file."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is missing: apt-get install -y espeak-ng (or pass --file)")
    path = directory / "speech.wav"
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(path), TEXT], check=True)
    return path


def align(reference: Int16s, degraded: Int16s) -> tuple[Int16s, int, float]:
    """``degraded`` shifted onto ``reference`` by cross-correlation and cut to its length;
    also the lag (samples) and the normalised correlation there."""
    if len(degraded) < len(reference):
        degraded = np.concatenate([degraded, np.zeros(len(reference) - len(degraded), np.int16)])
    ref = reference.astype(np.float64)
    deg = degraded.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(ref) + len(deg))))
    correlation = np.fft.irfft(np.fft.rfft(deg, size) * np.conj(np.fft.rfft(ref, size)), size)
    lag = int(np.argmax(correlation[: len(deg) - len(ref) + 1]))
    cut = degraded[lag : lag + len(reference)]
    norm = float(np.linalg.norm(ref) * np.linalg.norm(cut.astype(np.float64))) or 1.0
    return cut, lag, float(np.dot(ref, cut.astype(np.float64)) / norm)


def score(reference48: Int16s, degraded48: Int16s) -> dict[str, float]:
    ref = resample(reference48, SAMPLE_RATE, RATE)
    deg, lag, correlation = align(ref, resample(degraded48, SAMPLE_RATE, RATE))
    try:
        value = float(pesq(RATE, ref, deg, "wb"))
    except Exception:  # e.g. no utterance found: nothing was heard
        value = float("nan")
    return {
        "pesq_wb": round(value, 2),
        "aligned_at_ms": round(1000 * lag / RATE, 1),  # where the speech starts in the recording
        "correlation": round(correlation, 3),
    }


def _frames(pcm: Int16s) -> list[av.AudioFrame]:
    frames = []
    padded = np.concatenate([pcm, np.zeros((-len(pcm)) % FRAME_SAMPLES + FRAME_SAMPLES, np.int16)])
    for index in range(len(padded) // FRAME_SAMPLES):
        chunk = padded[index * FRAME_SAMPLES : (index + 1) * FRAME_SAMPLES]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = Fraction(1, SAMPLE_RATE)
        frame.pts = index * FRAME_SAMPLES
        frames.append(frame)
    return frames


def through_opus(pcm: Int16s) -> Int16s:
    """One hop through aiortc's Opus encoder and decoder (what each WebRTC leg does)."""
    from aiortc.codecs.opus import OpusDecoder, OpusEncoder
    from aiortc.jitterbuffer import JitterFrame

    encoder, decoder = OpusEncoder(), OpusDecoder()
    out: list[Int16s] = []
    for frame in _frames(pcm):
        payloads, timestamp = encoder.encode(frame)
        for payload in payloads:
            for decoded in decoder.decode(JitterFrame(payload, timestamp)):
                channels = len(decoded.layout.channels)
                out.append(downmix_to_mono(decoded.to_ndarray(), channels))
    return np.concatenate(out)


def through_aac(pcm: Int16s) -> Int16s:
    """Salon's AAC encoder, decoded by FFmpeg: what the LL-HLS path adds after the mixer."""
    encoder = AacEncoder()
    units = list(encoder.encode(pcm)) + list(encoder.flush())
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = encoder.audio_specific_config
    out: list[Int16s] = []
    for unit in units:
        for frame in decoder.decode(av.Packet(unit.data)):
            planes = frame.to_ndarray()
            mono = planes.mean(axis=0) if planes.ndim == 2 else planes
            out.append(np.clip(mono * 32767, -32768, 32767).astype(np.int16))
    return np.concatenate(out)


# ---------------------------------------------------------------- bot B's receiver


class PlayoutSink:
    """Bot B's receiver, in place of aiortc's (which drops a lost frame without concealing it,
    so the recording shortens and slides against the reference): RTP packets are put back in
    sequence order, each held until it is next or ``DEPTH`` newer ones came (100 ms, a
    browser's jitter buffer under this jitter), then decoded by libopus with FEC/PLC for what
    never came (salon.media.inbound, as the server does) and laid on the room's timeline by
    RTP timestamp. On a clean link it decodes every packet in order, as aiortc would."""

    DEPTH = 5

    def __init__(self) -> None:
        self.chunks: list[Pcm] = []
        self.inbound = InboundAudio(self.chunks.append)
        self._held: dict[int, RtpPacket] = {}
        self._next: int | None = None
        self._next_timestamp: int | None = None
        self.late = 0  # packets that came after their place was played

    def receive(self, packet: RtpPacket) -> None:
        sequence = packet.sequence_number
        if self._next is None:
            self._next = sequence
        if (sequence - self._next) & 0xFFFF >= 0x8000:
            self.late += 1
            return
        self._held[sequence] = packet
        while self._held:
            ready = self._held.pop(self._next, None)
            if ready is not None:
                self._play(ready)
            elif max((s - self._next) & 0xFFFF for s in self._held) < self.DEPTH:
                break
            self._next = (self._next + 1) & 0xFFFF

    def _play(self, packet: RtpPacket) -> None:
        if self._next_timestamp is not None:
            missing = (packet.timestamp - self._next_timestamp) & 0xFFFFFFFF
            if MAX_CONCEAL_SAMPLES < missing < 10 * SAMPLE_RATE:  # left silent by inbound.py
                self.chunks.append(np.zeros(missing, np.int16))
        self.inbound.receive(packet)
        self._next_timestamp = (packet.timestamp + FRAME_SAMPLES) & 0xFFFFFFFF

    @property
    def pcm(self) -> Int16s:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)


class RecordingSpeaker(TimedSpeaker):
    """A stage bot whose received audio goes to a ``PlayoutSink``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, keep=False, **kwargs)
        self.sink = PlayoutSink()

    async def connect(self) -> None:
        await super().connect()  # ICE and DTLS are still ahead: no packet has come yet
        audio = next(t for t in self.pc.getTransceivers() if t.kind == "audio")
        decode_inline(audio.receiver, self.sink)


# ---------------------------------------------------------------- one run


#: The server's counters read after each run (sample name, label value or ""), with a short name.
COUNTERS = {
    ("salon_mixer_dropped_frames_total", "overflow"): "mixer overflow drops",
    ("salon_mixer_dropped_frames_total", "drain"): "mixer drain drops",
    ("salon_mixer_underruns_total", ""): "mixer underruns",
    ("salon_mixer_playout_grown_total", ""): "playout grown",
    ("salon_mixer_ticks_behind_total", ""): "ticks behind",
    ("salon_mixer_late_ticks_total", ""): "ticks skipped",
    ("salon_inbound_recovered_frames_total", "fec"): "uplink FEC frames",
    ("salon_inbound_recovered_frames_total", "plc"): "uplink PLC frames",
    ("salon_inbound_silenced_gaps_total", ""): "uplink silenced gaps",
    ("salon_inbound_late_packets_total", ""): "uplink late packets",
    ("salon_stage_outbound_dropped_total", ""): "downlink queue drops",
}


async def server_counters(base_url: str) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    found = dict.fromkeys(COUNTERS.values(), 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            label = next(iter(sample.labels.values()), "") if sample.labels else ""
            name = COUNTERS.get((sample.name, label))
            if name is not None:
                found[name] = round(sample.value, 2)
    return found


def speaker_track(played: Int16s, sender: str) -> MediaStreamTrack:
    if sender == "fec":
        return OpusTrack(played, loop=False)
    return PcmTrack(played, loop=False)


async def run_once(speech: Int16s, *, hops: int, sender: str) -> dict[str, Any]:
    """Play ``speech`` from A; score what B heard and what the LL-HLS stream carried."""
    silence = np.zeros(int(LEAD_SECONDS * SAMPLE_RATE), np.int16)
    tail = np.zeros(int(30 * SAMPLE_RATE), np.int16)
    played = np.concatenate([silence, speech, tail])
    relays: dict[str, LossyRelay] = {}
    async with server_process() as server, contextlib.AsyncExitStack() as links:

        async def through_link(name: str) -> str:
            relay = await links.enter_async_context(LossyRelay(Impairment()))
            proxy = await links.enter_async_context(SignalingProxy(server.url, relay))
            relays[name] = relay
            return proxy.url

        a_url = await through_link("A") if hops >= 1 else server.url
        b_url = await through_link("B") if hops >= 2 else server.url
        stage = await build_stage(server.url, 2, title="Quality")
        sid = stage.space_id
        silent = PcmTrack(np.zeros(50 * FRAME_SAMPLES, np.int16))
        b = RecordingSpeaker(b_url, sid, stage.tokens[1], silent)
        await b.connect()  # B first: the room opens, the HLS stream starts
        url = await listener_url(server.url, sid)
        parts: list[FetchedPart] = []
        seconds = LEAD_SECONDS + len(speech) / SAMPLE_RATE + 3.0
        async with httpx.AsyncClient(timeout=10) as client:
            follower = HlsFollower(client, url, on_part=parts.append)
            listening = asyncio.create_task(follower.run(until=time.monotonic() + seconds + 3))
            await asyncio.sleep(1.0)
            a = TimedSpeaker(a_url, sid, stage.tokens[0], speaker_track(played, sender), keep=False)
            await a.connect()
            async with asyncio.timeout(seconds + 20):
                await listening
        counters = await server_counters(server.url)
        await a.hang_up()
        await b.hang_up()
        await stage.end()
        await stage.close()
    decoder = PartDecoder(follower.init)
    program = np.concatenate([decoder.decode(p.data) for p in parts])
    return {
        "speaker_to_speaker": score(speech, b.sink.pcm),
        "speaker_to_hls_listener": score(speech, program),
        "server": counters,
        "receiver_b": {"recovered": b.sink.inbound.recovered, "late": b.sink.late},
        "links": {name: relay.counters.summary() for name, relay in relays.items()},
        "hls_errors": follower.errors,
    }


# ---------------------------------------------------------------- offline chains


def through_libopus(pcm: Int16s, encoder: OpusEncoder, lost: set[int] | None = None) -> Int16s:
    """One hop through libopus: ``encoder``, then decoded as the server does (inbound.py:
    FEC/PLC for the frames in ``lost``)."""
    out: list[Pcm] = []
    inbound = InboundAudio(out.append)
    padded = np.concatenate([pcm, np.zeros((-len(pcm)) % FRAME_SAMPLES, np.int16)])
    for index in range(len(padded) // FRAME_SAMPLES):
        payload = encoder.encode(padded[index * FRAME_SAMPLES : (index + 1) * FRAME_SAMPLES])
        if lost is not None and index in lost:
            continue
        inbound.receive(_Rtp(index & 0xFFFF, index * FRAME_SAMPLES, payload))
    return np.concatenate(out)


@dataclass
class _Rtp:
    sequence_number: int
    timestamp: int
    payload: bytes


def relay_losses(frames: int) -> set[int]:
    """The frames the relay's uplink loses (its seeded generator, from the first packet)."""
    generator = loss_generator(SEED, TO_SERVER, "rtp")
    return {i for i in range(frames) if generator.random() < Impairment().loss}


def offline(speech: Int16s) -> dict[str, dict[str, float]]:
    frames = -(-len(speech) // FRAME_SAMPLES)
    aiortc_up = through_opus(speech)
    fec_up = through_libopus(speech, OpusEncoder(**SPEECH_OPUS))  # type: ignore[arg-type]
    fec_lossy = through_libopus(
        speech,
        OpusEncoder(**SPEECH_OPUS),  # type: ignore[arg-type]
        relay_losses(frames),
    )
    return {
        "reference_vs_itself": score(speech, speech),
        "aac": score(speech, through_aac(speech)),
        "aiortc_opus_one_hop": score(speech, aiortc_up),
        "aiortc_opus_then_stage_opus": score(speech, through_libopus(aiortc_up, stage_encoder())),
        "aiortc_opus_then_aac": score(speech, through_aac(aiortc_up)),
        "fec_opus_one_hop": score(speech, fec_up),
        "fec_opus_then_stage_opus": score(speech, through_libopus(fec_up, stage_encoder())),
        "fec_opus_then_aac": score(speech, through_aac(fec_up)),
        "fec_opus_5pct_loss_then_stage_opus": score(
            speech, through_libopus(fec_lossy, stage_encoder())
        ),
        "fec_opus_5pct_loss_then_aac": score(speech, through_aac(fec_lossy)),
    }


# ---------------------------------------------------------------- runs and report


PATHS = ("speaker_to_speaker", "speaker_to_hls_listener")
MODES = {0: "clean", 1: "one impaired hop", 2: "two impaired hops"}


def spread(runs: list[dict[str, Any]], path: str) -> dict[str, float]:
    values = [r[path]["pesq_wb"] for r in runs]
    return {
        "min": min(values),
        "median": round(float(np.median(values)), 2),
        "max": max(values),
    }


def other_benchmarks() -> list[str]:
    """Other benchmarks running on this machine (they measure CPU or time, as this one)."""
    found = subprocess.run(
        ["pgrep", "-af", r"bench\.(stage_cost|latency|quality)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    mine = set()  # this process and its ancestors (a shell or ``timeout`` naming this command)
    pid = os.getpid()
    while pid > 1:
        mine.add(pid)
        with contextlib.suppress(OSError, IndexError, ValueError):
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            continue
        break
    return [line for line in found if int(line.split()[0]) not in mine]


async def wait_for_quiet() -> None:
    """Another benchmark measuring on these cores? Wait for it (up to 10 minutes)."""
    for _ in range(30):
        others = await asyncio.to_thread(other_benchmarks)
        if not others:
            return
        print(f"waiting for another benchmark: {others[0]}", flush=True)
        await asyncio.sleep(20)


async def measure(
    path: Path, plan: list[tuple[int, int]], senders: dict[int, str]
) -> dict[str, Any]:
    speech = read_audio(path)
    peak = int(np.max(np.abs(speech.astype(np.int32)))) or 1
    speech = (speech.astype(np.float64) * (0.5 * 32767 / peak)).astype(np.int16)  # -6 dBFS
    modes: dict[str, Any] = {}
    for hops, count in plan:
        runs = []
        for index in range(count):
            await wait_for_quiet()
            started = time.time()
            result = await run_once(speech, hops=hops, sender=senders[hops])
            result["started_at"] = datetime.fromtimestamp(started, UTC).isoformat(
                timespec="seconds"
            )
            runs.append(result)
            s2s, s2l = (result[p]["pesq_wb"] for p in PATHS)
            print(f"{MODES[hops]} run {index + 1}/{count}: {s2s} / {s2l}", flush=True)
        modes[MODES[hops]] = {
            "impaired_hops": hops,
            "sender": SENDERS[senders[hops]],
            "runs": runs,
            "spread": {p: spread(runs, p) for p in PATHS},
        }
    return {
        "speech_seconds": round(len(speech) / SAMPLE_RATE, 2),
        "modes": modes,
        "offline_codecs": offline(speech),
    }


def fmt_spread(values: dict[str, float]) -> str:
    return f"{values['median']} ({values['min']}–{values['max']})"


def report(result: dict[str, Any], source: str, host: dict[str, Any]) -> None:
    names = list(COUNTERS.values())
    for mode, data in result["modes"].items():
        rows = []
        for index, run in enumerate(data["runs"], 1):
            counters = run["server"]
            dropped = sum(
                v["dropped"]
                for link in run["links"].values()
                for k, v in link.items()
                if k.endswith("rtp")
            )
            rows.append(
                (
                    f"run {index}",
                    run["speaker_to_speaker"]["pesq_wb"],
                    run["speaker_to_speaker"]["correlation"],
                    run["speaker_to_hls_listener"]["pesq_wb"],
                    run["speaker_to_hls_listener"]["correlation"],
                    *(
                        f"{counters[n]:g}"
                        for n in names
                        if any(r["server"][n] for r in data["runs"])
                    ),
                    dropped,
                )
            )
        spread_ = data["spread"]
        rows.append(
            (
                "median (min–max)",
                fmt_spread(spread_["speaker_to_speaker"]),
                "",
                fmt_spread(spread_["speaker_to_hls_listener"]),
                "",
                *("" for n in names if any(r["server"][n] for r in data["runs"])),
                "",
            )
        )
        show(
            f"PESQ-WB, {mode}; sender: {data['sender']}",
            [
                "run",
                "spk → spk",
                "corr",
                "spk → HLS",
                "corr",
                *(n for n in names if any(r["server"][n] for r in data["runs"])),
                "RTP lost on links",
            ],
            rows,
        )
    offline_rows = [
        (name.replace("_", " "), r["pesq_wb"], r["correlation"])
        for name, r in result["offline_codecs"].items()
    ]
    show(
        f"Offline codec chains, {result['speech_seconds']} s of speech ({source})",
        ["chain", "PESQ-WB", "correlation"],
        offline_rows,
    )
    path = save("quality", {"speech": source, **result}, host=host)
    print(f"saved {path.relative_to(path.parent.parent.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, help="a speech recording (any format FFmpeg reads)")
    parser.add_argument("--runs", type=int, default=5, help="clean runs (default 5)")
    parser.add_argument(
        "--impaired-runs", type=int, default=3, help="runs per impaired mode (default 3)"
    )
    parser.add_argument(
        "--hops", default="0,1,2", help="impaired hops to run: 0 clean, 1, 2 (default 0,1,2)"
    )
    parser.add_argument("--impaired-sender", choices=sorted(SENDERS), default="fec")
    parser.add_argument("--clean-sender", choices=sorted(SENDERS), default="aiortc")
    args = parser.parse_args()
    hops = [int(h) for h in args.hops.split(",")]
    plan = [(h, args.runs if h == 0 else args.impaired_runs) for h in hops]
    senders = {0: args.clean_sender, 1: args.impaired_sender, 2: args.impaired_sender}
    host = machine()
    with tempfile.TemporaryDirectory(prefix="salon-bench-") as tmp:
        path = args.file or speech_file(Path(tmp))
        source = str(args.file) if args.file else "espeak-ng en-us, 5 Harvard sentences"
        with quiet_logs():
            result = asyncio.run(measure(path, plan, senders))
    report(result, source, host)


if __name__ == "__main__":
    main()
