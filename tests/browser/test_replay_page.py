"""The replay page in real Chromium: opened with ``?t=``, it starts there, rings who spoke at
that moment, and floats a reaction when the playhead reaches it.

Two speaker bots take turns (300 Hz, 500 Hz) in a recorded space while a fan reacts during
the speaker's turn; the space ends. A signed-out viewer opens the share link at a moment of
the speaker's turn before the reaction and plays it.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Playwright, expect

from tests.browser.chromium import Screenshots, chromium, wait_to_hear
from tests.harness import Server
from tests.media.test_replays import HOST_HZ, take_turns


def _speakers_at(spoken: list[dict[str, Any]], t: float) -> set[int]:
    return {i["user_id"] for i in spoken if i["start"] <= t < i["end"]}


async def test_the_replay_page_opens_at_t_rings_the_speaker_and_floats_the_reaction(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    turns = await take_turns(server, emoji="💯", turns_before=4, turns_after=1)
    sid, speaker, fan = turns.space_id, turns.speaker, turns.fan
    replay = await fan.ok("GET", f"/api/spaces/{sid}/replay")
    (reaction,) = replay["reactions"]
    spoken = replay["speaking"]
    # A moment a few seconds before the reaction when only the speaker speaks (their
    # previous turn, or the start of this one).
    candidates = [
        round(reaction["at"] - step / 10, 1)
        for step in range(5, 60)
        if reaction["at"] - step / 10 > 0
        and _speakers_at(spoken, round(reaction["at"] - step / 10, 1)) == {speaker.id}
    ]
    assert candidates, (reaction, spoken)
    start = candidates[0]

    async with chromium(playwright) as browser:
        context = await browser.new_context(
            base_url=server.url, viewport={"width": 1100, "height": 1000}
        )
        page = await context.new_page()
        await page.goto(f"/spaces/{sid}?t={start}")
        player = page.get_by_test_id("replay-player")
        await expect(player).to_be_visible()
        minutes, seconds = divmod(int(start), 60)
        await expect(page.get_by_test_id("replay-elapsed")).to_have_text(f"{minutes}:{seconds:02d}")
        ringed = page.locator('[data-testid="replay-person"][data-speaking="true"]')
        await expect(ringed).to_have_count(1)
        await expect(ringed).to_have_attribute("data-user-id", str(speaker.id))
        await expect(page.get_by_test_id("replay-expires")).to_contain_text("available until")
        link = await page.get_by_test_id("replay-share-link").input_value()
        assert link.endswith(f"/spaces/{sid}?t={int(start)}")
        await screenshots.take(page, "opened-at-t")

        await page.get_by_role("button", name="Play from").click()
        floating = page.get_by_test_id("replay-reaction")
        await expect(floating).to_have_count(1, timeout=20_000)
        # Where the media element is now: at (just past) the reaction's moment, and playback
        # began at ?t=, not at the start.
        played = await page.evaluate(
            """() => {
              const a = document.querySelector('[data-testid="replay-audio"]');
              return [a.currentTime, a.played.length ? a.played.start(0) : -1];
            }"""
        )
        assert reaction["at"] <= played[0] <= reaction["at"] + 1.5, (played, reaction)
        assert abs(played[1] - start) < 0.5, (played, start)
        await expect(floating).to_have_text("💯")
        assert float(await floating.get_attribute("data-at") or -1) == reaction["at"]
        await screenshots.take(page, "reaction-floating")
        # And the recording really plays: both voices come through the element in turn.
        await wait_to_hear(page, "replay-audio", present=(HOST_HZ,), within=10)
        await context.close()
