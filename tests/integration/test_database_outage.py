"""A database outage is a fast 503 (with Retry-After), never a hang or a 500, and /healthz
says the database is down; the service comes back with the database. The outage is a
user-space TCP proxy in front of the machine's PostgreSQL, black-holed or reset: the real
server is never stopped (other tests and CI share it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from salon.config import Settings
from tests.fakes.tcp_proxy import TcpProxy
from tests.harness import FAST_HASHING, PASSWORD, OffsetClock, Server, throwaway_database

TIMEOUT = 2.0


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
async def proxied(tmp_path: Any) -> AsyncIterator[tuple[Server, TcpProxy]]:
    async with throwaway_database("postgres", str(tmp_path)) as url:
        real = make_url(url)
        async with TcpProxy(real.host or "127.0.0.1", real.port or 5432) as proxy:
            settings = Settings(
                database_url=real.set(port=proxy.port).render_as_string(hide_password=False),
                database_timeout_seconds=TIMEOUT,
                var_dir=tmp_path / "var",
                host_min_followers=0,
                **FAST_HASHING,
            )
            async with Server(settings, OffsetClock()) as server:
                yield server, proxy
            proxy.set("pass")


async def _timed(http: httpx.AsyncClient, method: str, path: str, **kw: Any) -> httpx.Response:
    """The answer, which must come before a client timeout of the database timeout + 2 s."""
    started = time.monotonic()
    response = await http.request(method, path, timeout=TIMEOUT + 2, **kw)
    assert time.monotonic() - started < TIMEOUT + 2
    return response


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "database is unavailable" in response.json()["detail"]
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize("outage", ["blackhole", "reset"])
async def test_an_outage_answers_503_fast_and_health_says_down(
    proxied: tuple[Server, TcpProxy], outage: Any
) -> None:
    server, proxy = proxied
    ada = await server.person("ada")
    sid = (await ada.create_space("Before the outage"))["id"]

    proxy.set(outage)
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        health = await _timed(anonymous, "GET", "/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "down", "database": "down"}
        _unavailable(await _timed(anonymous, "GET", f"/api/spaces/{sid}"))
        _unavailable(
            await _timed(
                anonymous,
                "POST",
                "/api/accounts",
                json={"handle": "late", "display_name": "Late", "password": PASSWORD},
            )
        )
    _unavailable(await _timed(ada.http, "PATCH", "/api/me", json={"bio": "lost?"}))

    # The database comes back: so does the service, and nothing half-done was kept.
    proxy.set("pass")
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        for _ in range(50):
            if (await anonymous.get("/healthz", timeout=TIMEOUT + 2)).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (await anonymous.get("/healthz")).json() == {"status": "ok", "database": "ok"}
    me = await ada.ok("GET", "/api/me")
    assert me["bio"] == ""
