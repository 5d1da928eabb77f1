"""The event stream's refusals reach the web app as close codes it acts on, in real Chromium.

A listener raises a hand (her page holds the event stream); an admin bans her. The server
closes her stream with 4401 (bad credentials), and her page asks her to sign in again instead
of reconnecting (a refused handshake used to reach browsers as a bare 1006, and the app
retried forever).
"""

from __future__ import annotations

from playwright.async_api import Playwright, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.browser.chromium import Screenshots, chromium
from tests.browser.people import connection_state, sign_up
from tests.harness import Server

#: Before any page script: record every WebSocket the page opens, and how it closed.
_RECORD = """
(() => {
  const opened = (window.__salonSockets = []);
  const closes = (window.__salonCloses = []);
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      opened.push(String(url));
      this.addEventListener('close', (event) => closes.push(event.code));
    }
  };
})();
"""
#: Past the client's first reconnection delay (1 s) twice over.
NO_RETRY_WITHIN_MS = 3000


async def test_a_banned_listeners_page_asks_to_sign_in_and_does_not_retry(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    admin = await server.person("admin")  # the instance's first account
    host = await server.person("host")
    space_id = (await host.create_space("Moderated"))["id"]
    async with chromium(playwright) as browser:
        lena = await sign_up(browser, server, "lena", "Lena Listener")
        await lena.context.add_init_script(_RECORD)
        await lena.goto(f"/spaces/{space_id}")
        await connection_state(lena, "Live")
        await lena.get_by_role("button", name="Request to speak").click()
        await lena.wait_for_function("() => window.__salonSockets.length === 1")
        await connection_state(lena, "Live")

        await admin.ok("PATCH", "/api/admin/users/lena", json={"banned": True})

        await connection_state(lena, "sign in again")
        await expect(lena.get_by_role("heading", name="You were signed out")).to_be_visible()
        await expect(lena.get_by_role("link", name="Sign in again")).to_be_visible()
        # One stream, closed (by the server's 4401, or by the page as it heard the ban).
        assert len(await lena.evaluate("window.__salonCloses")) == 1
        await screenshots.take(lena, "banned-listener-asked-to-sign-in")
        # No reconnection: the page would have tried within a second.
        retried = True
        try:
            await lena.wait_for_function(
                "() => window.__salonSockets.length > 1", timeout=NO_RETRY_WITHIN_MS
            )
        except PlaywrightTimeout:
            retried = False
        assert not retried, await lena.evaluate("window.__salonSockets")
