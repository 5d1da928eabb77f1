"""Push and e-mail leave through the outbox and arrive, at least once, with a stable id.

E-mail goes to a real SMTP server on loopback (``aiosmtpd``); pushes to a local RFC 8030
push endpoint that holds the browser's keys and decrypts what it gets (``http_ece``, RFC
8291), as a browser's push service would hand it on. A first attempt each is refused, so
the retry is seen carrying the same Message-ID / Topic.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import json
import os
import re
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from email.message import Message
from pathlib import Path
from typing import Any

import http_ece
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from salon.config import Settings
from salon.services import deliveries
from tests.conftest import ServerFactory
from tests.harness import (
    FAST_HASHING,
    OffsetClock,
    Person,
    Server,
    problem,
    throwaway_database,
)
from tests.integration.test_cli import _salon
from tests.integration.test_notifications import _sign_in, told

PUBLIC_URL = "http://salon.test"


class Mailbox:
    """What the SMTP server took; it refuses the first message matching ``refuse_once``."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refused: list[Message] = []
        self.refuse_once: str | None = None
        self.changed = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        if self.refuse_once and self.refuse_once in str(message["Subject"]):
            self.refuse_once = None
            self.refused.append(message)
            return "451 4.3.0 try again later"
        self.messages.append(message)
        self.loop.call_soon_threadsafe(self.changed.set)
        return "250 OK"

    async def wait(self, count: int) -> list[Message]:
        async with asyncio.timeout(20):
            while len(self.messages) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.messages


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


async def eventually(done: Callable[[], bool]) -> None:
    """Wait for what another thread (the SMTP server, the push service) does."""
    async with asyncio.timeout(20):
        while not done():  # noqa: ASYNC110 - set by another thread's loop
            await asyncio.sleep(0.02)


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _link(text: str, path: str) -> str:
    found = re.search(re.escape(PUBLIC_URL) + re.escape(path) + r"\S*", text)
    assert found, text
    return found.group(0).removeprefix(PUBLIC_URL)


async def test_email_is_confirmed_then_sent_once_per_kind_with_an_unsubscribe_link(
    make_server: ServerFactory,
) -> None:
    async with (
        smtp_server() as (mailbox, port),
        make_server(
            smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", public_url=PUBLIC_URL
        ) as server,
    ):
        host = await server.person("host", display_name="Hana")
        fan = await server.person("fan")
        await fan.ok("PUT", f"/api/users/{host.handle}/follow")
        settings = await fan.ok("PUT", "/api/me/email", json={"email": "fan@example.org"})
        assert (settings["email"], settings["confirmed"], settings["enabled"]) == (
            "fan@example.org",
            False,
            True,
        )
        assert "host_live" not in settings["kinds"]  # the default: off
        problem(await fan.call("PUT", "/api/me/email", json={"email": "not an address"}), 422)
        problem(await fan.call("PUT", "/api/me/email/kinds", json={"kinds": ["nope"]}), 422)
        [confirmation] = await mailbox.wait(1)
        assert confirmation["To"] == "fan@example.org"
        # Nothing but the confirmation goes out before the link is opened.
        await fan.ok("PUT", "/api/me/email/kinds", json={"kinds": ["host_live"]})
        first = await host.create_space("Before confirming")
        await host.ok("POST", f"/api/spaces/{first['id']}/end")
        await told(fan, 1)  # in the bell, and not mailed: the address is not confirmed yet
        confirm = _link(_body(confirmation), "/api/email/confirm?token=")
        opened = await fan.call("GET", confirm, follow_redirects=False)
        assert (opened.status_code, opened.headers["location"]) == (
            303,
            "/settings?email=confirmed",
        )
        assert (await fan.ok("GET", "/api/me/email"))["confirmed"] is True
        # The same address again stays confirmed, and no new link is mailed.
        again = await fan.ok("PUT", "/api/me/email", json={"email": "fan@example.org"})
        assert again["confirmed"] is True
        problem(await fan.call("GET", "/api/email/confirm?token=forged.token.value"), 422)

        # The first attempt is refused (451): the retry carries the same Message-ID.
        mailbox.refuse_once = "is live"
        space = await host.create_space("Confirmed now")
        await eventually(lambda: bool(mailbox.refused))
        server.clock.advance(10)  # the retry's wait (5 s) passes
        [_, live] = await mailbox.wait(2)
        assert live["Message-ID"] == mailbox.refused[0]["Message-ID"]
        assert live["Subject"].startswith("Hana is live")
        body = _body(live)
        assert f"{PUBLIC_URL}/spaces/{space['id']}" in body
        unsubscribe = _link(body, "/api/email/unsubscribe?token=")
        assert live["List-Unsubscribe"] == f"<{PUBLIC_URL}{unsubscribe}>"
        assert live["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        page = await fan.call("GET", unsubscribe)
        assert page.status_code == 200
        assert "<form" in page.text
        assert (await fan.ok("GET", "/api/me/email"))["kinds"] == [
            "host_live"
        ]  # a GET changes nothing
        done = await fan.call("POST", unsubscribe)
        assert done.status_code == 200
        assert "Unsubscribed" in done.text
        assert (await fan.ok("GET", "/api/me/email"))["kinds"] == []
        assert len(mailbox.messages) == 2


class PushService:
    """A browser's push service, reduced to RFC 8030's one request: it keeps what it is
    sent (decrypted with the browser's keys) and refuses the first push with a 500."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.refused: list[dict[str, str]] = []
        self.refuse_first = True
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/push/browser-1"
        app = Starlette(routes=[Route("/push/{name}", self._push, methods=["POST"])])
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def subscription(self) -> dict[str, Any]:
        raw = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.url,
            "expirationTime": None,
            "keys": {"p256dh": _b64(raw), "auth": _b64(self.auth)},
        }

    async def _push(self, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if self.refuse_first:
            self.refuse_first = False
            self.refused.append(headers)
            return Response(status_code=500)
        plain = http_ece.decrypt(
            await request.body(), private_key=self.private_key, auth_secret=self.auth
        )
        self.received.append((headers, json.loads(plain)))
        return Response(status_code=201)

    async def __aenter__(self) -> PushService:
        self._thread.start()
        await eventually(lambda: self._server.started)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.should_exit = True
        await asyncio.to_thread(self._thread.join, 10)
        self._socket.close()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_a_push_reaches_the_browser_encrypted_and_signed_with_a_stable_topic(
    make_server: ServerFactory,
) -> None:
    async with (
        PushService() as service,
        make_server(web_push=True, public_url=PUBLIC_URL) as server,
    ):
        key = (await (await server.person("anyone")).ok("GET", "/api/push/key"))["public_key"]
        assert len(base64.urlsafe_b64decode(key + "==")) == 65  # an uncompressed P-256 point
        host = await server.person("host", display_name="Hana")
        fan = await server.person("fan")
        await fan.ok("PUT", f"/api/users/{host.handle}/follow")
        await fan.ok("POST", "/api/me/push-subscriptions", json=service.subscription())
        bad = {**service.subscription(), "keys": {"p256dh": "x", "auth": "y"}}
        problem(await fan.call("POST", "/api/me/push-subscriptions", json=bad), 422)

        space = await host.create_space("Pushed")
        await eventually(lambda: bool(service.refused))
        server.clock.advance(10)
        await eventually(lambda: bool(service.received))
        headers, payload = service.received[0]
        assert headers["topic"] == service.refused[0]["topic"]  # the retry replaces, not adds
        assert headers["topic"] == f"salon-n{payload['id']}"
        assert headers["authorization"].startswith("vapid t=")
        assert key in headers["authorization"]
        assert payload["kind"] == "host_live"
        assert payload["title"] == "Hana is live"
        assert payload["url"] == f"{PUBLIC_URL}/spaces/{space['id']}"
        # The same notification is in the bell: pushes are a copy, not another notification.
        [bell] = (await fan.ok("GET", "/api/me/notifications"))["items"]
        assert bell["id"] == payload["id"]
        await fan.ok("DELETE", "/api/me/push-subscriptions", params={"endpoint": service.url})
        problem(
            await fan.call(
                "DELETE", "/api/me/push-subscriptions", params={"endpoint": service.url}
            ),
            404,
        )
        assert len(service.received) == 1


async def test_push_is_refused_when_it_is_not_turned_on(server: Server) -> None:
    person: Person = await server.person("someone")
    problem(await person.call("GET", "/api/push/key"), 404)
    settings = await person.ok("GET", "/api/me/email")
    assert settings["enabled"] is False
    problem(await person.call("PUT", "/api/me/email", json={"email": "a@example.org"}), 404)


def test_email_and_push_refuse_to_start_without_a_public_url(tmp_path: Any) -> None:
    shown = _salon(
        ["serve", "--port", "0"],
        f"sqlite+aiosqlite:///{tmp_path}/salon.db",
        smtp_host="127.0.0.1",
        web_push="true",
    )
    assert shown.returncode == 1
    output = " ".join((shown.stdout + shown.stderr).split())
    assert "Traceback" not in output
    assert "SALON_SMTP_HOST and SALON_WEB_PUSH need SALON_PUBLIC_URL" in output


async def test_an_email_queued_before_a_restart_is_sent_after_it_once(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox outlives the node: an invitation's e-mail refused once (451) is still due
    when the node stops; the next node on the same database sends it, once, with the same
    Message-ID, and the bell holds the invitation once."""
    # A minute before the retry, so the first node cannot make it before it stops.
    monkeypatch.setattr(deliveries, "retry_after", lambda attempts: 60.0)
    async with smtp_server() as (mailbox, port), throwaway_database(backend, str(tmp_path)) as url:
        values: dict[str, Any] = {
            "database_url": url,
            "var_dir": tmp_path / "var",
            "host_min_followers": 0,
            "sweep_interval_seconds": 0.05,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "public_url": PUBLIC_URL,
            **FAST_HASHING,
        }
        clock = OffsetClock()
        async with Server(Settings(**values), clock) as first:
            host = await first.person("host", display_name="Hana")
            guest = await first.person("guest")
            await guest.ok("PUT", "/api/me/email", json={"email": "guest@example.org"})
            [confirmation] = await mailbox.wait(1)
            await guest.call(
                "GET", _link(_body(confirmation), "/api/email/confirm?token="), status=303
            )
            await guest.ok("PUT", "/api/me/email/kinds", json={"kinds": ["invited_to_speak"]})
            space = await host.create_space("Restarted")
            await guest.join(space["id"])
            mailbox.refuse_once = "Invited to speak"
            await host.ok("POST", f"/api/spaces/{space['id']}/participants/{guest.id}/invite")
            await eventually(lambda: bool(mailbox.refused))
            for person in (host, guest):
                await person.close()
        assert len(mailbox.messages) == 1  # only the confirmation so far
        clock.advance(61)  # the retry comes due while no node runs
        async with Server(Settings(**values), clock) as second:
            [_, invitation] = await mailbox.wait(2)
            assert invitation["Message-ID"] == mailbox.refused[0]["Message-ID"]
            assert invitation["To"] == "guest@example.org"
            assert f"{PUBLIC_URL}/spaces/{space['id']}" in _body(invitation)
            guest = await _sign_in(second, "guest")
            [bell] = (await guest.ok("GET", "/api/me/notifications"))["items"]
            assert bell["kind"] == "invited_to_speak"
            await guest.close()
        assert len(mailbox.messages) == 2
