"""Fan-out: a host with many followers goes live; how long until every follower's bell has it.

One ``salon serve`` child on SQLite (or PostgreSQL with ``--postgres``, a throwaway
database) whose database is filled directly with the followers (``--followers``, 10,000 by
default); the host starts a space through the API, and the bench times, from the start's
answer, until every follower has the notification (counted in the database), and how long
the start itself took (the fan-out is not part of it: one outbox row is committed with it).
Runs ``--runs`` times (a fresh space each, the same followers), prints the median and spread
and saves ``bench/results/fanout.json``.

    .venv/bin/python -m bench.fanout [--followers 10000] [--runs 3] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, insert, select

from bench.common import ServerProcess, quiet_logs
from salon.store.db import create_engine
from salon.store.models import Follow, Notification, User

RESULTS = Path(__file__).parent / "results" / "fanout.json"
console = Console()


async def add_followers(url: str, host_id: int, count: int) -> None:
    """``count`` accounts following ``host_id``, written straight into the database."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"{count:,} followers", total=count)
            for start in range(0, count, 1000):
                size = min(1000, count - start)
                async with engine.begin() as conn:
                    users = [
                        {
                            "handle": f"f{start + n}",
                            "handle_key": f"f{start + n}",
                            "display_name": f"Follower {start + n}",
                            "bio": "",
                            "password_hash": "-",
                            "is_admin": False,
                            "verified": False,
                            "can_sell_tickets": False,
                            "banned": False,
                            "notify_live": True,
                            "created_at": now,
                        }
                        for n in range(size)
                    ]
                    ids = (await conn.execute(insert(User).returning(User.id), users)).scalars()
                    await conn.execute(
                        insert(Follow),
                        [
                            {"follower_id": uid, "followee_id": host_id, "created_at": now}
                            for uid in ids
                        ],
                    )
                progress.advance(task, size)
    finally:
        await engine.dispose()


async def told(url: str, space_id: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.space_id == space_id)
            )
            return int(count or 0)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def database(postgres: bool, tmp: Path) -> AsyncIterator[str]:
    if not postgres:
        yield f"sqlite+aiosqlite:///{tmp}/salon.db"
        return
    from tests.harness import throwaway_database

    async with throwaway_database("postgres", str(tmp)) as url:
        yield url


async def measure(followers: int, runs: int, postgres: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="salon-bench-fanout-") as name:
        tmp = Path(name)
        async with database(postgres, tmp) as url:
            server = ServerProcess(tmp, env={"SALON_DATABASE_URL": url})
            await server.start()
            try:
                async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                    me = (
                        await http.post(
                            "/api/accounts",
                            json={"handle": "host", "display_name": "Host", "password": "x" * 12},
                        )
                    ).json()
                    await add_followers(url, me["id"], followers)
                    trials = []
                    for run in range(runs):
                        began = time.perf_counter()
                        response = await http.post("/api/spaces", json={"title": f"Run {run}"})
                        response.raise_for_status()
                        started = time.perf_counter() - began
                        space_id = response.json()["id"]
                        # Another process writes them: poll the database.
                        while (count := await told(url, space_id)) < followers:  # noqa: ASYNC110
                            await asyncio.sleep(0.05)
                        elapsed = time.perf_counter() - began
                        trials.append({"start_s": started, "all_told_s": elapsed, "told": count})
                        console.print(
                            f"run {run + 1}/{runs}: start answered in {started * 1000:.0f} ms, "
                            f"{count:,} followers told in {elapsed:.2f} s "
                            f"({count / elapsed:,.0f}/s)"
                        )
                        await http.post(f"/api/spaces/{space_id}/end")
            finally:
                await server.stop()
    told_s = [t["all_told_s"] for t in trials]
    return {
        "parameters": {
            "followers": followers,
            "runs": runs,
            "database": "postgresql" if postgres else "sqlite",
        },
        "all_told_s": {"median": statistics.median(told_s), "min": min(told_s), "max": max(told_s)},
        "start_ms": statistics.median(t["start_s"] * 1000 for t in trials),
        "followers_per_second": followers / statistics.median(told_s),
        "trials": trials,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="on a throwaway database of the PostgreSQL at 127.0.0.1:5432 instead of SQLite",
    )
    args = parser.parse_args()
    with quiet_logs():
        result = asyncio.run(measure(args.followers, args.runs, args.postgres))
    figure = result["all_told_s"]
    console.print(
        f"[bold]{args.followers:,} followers told in {figure['median']:.2f} s[/] median "
        f"({figure['min']:.2f}–{figure['max']:.2f}), {result['followers_per_second']:,.0f}/s; "
        f"the start itself answered in {result['start_ms']:.0f} ms "
        f"({result['parameters']['database']})"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    path = RESULTS.with_name("fanout_postgres.json") if args.postgres else RESULTS
    path.write_text(json.dumps(result, indent=2) + "\n")
    console.print(
        f"saved {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
    )


if __name__ == "__main__":
    main()
