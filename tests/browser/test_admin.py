"""The admin screen in Chromium: who may open it, people found and changed, live spaces with
their audience, the instance's settings.

The admin grants ticket selling to another person from the screen, and that person can then
schedule a ticketed space (refused before the grant).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import Playwright, expect

from tests.browser.chromium import Screenshots, chromium
from tests.browser.people import sign_up
from tests.harness import Server


async def test_admin_grants_ticket_selling_from_the_screen(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    async with chromium(playwright) as browser:
        admin = await sign_up(browser, server, "ada", "Ada Admin")  # the first account
        sam = await server.person("sam", display_name="Sam Seller")
        for handle in ("sa_other", "zed"):
            await server.person(handle)
        ticketed = {
            "title": "Paid talk",
            "scheduled_for": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "ticket": {"price_cents": 500, "cap": 10},
        }
        await sam.call("POST", "/api/spaces", status=403, json=ticketed)

        # A live space with one listener shows with its host and audience.
        host = await server.person("hal", display_name="Hal Host")
        live = await host.create_space("Morning show")
        await (await server.person("lou")).join(live["id"])

        await admin.get_by_role("link", name="Admin", exact=True).click()
        await expect(admin.get_by_role("heading", name="Admin", level=1)).to_be_visible()
        row = admin.get_by_role("row").filter(has_text="Morning show")
        await expect(row).to_contain_text("@hal")
        await expect(row.get_by_role("cell").nth(1)).to_have_text("1")
        await expect(row.get_by_role("link", name="Morning show")).to_have_attribute(
            "href", f"/spaces/{live['id']}"
        )
        followers = admin.get_by_role("row").filter(has_text="SALON_HOST_MIN_FOLLOWERS")
        await expect(followers.get_by_role("cell").first).to_have_text("0")
        await expect(admin.get_by_text("SALON_RECORDING_DAYS")).to_be_visible()
        await expect(admin.get_by_text("SALON_PAYMENT_PROVIDER")).to_be_visible()
        await expect(admin.get_by_text("SALON_REGISTRATION")).to_be_visible()
        await screenshots.take(admin, "admin-screen")

        await admin.get_by_label("Find people").fill("sam seller")
        await admin.get_by_role("button", name="Search").click()
        await expect(admin.get_by_text("1 person matching “sam seller”")).to_be_visible()
        person = admin.get_by_role("listitem", name="@sam")
        await person.get_by_role("button", name="Grant ticket selling").click()
        await expect(person.get_by_text("Sells tickets")).to_be_visible()
        await expect(person.get_by_role("button", name="Revoke ticket selling")).to_be_visible()
        await screenshots.take(admin, "ticket-selling-granted")

        assert (await sam.ok("GET", "/api/me"))["can_sell_tickets"] is True
        space = await sam.ok("POST", "/api/spaces", json=ticketed)
        assert space["ticket"]["price_cents"] == 500

        # Banning asks first, then the person is marked banned.
        await person.get_by_role("button", name="Ban").click()
        await expect(person.get_by_text("signed out everywhere")).to_be_visible()
        await person.get_by_role("button", name="Ban").click()
        await expect(person.get_by_text("Banned")).to_be_visible()
        await sam.call("GET", "/api/me", status=401)


async def test_admin_pages_through_people(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    async with chromium(playwright) as browser:
        admin = await sign_up(browser, server, "ada", "Ada Admin")
        for n in range(21):  # 22 people: two pages of 20
            await server.person(f"p{n:02d}")
        await admin.goto("/admin")
        await expect(admin.get_by_text("22 people · page 1 of 2")).to_be_visible()
        await expect(admin.get_by_role("listitem", name="@p18")).to_be_visible()
        await admin.get_by_role("button", name="Next").click()
        await expect(admin.get_by_text("22 people · page 2 of 2")).to_be_visible()
        await expect(admin.get_by_role("listitem", name="@p20")).to_be_visible()
        await expect(admin.get_by_role("listitem", name="@p18")).to_have_count(0)
        await expect(admin.get_by_role("button", name="Next")).to_be_disabled()
        await screenshots.take(admin, "second-page")


async def test_only_admins_open_the_admin_screen(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    await server.person("ada")  # the first account is the admin
    async with chromium(playwright) as browser:
        nia = await sign_up(browser, server, "nia", "Nia Nobody")
        await expect(nia.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
        await nia.goto("/admin")
        await expect(nia.get_by_role("heading", name="Admins only")).to_be_visible()
        await screenshots.take(nia, "admins-only")

        stranger = await (await browser.new_context(base_url=server.url)).new_page()
        await stranger.goto("/admin")
        await expect(stranger).to_have_url(f"{server.url}/signin?next=/admin")
        await expect(stranger.get_by_role("heading", name="Sign in")).to_be_visible()
