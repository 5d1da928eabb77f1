"""Sign-in gives nothing away: an unknown handle costs the same Argon2 work as a wrong
password for a real one, at whatever cost the operator configured."""

from __future__ import annotations

from typing import Literal

import argon2
import httpx
import pytest

from tests.harness import FAST_HASHING, Server


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
