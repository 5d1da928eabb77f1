"""A three-hour replay: the size of its first playlist, and tap → first audio.

Makes a recorded space, lets it record a few seconds of real audio, ends it, then fills its
recording folder with 11,250 segments (3 h of 0.96 s segments: one real fragment's bytes
under every name, and a timeline sidecar saying when the run began), as a three-hour space
leaves it. Then, with an HTTP client doing what hls.js does on a tap (not Chromium):
``/listen`` → playlist → init → the first entry (or the entry at ``?t=`` 1.5 h) → decoded
with PyAV. Reports the playlist's bytes beside what one entry per segment would weigh, the
first (cold: every file read once) and warm playlist times, and tap → first audio.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import time
from typing import Any

import av
import httpx
import m3u8

from bench.common import in_process_server, machine, register, save, show, summary_ms
from salon.bots.speaker import WhipSpeaker
from salon.bots.tracks import PcmTrack, tone
from salon.media.hls.playlist import render_vod
from salon.media.hls.recorder import read_recording
from salon.media.hls.stream import SEGMENT_SECONDS

PER_SEGMENT = "playlist_bytes_one_entry_per_segment"
MIDDLE = "tap_at_middle_to_first_audio"


def _first_audio(data: bytes) -> bool:
    with av.open(io.BytesIO(data), mode="r") as container:
        for frame in container.decode(audio=0):
            return frame.samples > 0
    return False


async def _tap(http: httpx.AsyncClient, sid: str, at: float) -> tuple[float, int]:
    """One tap: seconds until the first audio decodes, and the playlist's bytes."""
    began = time.perf_counter()
    url = (await http.get(f"/api/spaces/{sid}/listen")).json()["playlist_url"]
    playlist = await http.get(url)
    vod = m3u8.loads(playlist.text)
    base = url.rsplit("/", 1)[0] + "/"
    init = (await http.get(base + vod.segment_map[0].uri)).content
    elapsed = 0.0
    entry = vod.segments[0]
    for segment in vod.segments:  # the entry covering `at`, as hls.js's startPosition
        if elapsed + segment.duration > at:
            entry = segment
            break
        elapsed += segment.duration
    media = (await http.get(base + entry.uri)).content
    if not _first_audio(init + media):
        raise RuntimeError("no audio decoded")
    return time.perf_counter() - began, len(playlist.content)


async def run(hours: float, taps: int) -> dict[str, Any]:
    async with in_process_server() as server:
        host = await register(server.url)
        sid = (await host.ok("POST", "/api/spaces", json={"title": "Long", "recording": True}))[
            "id"
        ]
        token = await host.bot_token()
        await host.ok("POST", f"/api/spaces/{sid}/participants/{host.id}/unmute")
        async with WhipSpeaker(server.url, sid, token, PcmTrack(tone(440, 1))):
            await asyncio.sleep(3)  # a few real segments to copy
        await host.ok("POST", f"/api/spaces/{sid}/end")
        folder = server.settings.recordings_dir / sid
        real = read_recording(folder)
        sample = (folder / f"seg{real[1].msn}.m4s").read_bytes()
        first = real[0].msn
        count = round(hours * 3600 / SEGMENT_SECONDS)
        shutil.rmtree(folder / "unused", ignore_errors=True)
        for path in folder.glob("seg*.m4s"):
            path.unlink()
        for msn in range(first, first + count):
            (folder / f"seg{msn}.m4s").write_bytes(sample)
        per_segment = len(render_vod(read_recording(folder)).encode())

        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            cold, size = await _tap(http, sid, 0)
            warm = [(await _tap(http, sid, 0))[0] for _ in range(taps)]
            middle = [(await _tap(http, sid, hours * 1800))[0] for _ in range(taps)]
            playlist_times = []
            url = f"/api/spaces/{sid}/recording/index.m3u8"
            for _ in range(taps):
                began = time.perf_counter()
                (await http.get(url)).raise_for_status()
                playlist_times.append(time.perf_counter() - began)
        await host.http.aclose()
    return {
        "hours": hours,
        "segments": count,
        "playlist_bytes": size,
        "playlist_bytes_one_entry_per_segment": per_segment,
        "cold_tap_ms": round(cold * 1000, 1),
        "tap_to_first_audio": summary_ms(warm),
        "tap_at_middle_to_first_audio": summary_ms(middle),
        "warm_playlist": summary_ms(playlist_times),
        "client": "httpx doing what hls.js does (listen, playlist, init, one entry, PyAV decode)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--taps", type=int, default=7)
    args = parser.parse_args()
    figures = asyncio.run(run(args.hours, args.taps))
    show(
        f"A {args.hours:g} h replay",
        ["figure", "value"],
        [
            ["segments", figures["segments"]],
            ["first playlist (KB)", round(figures["playlist_bytes"] / 1000, 1)],
            [
                "one entry per segment (KB)",
                round(figures["playlist_bytes_one_entry_per_segment"] / 1000, 1),
            ],
            ["cold tap → first audio (ms)", figures["cold_tap_ms"]],
            ["tap → first audio, median (ms)", figures["tap_to_first_audio"]["median_ms"]],
            [
                "tap at ?t=middle → first audio, median (ms)",
                figures["tap_at_middle_to_first_audio"]["median_ms"],
            ],
            ["warm playlist, median (ms)", figures["warm_playlist"]["median_ms"]],
        ],
    )
    print(save("replay", figures, host=machine()))


if __name__ == "__main__":
    main()
