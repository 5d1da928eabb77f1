"""What a new user met before the room: overlong input, scheduled spaces, the follower rule.

- A handle or a title over its limit is not cut in the browser (no maxLength): the live
  counter runs past the limit and the server's refusal (422, naming the limit) is shown.
- A scheduled space says it is scheduled, and when, on its card and on its page.
- The follower rule for hosting shows before the new-space form, with how many to go; a
  signed-out visitor's "Start a space" leads to signing in.
"""

from __future__ import annotations

from playwright.async_api import Playwright, expect

from tests.browser.chromium import Screenshots, chromium
from tests.browser.people import IN_AN_HOUR, sign_up
from tests.conftest import ServerFactory
from tests.harness import PASSWORD, Server


async def test_overlong_handle_and_title_are_refused_not_cut(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    async with chromium(playwright) as browser:
        context = await browser.new_context(
            base_url=server.url, viewport={"width": 1100, "height": 900}
        )
        page = await context.new_page()
        await page.goto("/signup")
        handle = page.get_by_label("Handle")
        await handle.fill("a" * 16)
        # Nothing was cut: the field holds all 16, and the counter says it is over.
        await expect(handle).to_have_value("a" * 16)
        assert await handle.get_attribute("maxlength") is None
        await expect(
            page.locator("#signup-handle-hint").get_by_test_id("char-count")
        ).to_contain_text("16/15")
        await page.get_by_label("Display name").fill("Sixteen")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign up").click()
        await expect(page.get_by_role("alert")).to_contain_text("1 to 15")
        await screenshots.take(page, "handle-refused")
        # No 15-character account was made: the page still asks, and that handle is free.
        await expect(page).to_have_url(f"{server.url}/signup")
        free = await page.request.get(f"/api/users/{'a' * 15}")
        assert free.status == 404

        await handle.fill("a" * 15)
        await page.get_by_role("button", name="Sign up").click()
        await expect(page.get_by_role("button", name="Sign out")).to_be_visible()

        await page.goto("/spaces/new")
        title = page.get_by_label("Title")
        long_title = "t" * 300
        await title.fill(long_title)
        await expect(title).to_have_value(long_title)
        await expect(
            page.locator("#space-title-hint").get_by_test_id("char-count")
        ).to_contain_text("300/70")
        await page.get_by_role("button", name="Start space").click()
        await expect(page.get_by_role("alert")).to_contain_text("1 to 70")
        await screenshots.take(page, "title-refused")
        await expect(page).to_have_url(f"{server.url}/spaces/new")
        live = await page.request.get("/api/spaces?state=live")
        assert await live.json() == []
        # Seventy emoji are seventy characters (an input's maxLength would count 140).
        await title.fill("🎙" * 70)
        await expect(page.locator("#space-title-hint").get_by_test_id("char-count")).to_have_text(
            "70/70"
        )
        await page.get_by_role("button", name="Start space").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("🎙" * 70)


async def test_a_scheduled_space_says_scheduled_and_when(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    async with chromium(playwright) as browser:
        host = await sign_up(browser, server, "sched", "Sam Scheduler")
        await host.goto("/spaces/new")
        await host.get_by_label("Title").fill("Later today")
        await host.get_by_label("Schedule").check()
        start = await host.evaluate(IN_AN_HOUR)
        await host.get_by_label("Start time").fill(start)
        await host.get_by_role("button", name="Schedule space").click()
        await expect(host.get_by_role("heading", level=1)).to_have_text("Later today")
        # The local time it starts, as the browser writes it.
        time = await host.evaluate(
            "(v) => new Date(v).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })",
            start,
        )
        status = host.get_by_test_id("connection-state")
        await expect(status).to_contain_text("Scheduled · starts")
        await expect(status).to_contain_text(time)
        await expect(status).not_to_contain_text("Live")
        await expect(host.locator(".room-title-row")).to_contain_text("Scheduled")
        await expect(host.locator(".room-title-row .pill-live")).to_have_count(0)
        await screenshots.take(host, "space-page-scheduled")

        await host.goto("/")
        card = host.get_by_role("article").filter(has_text="Later today")
        when = card.get_by_test_id("space-card-when")
        await expect(when).to_contain_text("Scheduled ·")
        await expect(when).to_contain_text(time)
        await expect(card.locator(".pill-live")).to_have_count(0)
        await screenshots.take(host, "space-card-scheduled")


async def test_the_follower_rule_shows_before_the_form(
    make_server: ServerFactory, playwright: Playwright, screenshots: Screenshots
) -> None:
    async with make_server(host_min_followers=3) as server, chromium(playwright) as browser:
        await server.person("admin")  # the first account: exempt from the rule
        nova = await sign_up(browser, server, "nova", "Nova Newcomer")
        await nova.goto("/spaces/new")
        rule = nova.get_by_test_id("hosting-rule")
        await expect(rule).to_contain_text("needs 3 followers")
        await expect(rule).to_contain_text("3 to go")
        # No form to fill for a refusal at its end.
        await expect(nova.get_by_label("Title")).to_have_count(0)
        await screenshots.take(nova, "hosting-rule-up-front")

        # Signed out, "Start a space" leads to signing in, not to a form.
        visitor = await (await browser.new_context(base_url=server.url)).new_page()
        await visitor.goto("/")
        await visitor.get_by_role("link", name="Start a space").first.click()
        await expect(visitor.get_by_label("Title")).to_have_count(0)
        await visitor.get_by_role("link", name="Sign in").last.click()
        await expect(visitor).to_have_url(f"{server.url}/signin?next=/spaces/new")
        await screenshots.take(visitor, "signed-out-start")
