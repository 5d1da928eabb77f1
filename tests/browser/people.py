"""What a person does in the web app, in the words of its labels."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.harness import PASSWORD, Server

#: An hour from now, as a datetime-local input wants it, in the browser's own time zone.
IN_AN_HOUR = """
() => {
  const d = new Date(Date.now() + 3600 * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
"""


async def sign_up(
    browser: Browser,
    server: Server,
    handle: str,
    display_name: str,
    *,
    base_url: str | None = None,
    viewport: tuple[int, int] = (1100, 900),
) -> Page:
    """A new browser context (its own cookie jar) with a freshly signed-up person in it.

    ``base_url`` reaches the server another way (e.g. through the edge, over HTTPS with its
    self-signed certificate, whose errors the context then ignores).
    """
    url = base_url or server.url
    context = await browser.new_context(
        base_url=url,
        viewport={"width": viewport[0], "height": viewport[1]},
        ignore_https_errors=url.startswith("https:"),
    )
    page = await context.new_page()
    page.on("pageerror", lambda error: print(f"[{handle}] page error: {error}"))
    page.on(
        "console",
        lambda message: (
            print(f"[{handle}] {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    await page.goto("/signup")
    await page.get_by_label("Handle").fill(handle)
    await page.get_by_label("Display name").fill(display_name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


async def connection_state(page: Page, state: str, *, within: float = 15) -> None:
    await expect(page.get_by_test_id("connection-state")).to_contain_text(
        state, timeout=within * 1000
    )
