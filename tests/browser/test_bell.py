"""The notification bell in the header, live in Chromium.

Bea follows Ana from Ana's profile (where the bell beside Unfollow turns Ana's "is live"
notifications off and on again) and stays on the home page. Ana starts a space through the
API; Bea's bell shows one unread notification, "Ana Host is live", without the page
reloading (the long-poll brings it). Opening the bell marks it read (the badge goes) and the
notification takes her to the space. Escape closes the list and gives focus back to the bell.
Last, Settings turns "is live" notifications off for every host.
"""

from __future__ import annotations

import re

from playwright.async_api import Playwright, expect

from tests.browser.chromium import Screenshots, chromium
from tests.browser.people import sign_up
from tests.harness import Server

#: Long enough for the long-poll to bring the notification, however busy the machine is.
LIVE_WITHIN_MS = 30_000


async def test_the_bell_tells_a_follower_that_a_host_is_live(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    ana = await server.person("ana", display_name="Ana Host")
    async with chromium(playwright) as browser:
        bea = await sign_up(browser, server, "bea", "Bea Follower")

        # Bea follows Ana; the bell beside Unfollow is on, and turns off and on again.
        await bea.goto("/users/ana")
        await bea.get_by_role("button", name="Follow", exact=True).click()
        await expect(bea.get_by_role("button", name="Unfollow")).to_be_visible()
        toggle = bea.get_by_role("button", name="Tell me when Ana Host goes live")
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-pressed", "false")
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        await screenshots.take(bea, "following-ana-live-notifications-on")

        # Bea waits on the home page, nothing unread; a mark shows the page is never reloaded.
        await bea.get_by_role("link", name="Salon").click()
        await expect(bea).to_have_url(re.compile(r"/$"))
        bell = bea.get_by_role("button", name=re.compile(r"^Notifications"))
        await expect(bell).to_have_accessible_name("Notifications")
        await bea.evaluate("window.__sameDocument = true")

        space = await ana.create_space("Morning show")
        assert space["state"] == "live", space

        await expect(bell).to_have_accessible_name(
            "Notifications, 1 unread", timeout=LIVE_WITHIN_MS
        )
        await expect(bea.get_by_test_id("bell-badge")).to_have_text("1")
        assert await bea.evaluate("window.__sameDocument === true")
        await screenshots.take(bea, "bell-shows-one-unread")

        # Opening the bell shows the notification and marks it read.
        await bell.click()
        await expect(bell).to_have_attribute("aria-expanded", "true")
        item = bea.get_by_role("link", name=re.compile("Ana Host is live: “Morning show”"))
        await expect(item).to_be_visible()
        await expect(bea.get_by_test_id("bell-badge")).to_have_count(0)
        await expect(bell).to_have_accessible_name("Notifications")
        await screenshots.take(bea, "bell-open-marked-read")
        listed = await bea.context.request.get("/api/me/notifications")
        assert listed.ok, await listed.text()
        body = await listed.json()
        assert body["unread"] == 0, body
        assert [n["kind"] for n in body["items"]] == ["host_live"], body

        # Escape closes it and gives the focus back to the bell.
        await bea.keyboard.press("Escape")
        await expect(item).to_have_count(0)
        await expect(bell).to_be_focused()
        await expect(bell).to_have_attribute("aria-expanded", "false")

        # On a phone the list fits the screen; the notification takes Bea to the space.
        await bea.set_viewport_size({"width": 375, "height": 740})
        await bell.click()
        await expect(item).to_be_in_viewport(ratio=1)
        await screenshots.take(bea, "bell-open-on-a-phone")
        await item.click()
        await expect(bea).to_have_url(re.compile(rf"/spaces/{re.escape(space['id'])}$"))
        await expect(bea.get_by_role("heading", level=1)).to_have_text("Morning show")
        await expect(item).to_have_count(0)
        assert await bea.evaluate("window.__sameDocument === true")

        # In Settings, one switch turns "is live" notifications off for every host.
        await bea.goto("/settings")
        everyone = bea.get_by_label("Tell me when people I follow go live")
        await expect(everyone).to_be_checked()
        await everyone.uncheck()
        await expect(bea.get_by_text("Saved.")).to_be_visible()
        me = await bea.context.request.get("/api/me")
        assert (await me.json())["notify_live"] is False
        await bea.reload()
        await expect(everyone).not_to_be_checked()
        await screenshots.take(bea, "settings-live-notifications-off")
