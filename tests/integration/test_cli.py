"""The operator's CLI against a real database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.harness import FAST_HASHING, throwaway_database


def _salon(
    args: list[str], url: str, stdin: str = "", **settings: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SALON_DATABASE_URL": url,
        # The operator creates accounts on an instance closed to sign-up.
        "SALON_REGISTRATION": "closed",
        **{f"SALON_{k.upper()}": str(v) for k, v in FAST_HASHING.items()},
        "COLUMNS": "120",
        **{f"SALON_{k.upper()}": v for k, v in settings.items()},
    }
    return subprocess.run(
        [sys.executable, "-m", "salon", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


async def test_db_upgrade_user_create_and_promote(backend: str, tmp_path: Path) -> None:
    async with throwaway_database(backend, str(tmp_path)) as url:

        def run(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
            return _salon(args, url, stdin)

        upgraded = await asyncio.to_thread(run, ["db", "upgrade"])
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        assert "up to date" in upgraded.stdout

        first = await asyncio.to_thread(
            run, ["user", "create", "root_admin", "--password", "long-enough"]
        )
        assert first.returncode == 0, first.stdout + first.stderr
        assert "Created @root_admin (admin)" in first.stdout

        second = await asyncio.to_thread(
            run, ["user", "create", "ops", "--display-name", "Ops"], "pass-word-1\npass-word-1\n"
        )
        assert second.returncode == 0, second.stdout + second.stderr
        assert "(member)" in second.stdout

        taken = await asyncio.to_thread(run, ["user", "create", "OPS", "--password", "long-enough"])
        assert taken.returncode == 1
        assert "taken" in taken.stdout

        promoted = await asyncio.to_thread(run, ["user", "promote", "ops"])
        assert promoted.returncode == 0, promoted.stdout + promoted.stderr
        missing = await asyncio.to_thread(run, ["user", "promote", "nobody"])
        assert missing.returncode == 1
        assert "no account" in missing.stdout


def test_help_reads_well() -> None:
    shown = _salon(["--help"], "sqlite+aiosqlite:///unused.db")
    assert shown.returncode == 0
    for command in ("serve", "db", "user"):
        assert command in shown.stdout


def test_serving_an_unreachable_database_says_so_in_one_line() -> None:
    closed_port = "postgresql+asyncpg://salon@127.0.0.1:9/salon"  # discard: nothing listens
    shown = _salon(["serve", "--port", "0"], closed_port)
    assert shown.returncode == 1
    output = (shown.stdout + shown.stderr).strip()
    assert "cannot reach the database at postgresql+asyncpg://salon@127.0.0.1:9/salon" in (
        " ".join(output.split())
    ), output
    assert "Traceback" not in output
    assert len(output.splitlines()) <= 3, output  # one line, wrapped at the terminal's width


def test_a_node_among_several_refuses_to_start_without_what_they_share(tmp_path: Path) -> None:
    """With Redis set (several nodes), SQLite, a key of its own and recordings of its own
    would each split the instance: the node names what is missing and exits."""
    shown = _salon(
        ["serve", "--port", "0"],
        f"sqlite+aiosqlite:///{tmp_path}/salon.db",
        redis_url="redis://127.0.0.1:6379/0",
    )
    assert shown.returncode == 1
    output = " ".join((shown.stdout + shown.stderr).split())
    assert "Traceback" not in output
    assert "need PostgreSQL" in output
    assert "SALON_SECRET_KEY" in output
    assert "SALON_RECORDINGS_PATH" in output


def test_a_node_that_cannot_reach_redis_says_so_in_one_line(tmp_path: Path) -> None:
    async def run() -> subprocess.CompletedProcess[str]:
        async with throwaway_database("postgres", str(tmp_path)) as url:
            return await asyncio.to_thread(
                _salon,
                ["serve", "--port", "0"],
                url,
                redis_url="redis://127.0.0.1:9/0",  # discard: nothing listens
                secret_key="k" * 40,
                recordings_path=str(tmp_path / "recordings"),
            )

    shown = asyncio.run(run())
    assert shown.returncode == 1
    output = (shown.stdout + shown.stderr).strip()
    assert "cannot reach Redis at 127.0.0.1:9" in " ".join(output.split()), output
    assert "Traceback" not in output
    assert len(output.splitlines()) <= 3, output
