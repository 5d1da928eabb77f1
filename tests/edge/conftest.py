"""One stack for every edge test (session-scoped, one event loop): the origin as a child
process, nginx (its audio cache in Lua) in front on free loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from tests.edge.stack import SECRET_KEY, Origin, Stack, register

from salon.config import Settings
from salon.edge import Edge, free_ports


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    directory = tmp_path_factory.mktemp("edge")
    origin = Origin(directory)
    await origin.start()
    try:
        http_port, https_port = free_ports(2)
        edge = Edge(
            origin_port=origin.port,
            http_port=http_port,
            https_port=https_port,
            directory=directory / "edge",
            edge_secret=Settings(secret_key=SECRET_KEY).edge_secret(),
            report_every=1.0,
        )
        async with edge:
            admin = await register(edge.http_url)
            try:
                yield Stack(origin, edge, directory, admin)
            finally:
                await admin.aclose()
    finally:
        await origin.stop()
