"""Stage cost: the server's CPU per speaker for spaces of 1, 5 and 13 speakers.

``salon serve`` runs as a child process (SQLite in a temp dir, 127.0.0.1, a free port), so
its CPU time can be read alone from /proc/<pid>/stat (user + system, every thread: the
event loop, aiortc's decoder threads, FFmpeg). For each stage size a fresh space is built
through the API, N aiortc bots in this process join its stage and play a steady tone each,
and after a settling period the server's CPU is read over ``--seconds``. Two baselines come
first: the idle server, and a live space with no speaker (mixer clock + AAC of silence).

Per speaker is reported two ways: total / N, and (total − empty-space baseline) / N.
"Full 13-speaker spaces per core" is 100 / CPU%(13). The bots' own CPU (this process) is
reported too: it competes with the server for this machine's cores.

Run: .venv/bin/python -m bench.stage_cost [--sizes 1,5,13] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from fractions import Fraction
from typing import Any

import httpx

from bench.common import (
    CpuMeter,
    ServerProcess,
    TimedSpeaker,
    build_stage,
    listener_url,
    machine,
    process_rss_bytes,
    quiet_logs,
    save,
    server_process,
    show,
)
from salon.bots.tracks import PcmTrack, tone
from salon.media.hls.encoder import AacEncoder
from salon.media.mixer import Mixer
from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE

FRAMES_PER_SECOND = SAMPLE_RATE // FRAME_SAMPLES


def components(frames: int = 500) -> dict[str, float]:
    """What one 20 ms frame of each server step costs, as % of a core at 50 frames a second.

    Per speaker and tick the server decodes one Opus frame (their microphone) and encodes one
    (their mix-minus, aiortc's 96 kbit/s stereo encoder); the mixer tick and the AAC encoder
    run once per space. Measured here, in this process, on the same libraries.
    """
    import av
    from aiortc.codecs.opus import OpusDecoder, OpusEncoder
    from aiortc.jitterbuffer import JitterFrame

    pcm = tone(440.0, frames * FRAME_SAMPLES / SAMPLE_RATE, level=0.1)
    chunks = [pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES] for i in range(frames)]

    def audio_frame(index: int) -> av.AudioFrame:
        frame = av.AudioFrame.from_ndarray(
            chunks[index].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = Fraction(1, SAMPLE_RATE)
        frame.pts = index * FRAME_SAMPLES
        return frame

    def per_frame(work: Any) -> float:
        start = time.process_time()
        for index in range(frames):
            work(index)
        return 100 * (time.process_time() - start) / frames * FRAMES_PER_SECOND

    encoder, payloads = OpusEncoder(), []
    encode = per_frame(lambda i: payloads.extend(encoder.encode(audio_frame(i))[0]))
    decoder = OpusDecoder()
    decode = per_frame(
        lambda i: decoder.decode(JitterFrame(payloads[i % len(payloads)], i * FRAME_SAMPLES))
    )
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


async def metric(url: str, name: str) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


async def measured(server: ServerProcess, seconds: float) -> dict[str, float]:
    """Server CPU % of one core over ``seconds``, this process's CPU %, RSS, late ticks."""
    late = await metric(server.url, "salon_mixer_late_ticks_total")
    meter = CpuMeter(server.pid)
    meter.start()
    own_cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    server_cpu = meter.stop()
    own = 100 * (time.process_time() - own_cpu) / (time.monotonic() - wall)
    return {
        "server_cpu_pct": round(server_cpu, 2),
        "bots_cpu_pct": round(own, 2),
        "server_rss_mb": round(process_rss_bytes(server.pid) / 2**20, 1),
        "late_ticks": await metric(server.url, "salon_mixer_late_ticks_total") - late,
    }


async def empty_space(server: ServerProcess, seconds: float) -> dict[str, float]:
    stage = await build_stage(server.url, 1, title="Empty")
    try:
        url = await listener_url(server.url, stage.space_id)
        async with httpx.AsyncClient(timeout=10) as client:
            (await client.get(url)).raise_for_status()  # opens the room: mixer + AAC start
        await asyncio.sleep(1.0)
        return await measured(server, seconds)
    finally:
        await stage.end()
        await stage.close()


async def stage_of(
    server: ServerProcess, size: int, seconds: float, settle: float
) -> dict[str, Any]:
    stage = await build_stage(server.url, size, title=f"{size} speakers")
    bots = [
        TimedSpeaker(
            server.url,
            stage.space_id,
            token,
            PcmTrack(tone(220.0 + 110.0 * index, 2.0, level=0.1)),
            keep=False,
        )
        for index, token in enumerate(stage.tokens)
    ]
    try:
        for bot in bots:
            await bot.connect()
        async with asyncio.timeout(20):
            while any(bot.frames == 0 for bot in bots):  # noqa: ASYNC110 - aiortc has no event
                await asyncio.sleep(0.1)
        await asyncio.sleep(settle)
        before = [bot.frames for bot in bots]
        result: dict[str, Any] = await measured(server, seconds)
        frames = [bot.frames - start for bot, start in zip(bots, before, strict=True)]
        result["mix_minus_frames_per_s_per_bot_min"] = round(min(frames) / seconds, 1)
        return result
    finally:
        for bot in bots:
            await bot.hang_up()
        await stage.end()
        await stage.close()


async def run(sizes: list[int], seconds: float, settle: float) -> dict[str, Any]:
    async with server_process() as server:
        await asyncio.sleep(1.0)
        idle = await measured(server, min(seconds, 5.0))
        empty = await empty_space(server, seconds)
        by_size: dict[int, dict[str, Any]] = {}
        for size in sizes:
            by_size[size] = await stage_of(server, size, seconds, settle)
            await asyncio.sleep(1.0)
    base = empty["server_cpu_pct"]
    for size, row in by_size.items():
        row["per_speaker_pct"] = round(row["server_cpu_pct"] / size, 2)
        row["marginal_per_speaker_pct"] = round((row["server_cpu_pct"] - base) / size, 2)
    return {
        "idle_server": idle,
        "empty_space": empty,
        "stages": by_size,
        "components_pct_of_core": components(),
    }


def report(result: dict[str, Any], args: argparse.Namespace, host: dict[str, Any]) -> None:
    idle, empty, stages = result["idle_server"], result["empty_space"], result["stages"]
    rows: list[tuple[object, ...]] = [
        ("idle server", "—", f"{idle['server_cpu_pct']:.1f}", "—", "—",
         f"{idle['bots_cpu_pct']:.1f}", idle["server_rss_mb"], "—", idle["late_ticks"]),
        ("empty live space", 0, f"{empty['server_cpu_pct']:.1f}", "—", "—",
         f"{empty['bots_cpu_pct']:.1f}", empty["server_rss_mb"], "—", empty["late_ticks"]),
    ]  # fmt: skip
    for size, row in stages.items():
        rows.append(
            (f"{size} speaker{'s' if size > 1 else ''}", size, f"{row['server_cpu_pct']:.1f}",
             f"{row['per_speaker_pct']:.2f}", f"{row['marginal_per_speaker_pct']:.2f}",
             f"{row['bots_cpu_pct']:.1f}", row["server_rss_mb"],
             row["mix_minus_frames_per_s_per_bot_min"], row["late_ticks"])
        )  # fmt: skip
    show(
        f"Server CPU (% of one core) over {args.seconds:g} s per stage size",
        ["space", "speakers", "server CPU %", "per speaker %", "marginal / speaker %",
         "bots CPU %", "server RSS MB", "mix fps/bot (min)", "late ticks"],
        rows,
    )  # fmt: skip
    parts = result["components_pct_of_core"]
    show(
        "What single steps cost (% of one core, at 50 frames/s, measured in this process)",
        ["step", "CPU %"],
        [
            ("Opus encode, one mix-minus (per speaker)", parts["opus_encode_pct"]),
            ("Opus decode, one microphone (per speaker)", parts["opus_decode_pct"]),
            ("mixer tick, 13 inputs (per space)", parts["mixer_tick_13_inputs_pct"]),
            ("AAC encode of the program (per space)", parts["aac_encode_pct"]),
        ],
    )
    data: dict[str, Any] = {
        "parameters": {"sizes": args.sizes, "seconds": args.seconds, "settle_s": args.settle},
        **result,
    }
    largest = max(stages) if stages else None
    if largest is not None:
        cpu = stages[largest]["server_cpu_pct"]
        data["full_spaces_per_core"] = {"speakers": largest, "spaces": round(100 / cpu, 1)}
        print(f"full {largest}-speaker spaces per core = 100 / {cpu:.1f} = {100 / cpu:.1f}")
    path = save("stage_cost", data, host=host)
    print(f"saved {path.relative_to(path.parent.parent.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,5,13", help="stage sizes, comma-separated (1-13)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per size")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before measuring")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or not all(1 <= s <= 13 for s in sizes):
        parser.error("sizes are 1 to 13")
    if not 1 <= args.seconds <= 60:
        parser.error("--seconds is 1 to 60")
    args.sizes = sizes
    host = machine()
    with quiet_logs():
        result = asyncio.run(run(sizes, args.seconds, args.settle))
    report(result, args, host)


if __name__ == "__main__":
    main()
