"""Notifications that leave the app, from Settings, in Chromium.

Web Push end to end with the web app's own code: the person turns on "Notify this browser";
the app registers the real service worker and subscribes. Chromium's own push service is
Google's (closed here), so only ``PushManager.prototype.subscribe`` is replaced: it answers
with the endpoint of a local RFC 8030 push service and the keys that service holds. A host the
person follows goes live; the server encrypts and pushes; the local service decrypts; the
payload is handed to the real service worker through the DevTools protocol
(``ServiceWorker.deliverPushMessage``), which must show the notification.

E-mail: an address added in Settings waits for its link ("check your inbox"); the link opens
Settings saying it is confirmed; the kinds are checkboxes with the server's defaults.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any

from playwright.async_api import CDPSession, Page, Playwright, expect

from tests.browser.chromium import Screenshots, chromium
from tests.browser.people import sign_up
from tests.conftest import ServerFactory
from tests.integration.test_deliveries import PushService, eventually, smtp_server

#: Replaces subscribe/getSubscription on every page of the context: the subscription is the
#: local push service's; what the app asked for is kept in window.__salonPush.
FAKE_PUSH_MANAGER = """
((subscription) => {
  const state = { calls: [], unsubscribed: 0, current: null };
  window.__salonPush = state;
  // Kept for the tab's life, as a browser keeps a subscription across reloads.
  const make = (key) => ({
    endpoint: subscription.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: new Uint8Array(key).buffer },
    toJSON: () => subscription,
    unsubscribe: async () => {
      state.unsubscribed += 1;
      state.current = null;
      sessionStorage.removeItem("fakePushKey");
      return true;
    },
  });
  const kept = sessionStorage.getItem("fakePushKey");
  if (kept) state.current = make(JSON.parse(kept));
  PushManager.prototype.subscribe = async function (options) {
    const key = Array.from(new Uint8Array(options.applicationServerKey));
    state.calls.push({ userVisibleOnly: options.userVisibleOnly, key });
    sessionStorage.setItem("fakePushKey", JSON.stringify(key));
    state.current = make(key);
    return state.current;
  };
  PushManager.prototype.getSubscription = async function () {
    return state.current;
  };
})(%s);
"""

NOTIFICATIONS = """
async () => {
  const registration = await navigator.serviceWorker.ready;
  const shown = await registration.getNotifications();
  return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
}
"""


async def _registration(cdp: CDPSession, scope: str) -> dict[str, Any]:
    """The service worker registration for ``scope``, as the DevTools protocol names it."""
    seen: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: seen.extend(e["registrations"]))
    await cdp.send("ServiceWorker.enable")
    for _ in range(200):
        found = [r for r in seen if r["scopeURL"] == scope and not r["isDeleted"]]
        if found:
            return found[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no service worker registration for {scope}: {seen}")


async def _follow(page: Page, handle: str) -> None:
    await page.goto(f"/users/{handle}")
    await page.get_by_role("button", name="Follow", exact=True).click()
    await expect(page.get_by_role("button", name="Unfollow")).to_be_visible()


async def test_notify_this_browser_shows_a_pushed_notification(
    make_server: ServerFactory, playwright: Playwright, screenshots: Screenshots
) -> None:
    async with (
        PushService() as service,
        make_server(web_push=True, public_url="http://placeholder.invalid") as server,
    ):
        # The port is known once the server is bound: links in pushes point back at it.
        server.settings.public_url = server.url
        service.refuse_first = False
        host = await server.person("hana", display_name="Hana")
        key = (await host.ok("GET", "/api/push/key"))["public_key"]

        # The worker is served from the root, as JavaScript, never cached for long.
        worker = await host.call("GET", "/service-worker.js")
        assert worker.status_code == 200
        assert "javascript" in worker.headers["content-type"]
        assert worker.headers["cache-control"] == "no-cache"
        assert "worker-src 'self'" in worker.headers["content-security-policy"]

        async with chromium(playwright) as browser:
            page = await sign_up(browser, server, "fan", "Fan")
            await page.context.grant_permissions(["notifications"], origin=server.url)
            await page.context.add_init_script(
                FAKE_PUSH_MANAGER % json.dumps(service.subscription())
            )
            await _follow(page, "hana")

            await page.goto("/settings")
            section = page.get_by_role("region", name="Notifications")
            switch = section.get_by_role("switch", name="Notify this browser")
            await expect(page.get_by_test_id("push-state")).to_contain_text("Off")
            await expect(switch).not_to_be_checked()
            # No SMTP on this server: the e-mail part says so instead of showing a form.
            await expect(page.get_by_test_id("email-note")).to_contain_text("does not send e-mail")
            await switch.check()
            await expect(page.get_by_test_id("push-state")).to_contain_text("On:")
            await expect(switch).to_be_checked()
            asked = await page.evaluate("window.__salonPush.calls")
            assert asked == [
                {
                    "userVisibleOnly": True,
                    "key": list(base64.urlsafe_b64decode(key + "==")),
                }
            ]
            await screenshots.take(page, "settings-notifications-on")

            # The real worker is registered for the whole app.
            cdp = await page.context.new_cdp_session(page)
            registration = await _registration(cdp, f"{server.url}/")

            # A host the person follows goes live: the server pushes to the local service.
            space = await host.create_space("Pushed to the browser")
            await eventually(lambda: bool(service.received))
            headers, payload = service.received[0]
            assert headers["topic"] == f"salon-n{payload['id']}"
            assert payload["title"] == "Hana is live"
            assert payload["url"] == f"{server.url}/spaces/{space['id']}"

            # What the push service would hand the browser, handed to the worker.
            await cdp.send(
                "ServiceWorker.deliverPushMessage",
                {
                    "origin": server.url,
                    "registrationId": registration["registrationId"],
                    "data": json.dumps(payload),
                },
            )
            await page.wait_for_function(f"({NOTIFICATIONS})().then((shown) => shown.length > 0)")
            shown = await page.evaluate(NOTIFICATIONS)
            assert shown == [
                {
                    "title": "Hana is live",
                    "body": payload["body"],
                    "tag": f"salon-n{payload['id']}",
                    "data": {"url": payload["url"], "kind": "host_live", "id": payload["id"]},
                }
            ]
            # The same push again (a retry) replaces it rather than stacking a second one.
            await cdp.send(
                "ServiceWorker.deliverPushMessage",
                {
                    "origin": server.url,
                    "registrationId": registration["registrationId"],
                    "data": json.dumps(payload),
                },
            )
            await asyncio.sleep(0.5)
            assert len(await page.evaluate(NOTIFICATIONS)) == 1

            # A reload finds the subscription again and keeps the switch on.
            await page.reload()
            await expect(page.get_by_test_id("push-state")).to_contain_text("On:")

            # Off: the browser unsubscribes and the server forgets it.
            await switch.uncheck()
            await expect(page.get_by_test_id("push-state")).to_contain_text("Off")
            assert await page.evaluate("window.__salonPush.unsubscribed") == 1
            assert await page.evaluate("window.__salonPush.calls") == []  # not subscribed anew
            again = await page.request.delete(
                "/api/me/push-subscriptions", params={"endpoint": service.url}
            )
            assert again.status == 404  # already gone
            await cdp.detach()


async def test_push_is_explained_when_the_server_does_not_send_it(
    make_server: ServerFactory, playwright: Playwright
) -> None:
    async with make_server() as server, chromium(playwright) as browser:
        page = await sign_up(browser, server, "nopush", "No Push")
        await page.goto("/settings")
        await expect(page.get_by_test_id("push-note")).to_have_text(
            "This Salon does not send browser notifications."
        )
        await expect(page.get_by_role("switch")).to_have_count(0)


async def test_email_address_is_confirmed_by_its_link_and_kinds_are_chosen(
    make_server: ServerFactory, playwright: Playwright, screenshots: Screenshots
) -> None:
    async with (
        smtp_server() as (mailbox, port),
        make_server(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            public_url="http://placeholder.invalid",
        ) as server,
        chromium(playwright) as browser,
    ):
        server.settings.public_url = server.url
        page = await sign_up(browser, server, "mel", "Mel")
        await page.goto("/settings")
        status = page.get_by_test_id("email-status")
        await expect(status).to_have_text("No address: nothing is e-mailed.")
        # The server's defaults: reminders and tickets on, "someone I follow goes live" off.
        live = page.get_by_role("checkbox", name="someone I follow goes live")
        await expect(live).not_to_be_checked()
        await expect(page.get_by_role("checkbox", name="I buy a ticket")).to_be_checked()

        await page.get_by_label("E-mail address").fill("not an address")
        await page.get_by_role("button", name="Add address").click()
        await expect(page.get_by_role("alert")).to_have_text(
            "That does not look like an e-mail address."
        )
        await page.get_by_label("E-mail address").fill("mel@example.org")
        await page.get_by_role("button", name="Add address").click()
        await expect(status).to_contain_text("Check your inbox")
        await expect(status).to_contain_text("mel@example.org")

        # The box is ticked at once; the choice is saved by the PUT it sends: wait for that.
        async with page.expect_response(
            lambda r: r.url.endswith("/api/me/email/kinds") and r.request.method == "PUT"
        ) as saved:
            await live.check()
        assert (await saved.value).ok
        await expect(live).to_be_checked()
        chosen = await (await page.request.get("/api/me/email")).json()
        assert "host_live" in chosen["kinds"]
        assert "ticket_bought" in chosen["kinds"]
        await screenshots.take(page, "email-check-your-inbox")

        [confirmation] = await mailbox.wait(1)
        payload = confirmation.get_payload(decode=True)
        assert isinstance(payload, bytes)
        link = re.escape(server.url) + r"/api/email/confirm\?token=\S+"
        found = re.search(link, payload.decode())
        assert found, payload
        await page.goto(found.group(0))
        await page.wait_for_url(re.compile(r"/settings\?email=confirmed$"))
        await expect(status).to_have_text("Confirmed: e-mails go to mel@example.org.")
        await expect(page.get_by_role("button", name="Change address")).to_be_visible()
        await screenshots.take(page, "email-confirmed")

        await page.get_by_role("button", name="Remove address").click()
        await expect(status).to_have_text("No address: nothing is e-mailed.")
        assert (await (await page.request.get("/api/me/email")).json())["email"] is None
