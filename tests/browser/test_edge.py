"""Listening to a ticketed space through the caching edge, in Chromium, over HTTPS and HTTP/2.

One server (audio credentials live 10 s) and one edge (nginx, its audio cache) in front of it. The
host signs up, sells tickets, starts the space and speaks a 440 Hz tone over WHIP, keeping its
event stream; a buyer pays on the test checkout page, listens through the edge and hears the
tone. Then, after 3 s to settle, for 40 s while the web client renews the credential (at 70 %
of its life, every 7 s): an in-page analyser sampled every 20 ms must find no gap of silence
over 200 ms, the <audio> element no `waiting`, hls.js no stall or fatal error, and no audio
request may be refused. Every request goes over HTTP/2 (checked in the page with Resource
Timing's nextHopProtocol).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Page, Playwright, Response, expect

from salon.edge import Edge, free_ports
from tests.browser.chromium import Screenshots, chromium, hear, wait_to_hear, write_tone_wav
from tests.browser.people import IN_AN_HOUR, connection_state, sign_up
from tests.conftest import ServerFactory

HOST_TONE = 440.0
CREDENTIAL_SECONDS = 10
#: How long the buyer listens while credentials are renewed (a renewal every 7 s: three
#: fall within it).
LISTEN_SECONDS = 26
MIN_RENEWALS = 3
#: Stalls and silences in the first seconds after playback starts are reported, not failed:
#: hls.js sometimes stalls once at the first segment boundary of a stream seconds old (see
#: the report), which is no renewal's doing (the first comes ~5 s in).
SETTLE_MS = 3000
#: The longest gap of silence allowed while listening, and how often the page samples.
MAX_SILENCE_MS = 200
SAMPLE_MS = 20

_CREDENTIAL = r"\d{1,12}\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{22}"
_AUDIO_URL = re.compile(rf"/api/spaces/[A-Za-z0-9_-]+/hls/({_CREDENTIAL})/[^/?#]+")

# Resource Timing keeps 250 entries by default; LL-HLS makes several requests a second.
_MORE_RESOURCE_TIMING = "performance.setResourceTimingBufferSize(100000)"

#: From now on, watch the listen <audio>: its level every SAMPLE_MS through a short analyser
#: (1024 samples, ~21 ms) on the tap `hear` made, `waiting` events, and hls.js errors.
_MONITOR = """
([testid, sampleMs, silentDb]) => {
  const tap = window.__salonTaps[testid];
  const el = document.querySelector(`[data-testid="${testid}"]`);
  const analyser = window.__salonAudio.createAnalyser();
  analyser.fftSize = 1024;
  analyser.smoothingTimeConstant = 0;
  tap.source.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const started = performance.now();
  const m = {
    started,
    samples: 0, silences: [], silentSince: null, maxSampleGapMs: 0, last: null,
    minDb: 0, sumDb: 0, waiting: [], seeking: [], rates: [], errors: [],
    startTime: el.currentTime, hls: window.salonHls,
  };
  window.__salonMonitor = m;
  const sample = () => {
    const now = performance.now();
    if (m.last !== null) m.maxSampleGapMs = Math.max(m.maxSampleGapMs, now - m.last);
    m.last = now;
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    const db = 20 * Math.log10(Math.sqrt(sum / buf.length) + 1e-12);
    m.samples += 1;
    m.minDb = Math.min(m.minDb, db);
    m.sumDb += db;
    if (db < silentDb) {
      if (m.silentSince === null) m.silentSince = now;
    } else if (m.silentSince !== null) {
      m.silences.push([Math.round(m.silentSince - started), Math.round(now - m.silentSince)]);
      m.silentSince = null;
    }
  };
  m.timer = setInterval(sample, sampleMs);
  const at = () => Math.round(performance.now() - started);
  el.addEventListener("waiting", () => m.waiting.push(at()));
  // For the report: jumps and the catch-up's rate changes (either may be heard).
  el.addEventListener("seeking", () => m.seeking.push(at()));
  el.addEventListener("ratechange", () => m.rates.push([at(), el.playbackRate]));
  window.salonHls.on("hlsError", (_event, data) => {
    m.errors.push({
      at: at(),
      details: data.details,
      fatal: data.fatal,
      code: data.response ? data.response.code : null,
    });
  });
}
"""

_REPORT = r"""
(testid) => {
  const m = window.__salonMonitor;
  clearInterval(m.timer);
  const now = performance.now();
  if (m.silentSince !== null) {
    m.silences.push([Math.round(m.silentSince - m.started), Math.round(now - m.silentSince)]);
  }
  const el = document.querySelector(`[data-testid="${testid}"]`);
  // On a stall: the audio requests of the 3 s before it (name, start, duration, relative ms).
  const requests = performance.getEntriesByType("resource").filter((e) => e.name.includes("/hls/"));
  const around = m.waiting.map((w) => requests
    .filter((e) => e.startTime - m.started > w - 3000 && e.startTime - m.started < w + 500)
    .map((e) => [e.name.replace(/^.*\/hls\/[^/]+\//, ""), Math.round(e.startTime - m.started),
      Math.round(e.responseEnd - e.startTime)]));
  const listens = performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("/listen"))
    .map((e) => [Math.round(e.startTime - m.started), Math.round(e.responseEnd - e.startTime)]);
  return {
    around,
    listens,
    samples: m.samples,
    silences: m.silences,
    maxSampleGapMs: Math.round(m.maxSampleGapMs),
    minDb: m.minDb,
    meanDb: m.sumDb / Math.max(1, m.samples),
    waiting: m.waiting,
    seeking: m.seeking,
    rates: m.rates,
    errors: m.errors,
    played: el.currentTime - m.startTime,
    sameHls: m.hls === window.salonHls,
  };
}
"""

#: The protocol of the page itself and of every audio request it made.
_PROTOCOLS = """
() => ({
  page: performance.getEntriesByType("navigation").map((e) => e.nextHopProtocol),
  audio: performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("/hls/"))
    .map((e) => e.nextHopProtocol),
})
"""


@dataclass
class Traffic:
    """What the buyer's page asked the edge for, from Playwright's view of the network."""

    #: (seconds since start, status) of every /listen answer.
    listens: list[tuple[float, int]] = field(default_factory=list)
    #: Every audio request's status, and each credential with how many requests carried it.
    audio_statuses: dict[int, int] = field(default_factory=dict)
    credentials: dict[str, int] = field(default_factory=dict)
    other_origins: set[str] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)

    def watch(self, page: Page, origin: str) -> None:
        page.on("response", self.seen(origin))

    def seen(self, origin: str) -> Any:
        def on_response(response: Response) -> None:
            url = response.url
            if not url.startswith(origin):
                self.other_origins.add(url.split("/api/", 1)[0])
                return
            if url.split("?", 1)[0].endswith("/listen"):
                self.listens.append((time.monotonic() - self.started, response.status))
                return
            match = _AUDIO_URL.search(url)
            if match is not None:
                self.audio_statuses[response.status] = (
                    self.audio_statuses.get(response.status, 0) + 1
                )
                # The player's credentials; the audience view renews its own beside them.
                if "/audience.json" not in url:
                    credential = match.group(1)
                    self.credentials[credential] = self.credentials.get(credential, 0) + 1

        return on_response


async def test_listen_through_the_edge_across_credential_renewals(
    make_server: ServerFactory, playwright: Playwright, screenshots: Screenshots, tmp_path: Path
) -> None:
    began = time.monotonic()
    host_mic = write_tone_wav(tmp_path / "host.wav", HOST_TONE)
    http_port, https_port = free_ports(2)
    async with (
        make_server(audio_credential_seconds=CREDENTIAL_SECONDS) as server,
        Edge(
            origin_port=server.port,
            http_port=http_port,
            https_port=https_port,
            directory=tmp_path / "edge",
            edge_secret=server.settings.edge_secret(),
        ) as edge,
        chromium(playwright, host_mic) as browser,
    ):
        base = edge.https_url

        # The host (the first account: an admin, who grants themselves ticket selling)
        # schedules a ticketed space, all through the edge.
        host = await sign_up(browser, server, "hana", "Hana Host", base_url=base)
        granted = await host.context.request.patch(
            "/api/admin/users/hana", data={"can_sell_tickets": True}
        )
        assert granted.ok, await granted.text()
        await host.goto("/spaces/new")
        await host.get_by_label("Title").fill("Tones at the edge")
        await host.get_by_label("Sell tickets").check()
        await host.get_by_label("Ticket price (USD)").fill("5")
        await host.get_by_label("Tickets available").fill("10")
        await host.get_by_label("Schedule", exact=True).check()
        await host.get_by_label("Start time").fill(await host.evaluate(IN_AN_HOUR))
        await host.get_by_role("button", name="Schedule space").click()
        await expect(host.get_by_role("heading", level=1)).to_have_text("Tones at the edge")
        space_url = host.url

        # A buyer pays on the test checkout page (and comes back to the edge).
        buyer = await sign_up(browser, server, "bo", "Bo Buyer", base_url=base)
        await buyer.context.add_init_script(_MORE_RESOURCE_TIMING)
        await buyer.goto(space_url)
        await buyer.get_by_role("button", name="Buy ticket").click()
        await buyer.get_by_role("button", name="Pay $5.00 (test mode)").click()
        await expect(buyer.get_by_text("Payment received — you have a ticket")).to_be_visible()
        assert buyer.url.startswith(base), buyer.url

        # The host starts the space and speaks over WHIP, keeping its event stream.
        await host.get_by_role("button", name="Start space").click()
        await connection_state(host, "Live")
        await screenshots.take(host, "host-live")

        # The buyer listens through the edge and hears the host.
        traffic = Traffic()
        traffic.watch(buyer, base)
        await buyer.reload()
        await connection_state(buyer, "Live")
        await buyer.get_by_role("button", name="Listen", exact=True).click()
        await wait_to_hear(buyer, "listen-audio", present=(HOST_TONE,))
        await expect(buyer.get_by_text("Live ·")).to_be_visible()
        await screenshots.take(buyer, "buyer-hears-host")

        # ~40 s of listening across credential renewals: no stall, no silence, no refusal.
        await buyer.evaluate(_MONITOR, ["listen-audio", SAMPLE_MS, -50])
        renewals_before = len(traffic.listens)
        monitored = time.monotonic()
        await asyncio.sleep(SETTLE_MS / 1000 + LISTEN_SECONDS)
        report: dict[str, Any] = await buyer.evaluate(_REPORT, "listen-audio")
        listened = time.monotonic() - monitored
        heard = await hear(buyer, "listen-audio", HOST_TONE)
        protocols: dict[str, list[str]] = await buyer.evaluate(_PROTOCOLS)
        await screenshots.take(buyer, "buyer-after-renewals")
        await connection_state(host, "Live")
        await screenshots.take(host, "host-still-live")

    renewals = [status for _, status in traffic.listens[renewals_before:]]
    print(
        f"edge listening: {listened:.1f} s, renewals {renewals} at "
        f"{[round(t, 1) for t, _ in traffic.listens]} s, credentials used "
        f"{list(traffic.credentials.values())}, audio statuses {traffic.audio_statuses}, "
        f"protocols {sorted(set(protocols['audio']))} ({len(protocols['audio'])} entries), "
        f"monitor {report}, heard {heard}; whole test {time.monotonic() - began:.1f} s"
    )

    assert not traffic.other_origins, traffic.other_origins
    # HTTP/2 for the page and for every audio request.
    assert protocols["page"] == ["h2"], protocols
    assert protocols["audio"], protocols
    assert set(protocols["audio"]) == {"h2"}, sorted(set(protocols["audio"]))

    # At least three renewals, each taken up by the requests that followed it.
    assert len(renewals) >= MIN_RENEWALS, traffic.listens
    assert set(renewals) == {200}, traffic.listens
    assert len(traffic.credentials) >= 1 + MIN_RENEWALS, traffic.credentials
    assert set(traffic.audio_statuses) == {200}, traffic.audio_statuses

    # Playing all along: the tone still there, no stall, no gap of silence.
    assert heard.has(HOST_TONE), heard
    assert abs(heard.frequency - HOST_TONE) < 12, heard
    assert report["sameHls"], "the player was restarted"
    assert [e for e in report["errors"] if e["fatal"]] == [], report
    settled = [at for at in report["waiting"] if at >= SETTLE_MS]
    assert settled == [], report
    stalls = [e for e in report["errors"] if "Stall" in e["details"] and e["at"] >= SETTLE_MS]
    assert stalls == [], report
    assert report["samples"] >= listened * 1000 / SAMPLE_MS * 0.8, report
    assert report["maxSampleGapMs"] < MAX_SILENCE_MS, report
    long_silences = [
        (at, ms) for at, ms in report["silences"] if ms > MAX_SILENCE_MS and at >= SETTLE_MS
    ]
    assert long_silences == [], report
    assert report["played"] >= listened * 0.95, report
