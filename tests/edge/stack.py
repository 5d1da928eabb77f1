"""The edge tests' stack: the Salon origin as a child process, nginx (its audio cache in Lua)
in front (``salon.edge.Edge``), and accounts made through the edge."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from tests.harness import FAST_HASHING, PASSWORD

from salon.config import Settings
from salon.edge import Edge, free_port

SECRET_KEY = "edge-tests-secret-key-" + "x" * 24
#: Short, so a removed listener's credential runs out within the test.
CREDENTIAL_SECONDS = 3
SALON = Path(sys.executable).parent / "salon"
AUDIENCE_WINDOW_SECONDS = 4
REACTIONS_AGGREGATE_ABOVE = 50


class Origin:
    """``salon serve`` on a fixed loopback port and an SQLite file: its CPU does not share the
    players' GIL, and it can be killed and started again on the same database."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "origin.log"
        self.env = {
            **os.environ,
            "SALON_DATABASE_URL": f"sqlite+aiosqlite:///{directory}/salon.db",
            "SALON_VAR_DIR": str(directory / "var"),
            "SALON_HOST": "127.0.0.1",
            "SALON_HOST_MIN_FOLLOWERS": "0",
            "SALON_SECRET_KEY": SECRET_KEY,
            "SALON_ARGON2_TIME_COST": str(FAST_HASHING["argon2_time_cost"]),
            "SALON_ARGON2_MEMORY_KIB": str(FAST_HASHING["argon2_memory_kib"]),
            "SALON_AUDIO_CREDENTIAL_SECONDS": str(CREDENTIAL_SECONDS),
            "SALON_LOG_LEVEL": "WARNING",
            # Short windows, so an audience is counted (and forgotten) within seconds.
            "SALON_AUDIENCE_WINDOW_SECONDS": str(AUDIENCE_WINDOW_SECONDS),
            "SALON_REACTION_AGGREGATE_ABOVE": str(REACTIONS_AGGREGATE_ABOVE),
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(SALON),
                *("serve", "--port", str(self.port)),
                cwd=self.directory,  # so no stray .env is read
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline and self.process.returncode is None:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        tail = self.log.read_text(errors="replace")[-2000:]
        await self.stop()
        raise RuntimeError(f"salon serve did not come up:\n{tail}")

    async def kill(self) -> None:
        """SIGKILL, as a crash: nothing is shut down cleanly."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def stop(self) -> None:
        """SIGINT (uvicorn shuts down gracefully), then SIGKILL after 10 s; this child only."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(10):
                await self.process.wait()
        except TimeoutError:
            await self.kill()

    async def hls_requests(self) -> int:
        """The origin's count of audio requests it answered (``salon_hls_requests_total``)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            text = (await client.get("/metrics")).text
        total = 0.0
        for family in text_string_to_metric_families(text):
            if family.name == "salon_hls_requests":
                total += sum(s.value for s in family.samples if s.name.endswith("_total"))
        return int(total)


@dataclass
class Stack:
    origin: Origin
    edge: Edge
    directory: Path
    #: The instance's first account (so an admin), signed in through the edge.
    admin: Account

    @property
    def edge_secret(self) -> str:
        return Settings(secret_key=SECRET_KEY).edge_secret()


class Account:
    """An account signed in through the edge (cookie session), with its own cookie jar."""

    def __init__(self, http: httpx.AsyncClient, me: dict[str, Any]) -> None:
        self.http = http
        self.me = me
        self.id: int = me["id"]
        self.handle: str = me["handle"]

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, **kwargs)
        assert response.status_code < 400, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content and response.status_code != 204 else None

    async def aclose(self) -> None:
        await self.http.aclose()


async def register(base_url: str, handle: str | None = None, **client: Any) -> Account:
    handle = handle or f"e{secrets.token_hex(5)}"
    http = httpx.AsyncClient(base_url=base_url, timeout=30, **client)
    response = await http.post(
        "/api/accounts", json={"handle": handle, "display_name": handle, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return Account(http, response.json())


async def ticketed_live_space(admin: Account, host: Account) -> str:
    """A ticketed space (a seller an admin granted), started now."""
    await admin.ok("PATCH", f"/api/admin/users/{host.handle}", json={"can_sell_tickets": True})
    when = datetime.now(UTC) + timedelta(days=1)
    space = await host.ok(
        "POST",
        "/api/spaces",
        json={
            "title": "Ticketed",
            "scheduled_for": when.isoformat(),
            "ticket": {"price_cents": 500, "cap": 10},
        },
    )
    await host.ok("POST", f"/api/spaces/{space['id']}/start")
    return str(space["id"])


async def buy_ticket(buyer: Account, space_id: str) -> None:
    """Buy and pay with the test provider's checkout (Pay)."""
    purchase = await buyer.ok("POST", f"/api/spaces/{space_id}/tickets")
    response = await buyer.http.post(f"{purchase['checkout_url']}/complete")
    assert response.status_code == 303, response.text
