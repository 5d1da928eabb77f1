"""Rate limits over the ``limits`` package (moving windows), in memory or, by configuration,
in a shared store such as Redis (``SALON_RATE_LIMIT_STORAGE``, any ``limits`` storage URI).

Sign-in (as Mastodon's and Synapse's do): failed attempts are limited per client address,
and per account *for the addresses that failed on it*, so a person hammered from one address
still signs in from another with the right password, while the hammering address is refused
before its password is even checked.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from salon.domain.errors import RateLimited
from salon.domain.reactions import SlidingWindowLimiter


class RateLimits:
    """The instance's limits on one storage (memory, or a store shared between nodes).

    Reactions: our own sliding window in memory (``domain/reactions.py``, 2x cheaper a hit
    than ``limits``, bench.rate_limits) for one node; on a shared store, ``limits``' moving
    window there, so a person's reactions are counted once whichever node takes them.
    """

    def __init__(
        self,
        *,
        storage: str,
        per_address: str,
        per_account: str,
        reactions: SlidingWindowLimiter,
        prefix: str = "salon:",
    ) -> None:
        scheme = storage if storage.startswith("async+") else f"async+{storage}"
        # On Redis, redis-py's client (the one the nodes already use), not coredis.
        options = {"implementation": "redispy"} if scheme.startswith("async+redis") else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(scheme, **options))
        self._per_address = parse(per_address)
        self._per_account = parse(per_account)
        self._reactions = reactions
        self._shared = not scheme.startswith("async+memory")
        self._reaction_item = RateLimitItemPerSecond(
            reactions.limit, max(1, round(reactions.window))
        )
        # Prefixes keep each limit's keys apart in a shared store.
        self._address = f"{prefix}sign-in:address"
        self._account = f"{prefix}sign-in:account"
        self._account_address = f"{prefix}sign-in:account-address"
        self._reaction = f"{prefix}reactions"

    async def hit_reaction(self, key: str, *, now: float) -> None:
        """Count one reaction of ``key`` (space and person) or raise RateLimited."""
        if not self._shared:
            self._reactions.hit(key, now=now)
            return
        if not await self._limiter.hit(self._reaction_item, self._reaction, key):
            stats = await self._limiter.get_window_stats(self._reaction_item, self._reaction, key)
            raise RateLimited(
                f"at most {self._reactions.limit} reactions every "
                f"{self._reactions.window:g} seconds",
                retry_after=max(stats.reset_time - time.time(), 0.0),
            )

    async def check_sign_in(self, *, account: str, address: str) -> None:
        """Refuse (429) an address that failed too often, or that failed on an account that
        failed too often; called before the password is checked."""
        if not await self._limiter.test(self._per_address, self._address, address):
            await self._refuse(self._per_address, (self._address, address), "from your address")
        if not await self._limiter.test(
            self._per_account, self._account, account
        ) and await self._failed_here(account, address):
            await self._refuse(self._per_account, (self._account, account), "for this account")

    async def failed_sign_in(self, *, account: str, address: str) -> None:
        """Count a wrong password (or unknown handle) against the address and the account."""
        await self._limiter.hit(self._per_address, self._address, address)
        await self._limiter.hit(self._per_account, self._account, account)
        await self._limiter.hit(self._per_account, self._account_address, account, address)

    async def _failed_here(self, account: str, address: str) -> bool:
        stats = await self._limiter.get_window_stats(
            self._per_account, self._account_address, account, address
        )
        return stats.remaining < self._per_account.amount

    async def _refuse(self, item: RateLimitItem, key: tuple[str, ...], where: str) -> None:
        stats = await self._limiter.get_window_stats(item, *key)
        raise RateLimited(
            f"too many failed sign-ins {where}: try again later",
            retry_after=max(stats.reset_time - time.time(), 1.0),
        )
