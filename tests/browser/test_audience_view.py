"""The audience follows the shared audience view, not a WebSocket of its own, in real Chromium.

The host goes live speaking 440 Hz. A signed-out viewer opens the space, taps Listen and hears
the host over LL-HLS; the page follows the stage (mute, unmute), the speaking ring on the host
and a reaction someone else sent (over the API), all from ``audience.json``, and never opens a
WebSocket. A signed-in listener does the same, then raises a hand: their page switches to the
event stream (a WebSocket opens, the host sees the request) while the audio plays on, from the
same <audio> element and hls.js instance, with no pause and no gap of silence; both pages say
how many hands are raised. Withdrawing the request takes them back to the audience view. The
host invites them: the page switches again and names the host. Declined, and back on the view
(reloaded, listening), they are removed by the host: the view tells their page, which shows
what the stream would have shown and stops the audio. A ticket holder follows the view under
their audio credential; a viewer without a ticket follows nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, Playwright, expect

from tests.browser.chromium import Screenshots, chromium, hear, wait_to_hear, write_tone_wav
from tests.browser.people import connection_state, sign_up
from tests.harness import PASSWORD, Server
from tests.integration.ticketing import buy_and_pay, ticketed_space

HOST_TONE = 440.0
#: The longest gap of silence allowed in what the listener hears while their page switches.
MAX_SILENCE_MS = 400
#: How long to keep listening after the switch before judging it (bounded by samples taken).
LISTEN_AFTER_SWITCH_MS = 1500

#: Before any page script: record every WebSocket the page opens, and keep every resource
#: timing entry (LL-HLS makes several requests a second; the default buffer keeps 250).
_RECORD = """
(() => {
  performance.setResourceTimingBufferSize(100000);
  const opened = (window.__salonSockets = []);
  const open = (window.__salonOpenSockets = new Set());
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      opened.push(String(url));
      open.add(this);
      this.addEventListener('close', () => open.delete(this));
    }
  };
})();
"""

#: From now on, watch the listen <audio> through the analyser `hear` tapped: its level every
#: 20 ms (the longest run below -60 dBFS), and any pause, emptied or abort on the element.
_MONITOR = """
(testid) => {
  const tap = window.__salonTaps[testid];
  const el = document.querySelector(`[data-testid="${testid}"]`);
  const analyser = window.__salonAudio.createAnalyser();
  analyser.fftSize = 1024;
  tap.source.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const m = { samples: 0, silentSince: null, longestSilenceMs: 0, events: [] };
  el.__salonMonitored = true;
  for (const type of ['pause', 'emptied', 'abort', 'loadstart']) {
    el.addEventListener(type, () => m.events.push(type));
  }
  m.hls = window.salonHls;
  setInterval(() => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    const db = 20 * Math.log10(Math.sqrt(sum / buf.length) + 1e-12);
    const now = performance.now();
    m.samples += 1;
    if (db < -60) {
      if (m.silentSince === null) m.silentSince = now;
      m.longestSilenceMs = Math.max(m.longestSilenceMs, now - m.silentSince);
    } else {
      m.silentSince = null;
    }
  }, 20);
  window.__salonMonitor = m;
}
"""

#: The host's page keeps its microphone streams, so the test can make the host pause.
_KEEP_MICROPHONE = """
(() => {
  const streams = (window.__salonMics = []);
  const media = navigator.mediaDevices;
  const get = media.getUserMedia.bind(media);
  media.getUserMedia = async (constraints) => {
    const stream = await get(constraints);
    streams.push(stream);
    return stream;
  };
})();
"""

_MICROPHONE_ON = """
(on) => {
  for (const stream of window.__salonMics) {
    for (const track of stream.getAudioTracks()) track.enabled = on;
  }
}
"""

_AUDIO_STATE = """
(testid) => {
  const el = document.querySelector(`[data-testid="${testid}"]`);
  const m = window.__salonMonitor;
  return {
    sameElement: el.__salonMonitored === true,
    paused: el.paused,
    events: m.events,
    longestSilenceMs: m.longestSilenceMs,
    sameHls: window.salonHls === m.hls,
    samples: m.samples,
  };
}
"""

#: The audio credential path segment (`{expires}.{listener}.{sig}`).
_CREDENTIAL = r"\d{1,12}\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{22}"

_AUDIENCE_VIEW_FETCHES = """
() => performance.getEntriesByType('resource')
  .map((entry) => entry.name)
  .filter((name) => name.includes('/audience.json'))
"""


async def _new_viewer(browser: Browser, server: Server) -> Page:
    """A signed-out viewer: a fresh browser context (no cookies), recording its WebSockets."""
    context = await browser.new_context(
        base_url=server.url, viewport={"width": 1100, "height": 900}
    )
    await context.add_init_script(_RECORD)
    page = await context.new_page()
    page.on("pageerror", lambda error: print(f"[viewer] page error: {error}"))
    return page


async def _sockets(page: Page) -> list[str]:
    opened: list[str] = await page.evaluate("window.__salonSockets")
    return opened


async def _audio_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = await page.evaluate(_AUDIO_STATE, "listen-audio")
    return state


async def test_the_audience_follows_the_view_and_acting_switches_to_the_stream(
    server: Server, playwright: Playwright, screenshots: Screenshots, tmp_path: Path
) -> None:
    host_mic = write_tone_wav(tmp_path / "host.wav", HOST_TONE)
    async with chromium(playwright, host_mic) as browser:
        # The host goes live, speaking.
        host = await sign_up(browser, server, "hana", "Hana Host")
        await host.context.add_init_script(_KEEP_MICROPHONE)
        await host.goto("/spaces/new")
        await host.get_by_label("Title").fill("Tones for everyone")
        await host.get_by_role("button", name="Start space").click()
        await connection_state(host, "Live")
        space_url = host.url
        space_id = space_url.rstrip("/").rsplit("/", 1)[1]
        host_id = (await (await host.context.request.get("/api/me")).json())["id"]
        await expect(host.get_by_role("button", name="Mute", exact=True)).to_be_visible()

        # A signed-out viewer opens the space and listens: the stage, the speaking ring on
        # the host, and the host's tone over LL-HLS.
        viewer = await _new_viewer(browser, server)
        await viewer.goto(space_url)
        await connection_state(viewer, "Live")
        await expect(viewer.get_by_test_id("stage-member")).to_have_count(1)
        await expect(viewer.get_by_role("heading", name="Audience")).to_be_visible()
        await viewer.get_by_role("button", name="Listen", exact=True).click()
        await wait_to_hear(viewer, "listen-audio", present=(HOST_TONE,))
        # The stage follows live: the host mutes and unmutes (the viewer sees both); the host
        # pauses and speaks again (the speaking ring goes, and comes back on the viewer's page).
        on_stage = viewer.locator(f'[data-testid="stage-member"][data-user-id="{host_id}"]')
        await host.get_by_role("button", name="Mute", exact=True).click()
        await expect(on_stage).to_have_attribute("data-muted", "true")
        await host.get_by_role("button", name="Unmute").click()
        await expect(on_stage).to_have_attribute("data-muted", "false")
        host_on_stage = host.get_by_test_id("stage-member")
        await host.evaluate(_MICROPHONE_ON, False)
        await expect(host_on_stage).to_have_attribute("data-speaking", "false")
        await expect(on_stage).to_have_attribute("data-speaking", "false")
        await host.evaluate(_MICROPHONE_ON, True)
        await expect(on_stage).to_have_attribute("data-speaking", "true")
        await wait_to_hear(viewer, "listen-audio", present=(HOST_TONE,))

        # Someone else in the audience reacts (over the API): it floats on the viewer's page.
        rex = await server.person("rex", display_name="Rex Reacts")
        await rex.join(space_id)
        await rex.ok("POST", f"/api/spaces/{space_id}/reactions", json={"emoji": "👏"})
        await expect(
            viewer.get_by_test_id("floating-reaction").filter(has_text="👏")
        ).to_be_visible()
        await expect(viewer.get_by_test_id("audience-count")).not_to_have_text("0")
        await screenshots.take(viewer, "signed-out-viewer-follows-the-view")

        # All of it came from the audience view, followed live; no WebSocket was opened.
        assert await _sockets(viewer) == []
        fetches: list[str] = await viewer.evaluate(_AUDIENCE_VIEW_FETCHES)
        assert any(f"/api/spaces/{space_id}/hls/audience.json" in url for url in fetches)
        assert any("audience.json?v=" in url for url in fetches), fetches

        # A signed-in listener follows the view too, until they act.
        lena = await sign_up(browser, server, "lena", "Lena Listener")
        await lena.context.add_init_script(_RECORD)
        await lena.goto(space_url)
        await connection_state(lena, "Live")
        await lena.get_by_role("button", name="Listen", exact=True).click()
        await wait_to_hear(lena, "listen-audio", present=(HOST_TONE,))
        await expect(lena.get_by_role("button", name="React 👏")).to_be_enabled()
        assert await _sockets(lena) == []

        # She raises a hand: her page switches to the event stream (the host sees the
        # request), and the audio plays on from the same element, player and hls.js.
        await lena.evaluate(_MONITOR, "listen-audio")
        await lena.get_by_role("button", name="Request to speak").click()
        await expect(lena.get_by_role("button", name="Withdraw request")).to_be_visible()
        await lena.wait_for_function("() => window.__salonSockets.length > 0")
        assert (await _sockets(lena))[0].endswith(f"/api/spaces/{space_id}/events")
        await expect(host.get_by_role("button", name="Approve Lena Listener")).to_be_visible()
        await connection_state(lena, "Live")
        switched_at = (await _audio_state(lena))["samples"]
        await lena.wait_for_function(
            "(n) => window.__salonMonitor.samples > n",
            arg=switched_at + LISTEN_AFTER_SWITCH_MS // 20,
        )
        state = await _audio_state(lena)
        assert state["sameElement"], "the <audio> element was replaced"
        assert state["sameHls"], "hls.js was restarted"
        assert not state["paused"], "the audio stopped"
        assert state["events"] == [], f"the <audio> element was interrupted: {state['events']}"
        assert state["longestSilenceMs"] < MAX_SILENCE_MS, state
        assert (await hear(lena, "listen-audio", HOST_TONE)).has(HOST_TONE)
        # The raised hands are counted, in the same words, from the view and on the stream.
        await expect(viewer.get_by_test_id("hands-raised")).to_have_text("✋ 1 hand raised")
        await expect(lena.get_by_test_id("hands-raised")).to_have_text("✋ 1 hand raised")
        await screenshots.take(lena, "hand-raised-on-the-stream-still-hearing")

        # Withdrawing the request makes her a plain listener again: back to the view, the
        # stream closed, the audio still playing.
        views: int = await lena.evaluate("window.salonAudienceViews")
        await lena.get_by_role("button", name="Withdraw request").click()
        await expect(lena.get_by_role("button", name="Request to speak")).to_be_visible()
        await lena.wait_for_function("(n) => window.salonAudienceViews > n", arg=views)
        await lena.wait_for_function("() => window.__salonOpenSockets.size === 0")
        state = await _audio_state(lena)
        assert state["sameElement"], state
        assert state["sameHls"], state
        assert not state["paused"], state
        assert state["events"] == [], state
        await expect(viewer.get_by_test_id("hands-raised")).to_have_count(0)
        await screenshots.take(lena, "back-on-the-view")

        # The host invites her: the view says so, her page switches to the stream, and the
        # invitation names the host (whose invited event it never saw).
        await host.get_by_role("button", name="Invite Lena Listener to speak").click()
        await expect(lena.get_by_text("Hana Host invited you to speak.")).to_be_visible()
        views = await lena.evaluate("window.salonAudienceViews")
        await lena.get_by_role("button", name="Decline invitation").click()
        await lena.wait_for_function("(n) => window.salonAudienceViews > n", arg=views)
        await lena.wait_for_function("() => window.__salonOpenSockets.size === 0")

        # On a fresh page (one that never had the stream, so never joins again by itself),
        # listening, the host removes her: the view names her, and her page shows what a
        # removed participant's stream shows, the audio stopped, no stream opened.
        await lena.reload()
        await connection_state(lena, "Live")
        await lena.get_by_role("button", name="Listen", exact=True).click()
        await lena.wait_for_function(
            "() => !document.querySelector('[data-testid=\"listen-audio\"]').paused"
        )
        sockets = len(await _sockets(lena))
        await host.get_by_role("button", name="Remove Lena Listener").click()
        await expect(
            lena.get_by_role("heading", name="You were removed from this space")
        ).to_be_visible()
        await connection_state(lena, "removed")
        await lena.wait_for_function(
            "() => document.querySelector('[data-testid=\"listen-audio\"]').paused"
        )
        assert len(await _sockets(lena)) == sockets
        await screenshots.take(lena, "removed-while-following-the-view")


async def test_a_ticket_holder_follows_the_view_under_their_credential(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    # A live ticketed space, set up over the API (the first account is an admin).
    host = await server.person("tia", display_name="Tia Tickets")
    await host.ok("PATCH", "/api/admin/users/tia", json={"can_sell_tickets": True})
    space = await ticketed_space(host, title="Paid tones")
    space_id = space["id"]
    buyer = await server.person("bo", display_name="Bo Buyer")
    await buy_and_pay(buyer, space_id)
    await host.ok("POST", f"/api/spaces/{space_id}/start")

    async with chromium(playwright) as browser:
        # The ticket holder's page follows the view under the audio credential, no WebSocket.
        page = await _new_viewer(browser, server)
        signed_in = await page.context.request.post(
            "/api/session", data={"handle": "bo", "password": PASSWORD}
        )
        assert signed_in.ok, await signed_in.text()
        await page.goto(f"/spaces/{space_id}")
        await connection_state(page, "Live")
        await expect(page.get_by_test_id("stage-member")).to_have_count(1)
        await page.wait_for_function("() => (window.salonAudienceViews ?? 0) > 1")
        fetches: list[str] = await page.evaluate(_AUDIENCE_VIEW_FETCHES)
        assert fetches, fetches
        assert all(
            re.search(rf"/api/spaces/{space_id}/hls/{_CREDENTIAL}/audience.json", url)
            for url in fetches
        ), fetches
        assert await _sockets(page) == []
        await screenshots.take(page, "ticket-holder-follows-the-view")

        # Without a ticket, the page follows nothing (the server would refuse it).
        stranger = await _new_viewer(browser, server)
        await stranger.goto(f"/spaces/{space_id}")
        await expect(stranger.get_by_text("This space is for ticket holders.")).to_be_visible()
        await expect(stranger.get_by_test_id("stage-member")).to_have_count(1)
        assert await stranger.evaluate(_AUDIENCE_VIEW_FETCHES) == []
        assert await _sockets(stranger) == []
