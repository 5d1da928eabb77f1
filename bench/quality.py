"""Quality: PESQ wideband (ITU-T P.862.2) of speech through Salon's two listening paths.

A speech file (made with espeak-ng, or ``--file``) is played by bot A (the host) over WebRTC.
Bot B (a speaker, sending silence) records its mix-minus: the **speaker → speaker** path
(Opus up, mixer, Opus down). An LL-HLS follower records and decodes the program: the
**speaker → listener** path (Opus up, mixer, AAC-LC 64 kbit/s, fMP4 parts, LL-HLS).

Reference and degraded signals are resampled to 16 kHz (FFmpeg's resampler via PyAV), the
degraded one is aligned to the reference by cross-correlation (FFT) and cut to its length,
then scored with ``pesq(16000, ref, deg, "wb")``. For scale, the same file is also scored
through the codecs alone, offline: AAC (Salon's encoder) and one and two Opus hops (aiortc's
encoder and decoder), and against itself (the ceiling, 4.64).

The server runs in this process (uvicorn in a thread, as in tests/harness.py).

Run: .venv/bin/python -m bench.quality [--file speech.wav]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
from pesq import pesq

from bench.common import (
    FetchedPart,
    HlsFollower,
    Int16s,
    TimedSpeaker,
    build_stage,
    in_process_server,
    listener_url,
    machine,
    quiet_logs,
    resample,
    save,
    show,
)
from salon.bots.listener import PartDecoder
from salon.bots.tracks import PcmTrack, read_audio
from salon.media.hls.encoder import AacEncoder
from salon.media.mixer import downmix_to_mono
from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE

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
    return {
        "pesq_wb": round(float(pesq(RATE, ref, deg, "wb")), 2),
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


async def record(speech: Int16s) -> tuple[Int16s, Int16s, dict[str, int]]:
    """Play ``speech`` from A; return what B heard and what the LL-HLS stream carried."""
    silence = np.zeros(int(LEAD_SECONDS * SAMPLE_RATE), np.int16)
    tail = np.zeros(int(30 * SAMPLE_RATE), np.int16)
    played = np.concatenate([silence, speech, tail])
    async with in_process_server() as server:
        stage = await build_stage(server.url, 2, title="Quality")
        sid = stage.space_id
        b = TimedSpeaker(
            server.url, sid, stage.tokens[1], PcmTrack(np.zeros(50 * FRAME_SAMPLES, np.int16))
        )
        await b.connect()  # B first: the room opens, the HLS stream starts
        url = await listener_url(server.url, sid)
        parts: list[FetchedPart] = []
        seconds = LEAD_SECONDS + len(speech) / SAMPLE_RATE + 3.0
        async with httpx.AsyncClient(timeout=10) as client:
            follower = HlsFollower(client, url, on_part=parts.append)
            listening = asyncio.create_task(follower.run(until=time.monotonic() + seconds + 3))
            await asyncio.sleep(1.0)
            a = TimedSpeaker(
                server.url, sid, stage.tokens[0], PcmTrack(played, loop=False), keep=False
            )
            await a.connect()
            async with asyncio.timeout(seconds + 20):
                await listening
        await a.hang_up()
        await b.hang_up()
        await stage.end()
        await stage.close()
    heard = np.concatenate([pcm for _, pcm in b.received])
    decoder = PartDecoder(follower.init)
    program = np.concatenate([decoder.decode(p.data) for p in parts])
    return heard, program, follower.errors


async def measure(path: Path) -> dict[str, Any]:
    speech = read_audio(path)
    peak = int(np.max(np.abs(speech.astype(np.int32)))) or 1
    speech = (speech.astype(np.float64) * (0.5 * 32767 / peak)).astype(np.int16)  # -6 dBFS
    heard, program, errors = await record(speech)
    return {
        "speech_seconds": round(len(speech) / SAMPLE_RATE, 2),
        "speaker_to_speaker": score(speech, heard),
        "speaker_to_hls_listener": score(speech, program),
        "offline_codecs": {
            "reference_vs_itself": score(speech, speech),
            "aac_64k": score(speech, through_aac(speech)),
            "opus_one_hop": score(speech, through_opus(speech)),
            "opus_two_hops": score(speech, through_opus(through_opus(speech))),
        },
        "hls_errors": errors,
    }


def report(result: dict[str, Any], source: str, host: dict[str, Any]) -> None:
    offline = result["offline_codecs"]
    rows = [
        ("speaker → speaker (WebRTC mix-minus)", result["speaker_to_speaker"]),
        ("speaker → mixer → AAC → LL-HLS listener", result["speaker_to_hls_listener"]),
        ("offline: AAC-LC 64 kbit/s only", offline["aac_64k"]),
        ("offline: Opus, one hop", offline["opus_one_hop"]),
        ("offline: Opus, two hops", offline["opus_two_hops"]),
        ("offline: the reference itself", offline["reference_vs_itself"]),
    ]
    show(
        f"PESQ-WB of {result['speech_seconds']} s of speech ({source})",
        ["path", "PESQ-WB", "correlation", "aligned at ms"],
        [(name, r["pesq_wb"], r["correlation"], r["aligned_at_ms"]) for name, r in rows],
    )
    path = save("quality", {"speech": source, **result}, host=host)
    print(f"saved {path.relative_to(path.parent.parent.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, help="a speech recording (any format FFmpeg reads)")
    args = parser.parse_args()
    host = machine()
    with tempfile.TemporaryDirectory(prefix="salon-bench-") as tmp:
        path = args.file or speech_file(Path(tmp))
        source = str(args.file) if args.file else "espeak-ng en-us, 5 Harvard sentences"
        with quiet_logs():
            result = asyncio.run(measure(path))
    report(result, source, host)


if __name__ == "__main__":
    main()
