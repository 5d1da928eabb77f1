"""Rate limits over the ``limits`` package (moving windows), in memory or, by configuration,
in a shared store such as Redis (``SALON_RATE_LIMIT_STORAGE``, any ``limits`` storage URI).

Sign-in (as Mastodon's and Synapse's do): failed attempts are limited per client address,
and per account *for the addresses that failed on it*, so a person hammered from one address
still signs in from another with the right password, while the hammering address is refused
before its password is even checked.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from salon.domain.errors import RateLimited

#: Prefixes keep each limit's keys apart in a shared store.
_ADDRESS = "salon:sign-in:address"
_ACCOUNT = "salon:sign-in:account"
_ACCOUNT_ADDRESS = "salon:sign-in:account-address"


class RateLimits:
    """The instance's limits on one storage (memory, or a store shared between nodes)."""

    def __init__(self, *, storage: str, per_address: str, per_account: str) -> None:
        scheme = storage if storage.startswith("async+") else f"async+{storage}"
        self._limiter = MovingWindowRateLimiter(storage_from_string(scheme))
        self._per_address = parse(per_address)
        self._per_account = parse(per_account)

    async def check_sign_in(self, *, account: str, address: str) -> None:
        """Refuse (429) an address that failed too often, or that failed on an account that
        failed too often; called before the password is checked."""
        if not await self._limiter.test(self._per_address, _ADDRESS, address):
            await self._refuse(self._per_address, (_ADDRESS, address), "from your address")
        if not await self._limiter.test(
            self._per_account, _ACCOUNT, account
        ) and await self._failed_here(account, address):
            await self._refuse(self._per_account, (_ACCOUNT, account), "for this account")

    async def failed_sign_in(self, *, account: str, address: str) -> None:
        """Count a wrong password (or unknown handle) against the address and the account."""
        await self._limiter.hit(self._per_address, _ADDRESS, address)
        await self._limiter.hit(self._per_account, _ACCOUNT, account)
        await self._limiter.hit(self._per_account, _ACCOUNT_ADDRESS, account, address)

    async def _failed_here(self, account: str, address: str) -> bool:
        stats = await self._limiter.get_window_stats(
            self._per_account, _ACCOUNT_ADDRESS, account, address
        )
        return stats.remaining < self._per_account.amount

    async def _refuse(self, item: RateLimitItem, key: tuple[str, ...], where: str) -> None:
        stats = await self._limiter.get_window_stats(item, *key)
        raise RateLimited(
            f"too many failed sign-ins {where}: try again later",
            retry_after=max(stats.reset_time - time.time(), 1.0),
        )
