"""Two people in two real Chromiums, each with a fake microphone playing a tone, in one space.

The host speaks 440 Hz; the listener hears it over LL-HLS, asks to speak, is approved, and
speaks 660 Hz, which the host hears over WebRTC. A third person in the audience hears both over
LL-HLS. Reactions travel, mute silences a speaker for everyone, and ending the space ends it for
all. What each person hears is measured in their page by a Web Audio analyser.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Playwright, expect

from tests.browser.chromium import Screenshots, chromium, wait_to_hear, write_tone_wav
from tests.browser.people import connection_state, sign_up
from tests.harness import Server

HOST_TONE = 440.0
SPEAKER_TONE = 660.0


async def test_listen_speak_react_mute_and_end(
    server: Server, playwright: Playwright, screenshots: Screenshots, tmp_path: Path
) -> None:
    host_mic = write_tone_wav(tmp_path / "host.wav", HOST_TONE)
    speaker_mic = write_tone_wav(tmp_path / "speaker.wav", SPEAKER_TONE)
    async with (
        chromium(playwright, host_mic) as host_browser,
        chromium(playwright, speaker_mic) as speaker_browser,
    ):
        # The host opens a space and is live on its stage, speaking.
        host = await sign_up(host_browser, server, "hana", "Hana Host")
        await host.get_by_role("link", name="Start a space").first.click()
        await host.get_by_label("Title").fill("Tones at dusk")
        await host.get_by_label("Topics").fill("audio, testing")
        await host.get_by_role("button", name="Start space").click()
        await expect(host.get_by_role("heading", level=1)).to_have_text("Tones at dusk")
        await connection_state(host, "Live")
        space_url = host.url
        await expect(host.get_by_test_id("stage-member")).to_have_count(1)
        await screenshots.take(host, "host-live")

        # A listener signs up, opens the space and taps Listen: they hear the host over LL-HLS.
        lena = await sign_up(speaker_browser, server, "lena", "Lena Listener")
        await lena.goto(space_url)
        await connection_state(lena, "Live")
        # The audience is the listeners off the stage: Lena, not the host.
        await expect(lena.get_by_test_id("audience-count")).to_have_text("1")
        await lena.get_by_role("button", name="Listen").click()
        await wait_to_hear(lena, "listen-audio", present=(HOST_TONE,))
        await screenshots.take(lena, "listener-hears-host")

        # Someone else in the audience (no microphone needed) listens too.
        ana = await sign_up(host_browser, server, "ana", "Ana Audience")
        await ana.goto(space_url)
        await ana.get_by_role("button", name="Listen").click()
        await wait_to_hear(ana, "listen-audio", present=(HOST_TONE,))

        # The listener asks to speak; the host approves; the new speaker unmutes and talks.
        await lena.get_by_role("button", name="Request to speak").click()
        await expect(lena.get_by_role("button", name="Withdraw request")).to_be_visible()
        approve = host.get_by_role("button", name="Approve Lena Listener")
        await expect(approve).to_be_visible()
        await screenshots.take(host, "host-sees-request")
        await approve.click()
        await expect(host.get_by_test_id("stage-member")).to_have_count(2)
        await lena.get_by_role("button", name="Unmute").click()
        await expect(lena.get_by_role("button", name="Mute", exact=True)).to_be_visible()
        await wait_to_hear(host, "stage-audio", present=(SPEAKER_TONE,), absent=(HOST_TONE,))
        await wait_to_hear(lena, "stage-audio", present=(HOST_TONE,), absent=(SPEAKER_TONE,))
        await wait_to_hear(ana, "listen-audio", present=(HOST_TONE, SPEAKER_TONE))
        await screenshots.take(lena, "speaker-on-stage")
        await screenshots.take(host, "host-hears-speaker")

        # A reaction sent by one appears for the others.
        await lena.get_by_role("button", name="React 👏").click()
        await expect(host.get_by_test_id("floating-reaction").filter(has_text="👏")).to_be_visible()
        await expect(ana.get_by_test_id("floating-reaction").filter(has_text="👏")).to_be_visible()
        await screenshots.take(ana, "audience-sees-reaction")

        # The host mutes the speaker: their tone is gone for the host and for the audience.
        await host.get_by_role("button", name="Mute Lena Listener").click()
        await expect(lena.get_by_role("button", name="Unmute")).to_be_visible()
        await wait_to_hear(host, "stage-audio", absent=(SPEAKER_TONE,))
        await wait_to_hear(ana, "listen-audio", present=(HOST_TONE,), absent=(SPEAKER_TONE,))
        await screenshots.take(host, "host-muted-speaker")

        # The host ends the space, after confirming; it ends for everyone.
        await host.get_by_role("button", name="End space").click()
        dialog = host.get_by_role("dialog")
        await expect(dialog).to_be_visible()
        await screenshots.take(host, "confirm-end")
        await dialog.get_by_role("button", name="End space").click()
        for page in (host, lena, ana):
            await connection_state(page, "Ended")
        await screenshots.take(host, "ended-host")
        await screenshots.take(lena, "ended-speaker")
        await screenshots.take(ana, "ended-audience")
