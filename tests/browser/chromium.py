"""Debian's Chromium driven by Playwright, with a fake microphone playing a real WAV file.

Chromium reads one fake-microphone file per browser process, so every person who speaks a
different sound gets their own browser. Pages get a small in-page Web Audio analyser to check
what a person actually hears: level and dominant frequency.
"""

from __future__ import annotations

import asyncio
import os
import re
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from playwright.async_api import Browser, Page, Playwright

CHROMIUM = os.environ.get("SALON_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
    # This machine's network is closed: without these Chromium keeps dialling Google.
    "--disable-background-networking",
    "--disable-component-update",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def write_tone_wav(
    path: Path, frequency: float, *, seconds: float = 10, level: float = 0.4
) -> Path:
    """A mono 48 kHz WAV of a sine tone (Chromium loops it as the microphone)."""
    rate = 48_000
    t = np.arange(int(seconds * rate)) / rate
    samples = (np.sin(2 * np.pi * frequency * t) * level * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


@asynccontextmanager
async def chromium(
    playwright: Playwright, microphone: Path | None = None
) -> AsyncIterator[Browser]:
    args = list(CHROMIUM_ARGS)
    if microphone is not None:
        args.append(f"--use-file-for-fake-audio-capture={microphone}")
    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        yield browser
    finally:
        await browser.close()


class Screenshots:
    """Numbered screenshots of each step, for a person to look at after the run."""

    def __init__(self, test_name: str) -> None:
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self._count = 0

    async def take(self, page: Page, step: str) -> Path:
        self._count += 1
        path = self.folder / f"{self._count:02d}-{step}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path


@dataclass(frozen=True)
class Heard:
    #: RMS level in dBFS over the last analysis window (about 170 ms).
    level_db: float
    #: Strongest frequency in Hz.
    frequency: float
    #: Spectrum level (dB) at each frequency asked about, and at the strongest one.
    tones: dict[float, float]
    peak_db: float

    def has(self, frequency: float, *, within_db: float = 20) -> bool:
        """The tone is audible: not silence, and near the strongest part of the spectrum."""
        return self.level_db > -60 and self.tones[frequency] >= self.peak_db - within_db

    def lacks(self, frequency: float, *, below_db: float = 35) -> bool:
        return self.level_db < -60 or self.tones[frequency] < self.peak_db - below_db


# Taps an <audio> element (HLS via MediaSource, or a WebRTC MediaStream in srcObject) into an
# AnalyserNode, once per stream, and keeps element audio playing to the speakers.
_TAP = """
(testid) => {
  window.__salonTaps = window.__salonTaps || {};
  const el = document.querySelector(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`no element ${testid}`);
  const ctx = (window.__salonAudio = window.__salonAudio || new AudioContext());
  let tap = window.__salonTaps[testid];
  if (!tap) {
    tap = { analyser: ctx.createAnalyser(), stream: null, source: null };
    tap.analyser.fftSize = 8192;
    tap.analyser.smoothingTimeConstant = 0;
    window.__salonTaps[testid] = tap;
  }
  if (el.srcObject instanceof MediaStream) {
    if (tap.stream !== el.srcObject) {
      if (tap.source) tap.source.disconnect();
      tap.stream = el.srcObject;
      tap.source = ctx.createMediaStreamSource(el.srcObject);
      tap.source.connect(tap.analyser);
    }
  } else if (!tap.source) {
    tap.source = ctx.createMediaElementSource(el);
    tap.source.connect(tap.analyser);
    tap.source.connect(ctx.destination);
  }
  return ctx.resume();
}
"""

_READ = """
([testid, asked]) => {
  const a = window.__salonTaps[testid].analyser;
  const time = new Float32Array(a.fftSize);
  a.getFloatTimeDomainData(time);
  let sum = 0;
  for (const v of time) sum += v * v;
  const level = 20 * Math.log10(Math.sqrt(sum / time.length) + 1e-12);
  const spectrum = new Float32Array(a.frequencyBinCount);
  a.getFloatFrequencyData(spectrum);
  const hz = a.context.sampleRate / a.fftSize;
  let best = 1;
  for (let i = 2; i < spectrum.length; i++) if (spectrum[i] > spectrum[best]) best = i;
  const near = (f) => {
    const bin = Math.round(f / hz);
    return Math.max(...spectrum.slice(Math.max(1, bin - 2), bin + 3));
  };
  return [level, best * hz, spectrum[best], asked.map(near)];
}
"""


async def hear(page: Page, testid: str, *frequencies: float) -> Heard:
    """What the person hears from the audio element with this data-testid, right now."""
    await page.evaluate(_TAP, testid)
    level, frequency, peak, tones = await page.evaluate(_READ, [testid, list(frequencies)])
    return Heard(
        level_db=float(level),
        frequency=float(frequency),
        tones=dict(zip(frequencies, map(float, tones), strict=True)),
        peak_db=float(peak),
    )


async def wait_to_hear(
    page: Page,
    testid: str,
    *,
    present: tuple[float, ...] = (),
    absent: tuple[float, ...] = (),
    within: float = 20,
) -> Heard:
    """Poll until every `present` tone is audible and every `absent` one is not."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        heard = await hear(page, testid, *present, *absent)
        if all(heard.has(f) for f in present) and all(heard.lacks(f) for f in absent):
            return heard
        if loop.time() > deadline:
            raise AssertionError(
                f"{testid}: wanted {present} and not {absent} within {within} s; heard {heard}"
            )
        await asyncio.sleep(0.25)
