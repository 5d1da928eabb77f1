"""Rate limits: what one hit costs with the ``limits`` package against our own sliding window.

Issue 11 asked for the well-kept ``limits`` package for rate limits, and to move the reactions
limit (``domain/reactions.py`` ``SlidingWindowLimiter``, a deque per key) onto it unless it is
more than 2x slower per hit in memory. Both run the same hits in one process, alternately,
several rounds; the figure is each one's median per-hit time and the ratio of medians.

Run: .venv/bin/python -m bench.rate_limits [--hits 200000] [--keys 5000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable

from limits import RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bench.common import machine, save, show
from salon.domain.errors import RateLimited
from salon.domain.reactions import SlidingWindowLimiter


def _own(keys: list[str], limit: int, window: int) -> Callable[[], None]:
    limiter = SlidingWindowLimiter(limit=limit, window=window)

    def run() -> None:
        now = time.time()
        for key in keys:
            with contextlib.suppress(RateLimited):
                limiter.hit(key, now=now)

    return run


def _limits_sync(keys: list[str], limit: int, window: int) -> Callable[[], None]:
    limiter = MovingWindowRateLimiter(MemoryStorage())
    item = RateLimitItemPerSecond(limit, window)

    def run() -> None:
        for key in keys:
            limiter.hit(item, "reaction", key)

    return run


def _limits_async(keys: list[str], limit: int, window: int) -> Callable[[], None]:
    limiter = AsyncMovingWindow(storage_from_string("async+memory://"))
    item = RateLimitItemPerSecond(limit, window)

    async def hits() -> None:
        for key in keys:
            await limiter.hit(item, "reaction", key)

    def run() -> None:
        asyncio.run(hits())

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=5_000, help="distinct people")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    keys = [f"space:{i % args.keys}" for i in range(args.hits)]
    makers = {
        "own sliding window (deque per key)": _own,
        "limits moving window, sync memory": _limits_sync,
        "limits moving window, asyncio memory": _limits_async,
    }
    per_hit: dict[str, list[float]] = {name: [] for name in makers}
    for _ in range(args.rounds):
        for name, make in makers.items():
            run = make(keys, 10, 10)  # a fresh limiter each round: the same hits refused
            started = time.perf_counter()
            run()
            per_hit[name].append((time.perf_counter() - started) / args.hits * 1e6)
    own = statistics.median(per_hit["own sliding window (deque per key)"])
    rows = []
    for name, times in per_hit.items():
        median = statistics.median(times)
        rows.append(
            {
                "limiter": name,
                "us_per_hit_median": round(median, 3),
                "us_per_hit_min": round(min(times), 3),
                "us_per_hit_max": round(max(times), 3),
                "ratio_to_own": round(median / own, 2),
            }
        )
    headers = ["limiter", "µs/hit median", "min", "max", "× own"]
    show(
        "Rate limits: cost per hit (memory)",
        headers,
        [
            [
                r["limiter"],
                r["us_per_hit_median"],
                r["us_per_hit_min"],
                r["us_per_hit_max"],
                r["ratio_to_own"],
            ]
            for r in rows
        ],
    )
    save("rate_limits", {"hits": args.hits, "keys": args.keys, "rows": rows}, host=machine())


if __name__ == "__main__":
    main()
