"""In the real browser: time from tapping "Listen" to first audio, and delay behind the speaker.

A host bot speaks over WebRTC: a quiet continuous 300 Hz tone (so there is always something to
hear) with a loud 1 kHz burst starting on a 20 ms frame once per ``--period``. A listener opens
the space in Debian's Chromium (the web app, signed out), a Web Audio analyser is tapped onto
the app's LL-HLS <audio> element before the tap, and the page notes, with the wall clock
(Date.now, the same clock as the bot's time.time):

    tap     the click on "Listen" (capture phase, before the app handles it)
    first   the first analyser window (~5 ms) with any signal in it
    burst   each onset of a loud burst

Tap → first audio = first - tap. Delay behind the speaker = burst onset heard - the moment the
bot handed that burst's first frame to WebRTC (``PcmTrack.sent_at``): mouth to ear, less the
audio device's own output latency. Each trial is a fresh browser context; hls.js's own
``latency`` figure is read at the end of each trial for comparison.

Run: .venv/bin/python -m bench.browser_listen [--trials 5] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from playwright.async_api import Browser, async_playwright
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS

from bench.common import (
    TimedSpeaker,
    build_stage,
    first_after,
    in_process_server,
    machine,
    quiet_logs,
    save,
    show,
    summary_ms,
)
from salon.bots.tracks import PcmTrack, tone
from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE

BED_HZ, BURST_HZ = 300.0, 1000.0

_DETECTOR = """
() => {
  const audio = document.querySelector('[data-testid="listen-audio"]');
  const ctx = new AudioContext();
  const source = ctx.createMediaElementSource(audio);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 256;
  source.connect(analyser);
  source.connect(ctx.destination);
  const window_ = new Float32Array(analyser.fftSize);
  const found = (window.__bench = { tap: null, first: null, bursts: [] });
  document.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    const listen = button && button.textContent.trim() === 'Listen';
    if (found.tap === null && listen) found.tap = Date.now();
  }, true);
  // A burst ends only after 100 ms below the lower threshold, so a dip inside one (a stall,
  // a playback-rate change) is not taken for a new onset.
  let loud = false, quietSince = null;
  setInterval(() => {
    analyser.getFloatTimeDomainData(window_);
    let peak = 0;
    for (const v of window_) peak = Math.max(peak, Math.abs(v));
    const now = Date.now();
    if (found.tap !== null && found.first === null && peak > 0.005) found.first = now;
    if (!loud && peak > 0.25) { loud = true; quietSince = null; found.bursts.push(now); }
    else if (loud && peak < 0.1) {
      quietSince = quietSince ?? now;
      if (now - quietSince >= 100) loud = false;
    } else if (loud) quietSince = null;
  }, 4);
  return ctx.resume();
}
"""


@dataclass
class Trial:
    tap_to_first_audio: float | None
    delays: list[float] = field(default_factory=list)
    hls_latency: float | None = None


def speech(period: float, burst_ms: int) -> tuple[np.ndarray[Any, Any], int]:
    """One period of the bot's signal, and the sample where its burst starts."""
    frame_s = FRAME_SAMPLES / SAMPLE_RATE
    frames = round(period / frame_s)
    burst_frames = max(1, round(burst_ms / 1000 / frame_s))
    onset = (frames - burst_frames) * FRAME_SAMPLES
    signal = tone(BED_HZ, frames * frame_s, level=0.05).astype(np.int32)
    signal[onset:] += tone(BURST_HZ, burst_frames * frame_s, level=0.6)
    return np.clip(signal, -32768, 32767).astype(np.int16), onset


async def trial(browser: Browser, url: str, seconds: float) -> tuple[Trial, list[float]]:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(url)
        listen = page.get_by_role("button", name="Listen", exact=True)
        await listen.wait_for()
        await page.evaluate(_DETECTOR)
        await listen.click()
        await asyncio.sleep(seconds)
        found = await page.evaluate("window.__bench")
        latency = await page.evaluate("window.salonHls ? window.salonHls.latency : null")
    finally:
        await context.close()
    tap, first = found["tap"], found["first"]
    result = Trial(
        tap_to_first_audio=(first - tap) / 1000 if tap and first else None,
        hls_latency=float(latency) if latency is not None else None,
    )
    return result, [b / 1000 for b in found["bursts"]]


async def measure(*, trials: int, seconds: float, period: float, burst_ms: int) -> list[Trial]:
    signal, onset = speech(period, burst_ms)
    async with in_process_server() as server:
        stage = await build_stage(server.url, 1, title="Browser listening")
        talker = PcmTrack(signal, loop=True)
        async with TimedSpeaker(server.url, stage.space_id, stage.tokens[0], talker, keep=False):
            await asyncio.sleep(2)  # the stream has parts before anyone taps
            results: list[Trial] = []
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS
                )
                for _ in range(trials):
                    begun = time.time()
                    result, heard = await trial(
                        browser, f"{server.url}/spaces/{stage.space_id}", seconds
                    )
                    sent = sorted(
                        t
                        for pts, t in talker.sent_at.items()
                        if pts % len(signal) == onset and t > begun
                    )
                    # The player catches up to its target over its first seconds: skip them.
                    settled = (result.tap_to_first_audio or 0) + 3
                    for t0 in sent:
                        # A burst is matched within one period: longer delays would be ambiguous.
                        t1 = first_after(heard, t0, period * 0.95)
                        if t1 is not None and t1 > begun + settled:
                            result.delays.append(t1 - t0)
                    results.append(result)
                await browser.close()
        await stage.end()
        await stage.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5, help="fresh listeners, one at a time")
    parser.add_argument("--seconds", type=float, default=10, help="listening time per trial")
    parser.add_argument("--period", type=float, default=2.0, help="seconds between bursts")
    parser.add_argument("--burst-ms", type=int, default=200, help="length of each burst")
    args = parser.parse_args()
    if not 1 <= args.trials <= 20 or not 5 <= args.seconds <= 60 or not 1 <= args.period <= 5:
        parser.error("use 1-20 trials of 5-60 s, and a period of 1-5 s")
    host = machine()
    with quiet_logs():
        results = asyncio.run(
            measure(
                trials=args.trials, seconds=args.seconds, period=args.period,
                burst_ms=args.burst_ms,
            )
        )  # fmt: skip
    taps = [r.tap_to_first_audio for r in results if r.tap_to_first_audio is not None]
    delays = [d for r in results for d in r.delays]
    latencies = [r.hls_latency for r in results if r.hls_latency is not None]
    figures = {
        "tap_to_first_audio": summary_ms(taps),
        "delay_behind_speaker": summary_ms(delays),
        "hls_js_latency": summary_ms(latencies),
    }
    show(
        f"Listening in Chromium: {len(results)} trials of {args.seconds:g} s (ms)",
        ["figure", "n", "median", "p95", "min", "max"],
        [
            (name, f.get("n", 0), f.get("median_ms", "—"), f.get("p95_ms", "—"),
             f.get("min_ms", "—"), f.get("max_ms", "—"))
            for name, f in figures.items()
        ],
    )  # fmt: skip
    missing = sum(r.tap_to_first_audio is None for r in results)
    if missing:
        print(f"{missing} trial(s) heard nothing")
    path = save(
        "browser_listen",
        {
            "parameters": vars(args),
            **figures,
            "trials": [
                {
                    "tap_to_first_audio_ms": round(r.tap_to_first_audio * 1000, 1)
                    if r.tap_to_first_audio is not None
                    else None,
                    "delay_median_ms": round(float(np.median(r.delays)) * 1000, 1)
                    if r.delays
                    else None,
                    "hls_js_latency_s": r.hls_latency,
                }
                for r in results
            ],
        },
        host=host,
    )
    print(f"saved {path.relative_to(path.parent.parent.parent)}")


if __name__ == "__main__":
    main()
