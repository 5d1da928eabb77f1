"""/docs works with no internet, in real Chromium: every request to anything but the test
server is aborted, and Swagger UI still renders the API, under its strict policy, and runs a
request ("Try it out") against this server."""

from __future__ import annotations

from playwright.async_api import Playwright, Request, Route, expect

from tests.browser.chromium import Screenshots, chromium
from tests.harness import Server

#: Before any page script: keep every Content-Security-Policy violation the page reports.
_RECORD_VIOLATIONS = """
(() => {
  const seen = (window.__salonViolations = []);
  document.addEventListener('securitypolicyviolation', (event) => {
    seen.push(`${event.effectiveDirective} blocked ${event.blockedURI}`);
  });
})();
"""


async def test_the_docs_render_and_run_requests_without_internet(
    server: Server, playwright: Playwright, screenshots: Screenshots
) -> None:
    own = f"{server.url}/"
    aborted: list[str] = []
    asked: list[str] = []

    async def only_this_server(route: Route, request: Request) -> None:
        if request.url.startswith(own):
            asked.append(request.url.removeprefix(server.url))
            await route.continue_()
        else:
            aborted.append(request.url)
            await route.abort("internetdisconnected")

    async with chromium(playwright) as browser:
        context = await browser.new_context(
            base_url=server.url, viewport={"width": 1200, "height": 1000}
        )
        await context.route("**/*", only_this_server)
        await context.add_init_script(_RECORD_VIOLATIONS)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        await page.goto("/docs")
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Salon")
        create = page.locator("#operations-spaces-create_space_api_spaces_post")
        await expect(create).to_be_visible()
        await expect(create.locator(".opblock-summary-method")).to_have_text("POST")
        await expect(create.locator(".opblock-summary-path")).to_have_attribute(
            "data-path", "/api/spaces"
        )
        for tag in ("accounts", "spaces", "stage", "operations"):
            await expect(page.locator(f"#operations-tag-{tag}")).to_be_visible()
        await screenshots.take(page, "swagger-ui-offline")

        # Try it out: the page's own requests to this server pass its policy.
        health = page.locator("#operations-operations-health_healthz_get")
        await health.locator(".opblock-summary-control").click()
        await health.get_by_role("button", name="Try it out").click()
        await health.get_by_role("button", name="Execute").click()
        status = health.locator(".live-responses-table .response .response-col_status")
        await expect(status).to_have_text("200")
        body = health.locator(".live-responses-table .response-col_description .microlight")
        await expect(body.first).to_contain_text('"status": "ok"')
        await screenshots.take(page, "try-it-out-healthz")

        assert aborted == [], f"the docs asked another host: {aborted}"
        assert "/openapi.json" in asked
        assert any(url.startswith("/assets/swagger-ui-bundle-") for url in asked), asked
        assert await page.evaluate("window.__salonViolations") == []
        assert errors == []
        await context.close()
