"""Buying a ticket in the browser with the built-in test provider, then listening.

The host (granted ticket selling) schedules a ticketed space from the web app; a buyer sees the
price and tickets left, pays on the test checkout page, comes back holding a ticket and, once
the host starts, listens and hears the host's tone. Someone without a ticket is kept out.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Playwright, expect

from tests.browser.chromium import Screenshots, chromium, wait_to_hear, write_tone_wav
from tests.browser.people import IN_AN_HOUR, connection_state, sign_up
from tests.harness import Server

HOST_TONE = 440.0


async def test_buy_a_ticket_with_the_test_provider_and_listen(
    server: Server, playwright: Playwright, screenshots: Screenshots, tmp_path: Path
) -> None:
    host_mic = write_tone_wav(tmp_path / "host.wav", HOST_TONE)
    async with chromium(playwright, host_mic) as browser:
        host = await sign_up(browser, server, "tia", "Tia Tickets")
        granted = await host.context.request.patch(
            "/api/admin/users/tia", data={"can_sell_tickets": True}
        )
        assert granted.ok, await granted.text()

        # The host schedules a ticketed space: $5.00, 10 tickets.
        await host.goto("/spaces/new")
        await host.get_by_label("Title").fill("Paid tones")
        await host.get_by_label("Sell tickets").check()
        await host.get_by_label("Ticket price (USD)").fill("5")
        await host.get_by_label("Tickets available").fill("10")
        await host.get_by_label("Schedule", exact=True).check()
        await host.get_by_label("Start time").fill(await host.evaluate(IN_AN_HOUR))
        await screenshots.take(host, "host-schedules-ticketed-space")
        await host.get_by_role("button", name="Schedule space").click()
        await expect(host.get_by_role("heading", level=1)).to_have_text("Paid tones")
        space_url = host.url

        # A buyer sees the price and what is left, and pays on the test checkout page.
        buyer = await sign_up(browser, server, "bo", "Bo Buyer")
        await buyer.goto(space_url)
        await expect(buyer.get_by_text("10 tickets left")).to_be_visible()
        await expect(buyer.get_by_text("This space is for ticket holders.")).to_be_visible()
        await screenshots.take(buyer, "buyer-sees-price")
        await buyer.get_by_role("button", name="Buy ticket").click()
        await expect(buyer.get_by_text("TEST MODE")).to_be_visible()
        # The app's look reached the page (its style is allowed by hash, nothing else).
        pay = buyer.get_by_role("button", name="Pay $5.00 (test mode)")
        assert await pay.evaluate("(b) => getComputedStyle(b).borderRadius") == "999px"
        await screenshots.take(buyer, "test-checkout")
        await buyer.get_by_role("button", name="Pay $5.00 (test mode)").click()
        await expect(buyer.get_by_text("Payment received — you have a ticket")).to_be_visible()
        await expect(buyer.get_by_text("9 tickets left")).to_be_visible()
        await screenshots.take(buyer, "buyer-has-ticket")

        # Someone who declines at the checkout holds nothing.
        other = await sign_up(browser, server, "cy", "Cy Curious")
        await other.goto(space_url)
        await other.get_by_role("button", name="Buy ticket").click()
        await other.get_by_role("button", name="Decline the payment (test mode)").click()
        await expect(other.get_by_text("Payment declined")).to_be_visible()

        # The host starts the space; the buyer listens and hears the host.
        await host.get_by_role("button", name="Start space").click()
        await connection_state(host, "Live")
        await buyer.reload()
        await connection_state(buyer, "Live")
        await buyer.get_by_role("button", name="Listen", exact=True).click()
        await wait_to_hear(buyer, "listen-audio", present=(HOST_TONE,))
        await screenshots.take(buyer, "buyer-listens")

        # Without a ticket there is nothing to listen to, and the server refuses the audio.
        await other.reload()
        await expect(other.get_by_text("This space is for ticket holders.")).to_be_visible()
        await expect(other.get_by_role("button", name="Listen", exact=True)).to_have_count(0)
        space_id = space_url.rstrip("/").rsplit("/", 1)[1]
        refused = await other.context.request.get(f"/api/spaces/{space_id}/listen")
        assert refused.status == 403
        await screenshots.take(other, "no-ticket-no-audio")
