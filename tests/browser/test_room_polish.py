"""The room as a new user met it, in real Chromium with fake microphones.

- On a phone (375×667) the host sees their stage, their own tile and mic controls, without
  scrolling.
- Someone who opens the room while the host talks sees the speaking ring at once (the
  snapshot or the audience view says who speaks now; no speaking event comes while it holds).
- A speaker muted by the host is told so, apart from muting themself.
- A floating reaction names its sender, and floats above the sticky reaction bar and header
  on a desktop-size page (the bar, then the header, is moved over a held-still float and the
  page hit-tested there).
- The audience counts the listeners off the stage.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, Playwright, expect

from tests.browser.chromium import Screenshots, chromium, write_tone_wav
from tests.browser.people import connection_state, sign_up
from tests.harness import Server

PHONE = (375, 667)
DESKTOP = (1280, 800)

#: Is the element wholly inside the viewport, with the page not scrolled?
_IN_VIEW = """
(element) => {
  const box = element.getBoundingClientRect();
  return window.scrollY === 0 && box.top >= 0 && box.left >= 0 &&
    box.bottom <= window.innerHeight && box.right <= window.innerWidth;
}
"""

#: With the float held still (no animation) and the reaction bar (or header) moved over it:
#: is the float what is on top at its centre? Hit-testing skips pointer-events: none, so the
#: floats take pointer events for the check.
_ON_TOP_OF = """
([floatEl, selector]) => {
  const style = document.createElement('style');
  style.textContent = '.floating-reaction, .floating-reaction * ' +
    '{ pointer-events: auto !important; animation: none !important; opacity: 1 !important; }';
  document.head.append(style);
  const cover = document.querySelector(selector);
  const bar = cover.getBoundingClientRect();
  // Out of the flow first (the sticky header took room above the float), then measure.
  cover.style.position = 'fixed';
  cover.style.left = '0';
  cover.style.right = '0';
  cover.style.bottom = 'auto';
  const box = floatEl.getBoundingClientRect();
  const x = box.left + box.width / 2;
  const y = box.top + box.height / 2;
  cover.style.top = `${y - bar.height / 2}px`;
  const under = document.elementFromPoint(x, y);
  // This float, or another one that rose to the same place (all floats share one layer):
  // either way a reaction, not the cover, is on top.
  const onTop = under !== null && under.closest('.floating-reaction') !== null;
  cover.style.cssText = '';
  style.remove();
  return { onTop, what: under ? String(under.className) : null };
}
"""


async def _in_view(page: Page, test_id: str) -> bool:
    return bool(await page.get_by_test_id(test_id).first.evaluate(_IN_VIEW))


async def test_phone_stage_late_ring_muted_by_host_and_named_reactions(
    server: Server, playwright: Playwright, screenshots: Screenshots, tmp_path: Path
) -> None:
    mic = write_tone_wav(tmp_path / "tone.wav", 440.0)
    async with chromium(playwright, mic) as browser:
        # The host starts a space from a phone.
        host = await sign_up(browser, server, "hana", "Hana Host", viewport=PHONE)
        await host.goto("/spaces/new")
        await host.get_by_label("Title").fill("Pocket show")
        await host.get_by_role("button", name="Start space").click()
        await connection_state(host, "Live")
        mine = host.get_by_test_id("stage-member")
        await expect(mine).to_have_count(1)
        await expect(host.get_by_role("button", name="Mute", exact=True)).to_be_visible()
        await host.evaluate("window.scrollTo(0, 0)")
        await screenshots.take(host, "phone-host-stage")
        assert await _in_view(host, "stage-member"), "the host's own tile is below the fold"
        assert await _in_view(host, "my-mic"), "the host's mic control is below the fold"
        # The host talks (a tone): the ring shows.
        await expect(mine).to_have_attribute("data-speaking", "true", timeout=20_000)
        space_url = host.url

        # Someone opens the room while the host talks: the ring is there without a change.
        lena = await sign_up(browser, server, "lena", "Lena Late", viewport=DESKTOP)
        await lena.goto(space_url)
        await connection_state(lena, "Live")
        await expect(lena.get_by_test_id("stage-member").first).to_have_attribute(
            "data-speaking", "true"
        )
        await screenshots.take(lena, "late-joiner-sees-ring")

        # Lena comes on stage; the host mutes her: her controls say the host did.
        await lena.get_by_role("button", name="Request to speak").click()
        await host.get_by_role("button", name="Approve Lena Late").click()
        await lena.get_by_role("button", name="Unmute").click()
        await expect(lena.get_by_role("button", name="Mute", exact=True)).to_be_visible()
        await host.get_by_role("button", name="Mute Lena Late").click()
        await expect(lena.get_by_test_id("muted-by")).to_contain_text("Muted by the host")
        await screenshots.take(lena, "muted-by-the-host")
        # Unmuting and muting herself is not the host's doing.
        await lena.get_by_role("button", name="Unmute").click()
        await expect(lena.get_by_test_id("muted-by")).to_have_count(0)
        await lena.get_by_role("button", name="Mute", exact=True).click()
        await expect(lena.get_by_role("button", name="Unmute")).to_be_visible()
        await expect(lena.get_by_test_id("muted-by")).to_have_count(0)

        # Ana in the audience, on a desktop-size page, sees reactions named and on top.
        ana = await sign_up(browser, server, "ana", "Ana Audience", viewport=DESKTOP)
        await ana.goto(space_url)
        await connection_state(ana, "Live")
        # The audience is the listeners off the stage: Ana, not Hana and Lena on it.
        await expect(ana.get_by_test_id("audience-count")).to_have_text("1")
        await expect(ana.get_by_test_id("stage-member")).to_have_count(2)
        await lena.get_by_role("button", name="React 👏").click()
        floating = ana.get_by_test_id("floating-reaction").filter(has_text="👏")
        await expect(floating).to_be_visible()
        await expect(floating.get_by_test_id("reaction-sender")).to_have_text("Lena Late")
        await expect(
            host.get_by_test_id("floating-reaction")
            .filter(has_text="👏")
            .get_by_test_id("reaction-sender")
        ).to_have_text("Lena Late")
        await screenshots.take(ana, "reaction-named")
        for cover in (".reaction-bar-wrap", ".site-header"):
            await ana.get_by_role("button", name="React 👍").click()
            thumbs = ana.get_by_test_id("floating-reaction").filter(has_text="👍").last
            await expect(thumbs).to_be_visible()
            result = await thumbs.evaluate(f"(el) => ({_ON_TOP_OF})([el, {cover!r}])")
            assert result["onTop"], f"a reaction rises behind {cover}: {result}"
