"""Sign-in gives nothing away: an unknown handle costs the same Argon2 work as a wrong
password for a real one, at whatever cost the operator configured."""

from __future__ import annotations

from typing import Literal

import argon2
import httpx
import pytest

from tests.conftest import ServerFactory
from tests.harness import FAST_HASHING, PASSWORD, Server, client, problem


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Hashing does not depend on the database."""
    value: str = request.param
    return value


async def test_an_unknown_handle_is_checked_against_a_hash_of_the_configured_cost(
    server: Server,
) -> None:
    await server.person("known")
    ctx = server.app.state.ctx
    configured: argon2.PasswordHasher = ctx.hasher
    checked: list[str] = []

    class Spy(argon2.PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            checked.append(str(hash))
            return super().verify(hash, password)

    ctx.hasher = Spy(time_cost=configured.time_cost, memory_cost=configured.memory_cost)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for handle in ("known", "nobody_here"):
            response = await http.post(
                "/api/session", json={"handle": handle, "password": "wrong-password"}
            )
            assert response.status_code == 401, response.text

    assert len(checked) == 2
    for stored in checked:
        used = argon2.extract_parameters(stored)
        assert (used.time_cost, used.memory_cost) == (
            FAST_HASHING["argon2_time_cost"],
            FAST_HASHING["argon2_memory_kib"],
        ), stored


def _from(address: str) -> dict[str, str]:
    """A request as the edge forwards it for a client at ``address``."""
    return {"X-Forwarded-For": address}


async def _sign_in(
    http: httpx.AsyncClient, handle: str, password: str, address: str
) -> httpx.Response:
    return await http.post(
        "/api/session", json={"handle": handle, "password": password}, headers=_from(address)
    )


async def test_a_hammering_address_is_refused_while_the_owner_signs_in_elsewhere(
    make_server: ServerFactory,
) -> None:
    limits = {"sign_in_limit_per_address": "5/minute", "sign_in_limit_per_account": "8/minute"}
    async with make_server(**limits) as server, client(server) as http:
        await server.person("owner")
        statuses = [
            (await _sign_in(http, "owner", f"guess-{n:04}", "203.0.113.7")).status_code
            for n in range(40)
        ]
        assert statuses == [401] * 5 + [429] * 35
        refused = await _sign_in(http, "owner", PASSWORD, "203.0.113.7")
        body = problem(refused, 429)
        assert "too many failed sign-ins" in body["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        # The owner, elsewhere, with the right password.
        owner = await _sign_in(http, "owner", PASSWORD, "198.51.100.9")
        assert owner.status_code == 200, owner.text


async def test_an_account_attacked_from_many_addresses_still_opens_to_its_owner(
    make_server: ServerFactory,
) -> None:
    limits = {"sign_in_limit_per_address": "3/minute", "sign_in_limit_per_account": "6/minute"}
    async with make_server(**limits) as server, client(server) as http:
        await server.person("owner")
        for n in range(6):  # six addresses, one failure each: the account's limit
            response = await _sign_in(http, "owner", "wrong-password", f"203.0.113.{n + 1}")
            assert response.status_code == 401
        # The addresses that failed on it are refused, even with the right password...
        problem(await _sign_in(http, "owner", PASSWORD, "203.0.113.1"), 429)
        # ... a new one gets its answer, and the owner's address signs in.
        problem(await _sign_in(http, "owner", "wrong-again", "203.0.113.50"), 401)
        assert (await _sign_in(http, "owner", PASSWORD, "198.51.100.9")).status_code == 200


async def test_forwarded_addresses_count_only_from_trusted_proxies(
    make_server: ServerFactory,
) -> None:
    limits = {"sign_in_limit_per_address": "3/minute", "trusted_proxies": []}
    async with make_server(**limits) as server, client(server) as http:
        await server.person("owner")
        # Not behind a trusted proxy: a made-up X-Forwarded-For changes nothing, all four
        # attempts come from this client's own address.
        statuses = [
            (await _sign_in(http, "owner", "wrong-password", f"192.0.2.{n}")).status_code
            for n in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
