"""A local fake of the two Stripe endpoints Salon calls: Checkout Sessions and Refunds.

It checks what real Stripe would refuse (a missing key, a missing idempotency key), replays
the first answer to a repeated idempotency key as Stripe does, records every request, and
can be told to fail. Everything else about Stripe (signatures) is tested for real.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SECRET_KEY = "sk_test_salon_fake"


@dataclass
class Call:
    path: str
    form: dict[str, str]
    idempotency_key: str | None


@dataclass
class FakeStripe:
    calls: list[Call] = field(default_factory=list)
    #: How many of the next calls to each path fail with a 500.
    failures: dict[str, int] = field(default_factory=dict)
    _replies: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]

    async def _handle(self, request: Request) -> JSONResponse:
        path = request.url.path
        if request.headers.get("authorization") != f"Bearer {SECRET_KEY}":
            return _error(401, "invalid_request_error", "Invalid API Key provided")
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        key = request.headers.get("idempotency-key")
        self.calls.append(Call(path, form, key))
        if not key:
            return _error(400, "invalid_request_error", "Salon always sends an Idempotency-Key")
        if (path, key) in self._replies:
            status, body = self._replies[(path, key)]
            return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
        if self.failures.get(path, 0) > 0:
            self.failures[path] -= 1
            # Not remembered: a failed request may be retried with the same key.
            return _error(500, "api_error", "the fake is down, as asked")
        body = self._session(form) if path == "/v1/checkout/sessions" else self._refund(form)
        self._replies[(path, key)] = (200, body)
        return JSONResponse(body)

    def _session(self, form: dict[str, str]) -> dict[str, Any]:
        session_id = f"cs_test_{next(self._ids)}"
        return {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "mode": form.get("mode"),
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {
                k.removeprefix("metadata[").removesuffix("]"): v
                for k, v in form.items()
                if k.startswith("metadata[")
            },
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "amount_total": int(form.get("line_items[0][price_data][unit_amount]", "0")),
            "currency": form.get("line_items[0][price_data][currency]"),
            "expires_at": int(form.get("expires_at", "0")),
            "created": int(time.time()),
        }

    def _refund(self, form: dict[str, str]) -> dict[str, Any]:
        return {
            "id": f"re_test_{next(self._ids)}",
            "object": "refund",
            "amount": int(form.get("amount", "0")),
            "payment_intent": form.get("payment_intent"),
            "status": "succeeded",
            "metadata": {"purchase_id": form.get("metadata[purchase_id]")},
        }

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/checkout/sessions", self._handle, methods=["POST"]),
                Route("/v1/refunds", self._handle, methods=["POST"]),
            ]
        )


def _error(status: int, kind: str, message: str) -> JSONResponse:
    # Stripe-Should-Retry: false keeps the client from retrying, so counts are exact.
    return JSONResponse(
        {"error": {"type": kind, "message": message}},
        status_code=status,
        headers={"Stripe-Should-Retry": "false"},
    )


class FakeStripeServer:
    """The fake served by uvicorn on a free loopback port, in its own thread."""

    def __init__(self) -> None:
        self.fake = FakeStripe()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(
            uvicorn.Config(self.fake.app(), log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    async def __aenter__(self) -> FakeStripe:
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self.fake
            await asyncio.sleep(0.01)
        raise RuntimeError("the fake Stripe did not start")

    async def __aexit__(self, *exc: object) -> None:
        self._server.should_exit = True
        await asyncio.to_thread(self._thread.join, 10)
        self._socket.close()
