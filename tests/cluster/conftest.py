"""Three nodes on one PostgreSQL database and one Redis key prefix, for this folder's tests
(one event loop). A test that kills a node leaves it to the ``cluster`` fixture to start it
again before the next test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tests.cluster.nodes import REDIS_URL, Node, drop_keys, new_prefix
from tests.harness import throwaway_database

NODES = 3


@dataclass
class Cluster:
    nodes: list[Node]
    database_url: str
    prefix: str
    directory: Path


# Package scope: stopped once this folder's tests are done, not left running (and using
# CPU) through the rest of the session.
@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def running_cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    directory = tmp_path_factory.mktemp("cluster")
    prefix = new_prefix()
    async with throwaway_database("postgres", str(directory)) as url:
        nodes = [
            Node(
                directory / f"node{i}",
                database_url=url,
                SALON_REDIS_URL=REDIS_URL,
                SALON_REDIS_PREFIX=prefix,
                SALON_RECORDINGS_PATH=str(directory / "recordings"),
            )
            for i in range(NODES)
        ]
        try:
            for node in nodes:
                await node.start()
            yield Cluster(nodes, url, prefix, directory)
        finally:
            for node in nodes:
                await node.stop()
            await drop_keys(prefix)


@pytest_asyncio.fixture(loop_scope="session")
async def cluster(running_cluster: Cluster) -> Cluster:
    """The three nodes, each running (one a test killed is started again)."""
    for node in running_cluster.nodes:
        if not node.running:
            await node.start()
    return running_cluster
