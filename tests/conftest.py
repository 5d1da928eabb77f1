from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from salon.config import Settings
from tests.harness import BACKENDS, FAST_HASHING, OffsetClock, Server, throwaway_database

ServerFactory = Callable[..., AbstractAsyncContextManager[Server]]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def make_server(backend: str, tmp_path: Path) -> ServerFactory:
    """Start a server on a fresh database; keyword arguments override settings."""

    @asynccontextmanager
    async def factory(
        *, send_buffer: int | None = None, ws_pings: bool = True, **overrides: Any
    ) -> AsyncIterator[Server]:
        async with throwaway_database(backend, str(tmp_path)) as url:
            values: dict[str, Any] = {
                "database_url": url,
                "var_dir": tmp_path / "var",
                "host_min_followers": 0,
                "sweep_interval_seconds": 0.05,
                **FAST_HASHING,
                **overrides,
            }
            clock = OffsetClock()
            async with Server(
                Settings(**values), clock, send_buffer=send_buffer, ws_pings=ws_pings
            ) as server:
                yield server

    return factory


@pytest.fixture
async def server(make_server: ServerFactory) -> AsyncIterator[Server]:
    async with make_server() as running:
        yield running
