"""A personal API token made in Settings, used from a script, then revoked, in Chromium.

The secret is on screen once (with a Copy button that really reaches the clipboard); a plain
HTTP call with it as a bearer token acts as its owner; after revoking it on the page (with a
confirmation) the same call is refused.
"""

from __future__ import annotations

import httpx
from playwright.async_api import Playwright, expect

from tests.browser.chromium import Screenshots, chromium
from tests.browser.people import sign_up
from tests.harness import Server


async def test_make_use_and_revoke_a_token(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    async with chromium(playwright) as browser:
        page = await sign_up(browser, server, "tomas", "Tomás Tokens")
        await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        await page.goto("/settings")
        await page.get_by_role("link", name="API tokens").click()
        await expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()
        await expect(page.get_by_text("You have no API tokens.")).to_be_visible()

        # A label is needed; the form says so before asking the server.
        await page.get_by_role("button", name="Create token").click()
        await expect(page.get_by_role("alert")).to_have_text("Give the token a label.")

        await page.get_by_label("Token label").fill("recording bot")
        await page.get_by_role("button", name="Create token").click()
        secret_box = page.get_by_test_id("new-token")
        await expect(secret_box).to_be_visible()
        await expect(page.get_by_text("you won’t see it again")).to_be_visible()
        secret = (await secret_box.inner_text()).strip()
        assert secret.startswith("salon_"), secret
        await page.get_by_role("button", name="Copy").click()
        await expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
        assert await page.evaluate("navigator.clipboard.readText()") == secret
        await screenshots.take(page, "token-shown-once")

        # A script uses it: it acts as Tomás.
        async with httpx.AsyncClient(base_url=server.url) as script:
            bearer = {"Authorization": f"Bearer {secret}"}
            me = await script.get("/api/me", headers=bearer)
            assert me.status_code == 200, me.text
            assert me.json()["handle"] == "tomas"

            # Back on the page: listed with its use, the secret nowhere.
            await page.reload()
            token = page.get_by_role("listitem", name="Token recording bot")
            await expect(token).to_contain_text("last used")
            await expect(page.get_by_test_id("new-token")).to_have_count(0)
            assert secret not in await page.content()
            await screenshots.take(page, "token-listed")

            # Revoking asks first; cancelling keeps it.
            await token.get_by_role("button", name="Revoke").click()
            await expect(token.get_by_text("Anything using it is refused")).to_be_visible()
            await token.get_by_role("button", name="Cancel").click()
            assert (await script.get("/api/me", headers=bearer)).status_code == 200
            await token.get_by_role("button", name="Revoke").click()
            await screenshots.take(page, "revoke-asks-first")
            await token.get_by_role("button", name="Revoke token").click()
            await expect(page.get_by_text("You have no API tokens.")).to_be_visible()
            await screenshots.take(page, "token-revoked")

            refused = await script.get("/api/me", headers=bearer)
            assert refused.status_code == 401, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
