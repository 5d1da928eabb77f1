"""Engine and sessions, with the SQLite settings that make it safe for concurrent writers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

#: What the database being down or unreachable looks like, whichever driver raised it: an API
#: request answers 503 (``api/problems.py``), and start-up says so in one line (``cli.py``).
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    TimeoutError,
    ConnectionError,
)


def create_engine(
    url: str, *, timeout: float = 5.0, statement_timeout: float | None = 5.0
) -> AsyncEngine:
    """The engine for ``url``. On PostgreSQL, connecting and waiting for a pooled connection
    give up after ``timeout`` seconds, and each statement after ``statement_timeout`` (None:
    never, for migrations, which may rightly take long), so an outage is a fast error, never
    a hang."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(
            url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
            pool_timeout=timeout,
            connect_args={"timeout": timeout, "command_timeout": statement_timeout},
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    _serialize_sqlite_writers(engine)
    return engine


def _serialize_sqlite_writers(engine: AsyncEngine) -> None:
    """Make every SQLite transaction take the write lock up front (BEGIN IMMEDIATE).

    SQLite has no SELECT ... FOR UPDATE; without this, two transactions could both read "one
    seat left" before either writes. With it, transactions on one database run one after the
    other, which is what the stage caps need (PostgreSQL gets row locks instead).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
