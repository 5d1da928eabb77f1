"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from salon.store.db import create_engine
from salon.store.migrate import upgrade
from salon.store.models import Base
from tests.harness import throwaway_database


async def test_migrations_match_the_models(backend: str, tmp_path: Path) -> None:
    async with throwaway_database(backend, str(tmp_path)) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            await upgrade(engine)  # a second run is a no-op

            def diff(connection: Connection) -> list[Any]:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                return list(compare_metadata(context, Base.metadata))

            async with engine.connect() as conn:
                assert await conn.run_sync(diff) == []
        finally:
            await engine.dispose()
