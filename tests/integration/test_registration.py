"""Bootstrapping an instance: exactly one founding admin however many sign up at once, and
an operator may close sign-up (accounts then come from ``salon user create``)."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.conftest import ServerFactory
from tests.harness import PASSWORD, Server, problem

RACERS = 20


async def _sign_up(server: Server, handle: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.post(
            "/api/accounts",
            json={"handle": handle, "display_name": handle, "password": PASSWORD},
        )


async def test_racing_first_sign_ups_make_exactly_one_admin(server: Server) -> None:
    responses = await asyncio.gather(*(_sign_up(server, f"first{i}") for i in range(RACERS)))

    assert Counter(r.status_code for r in responses) == {201: RACERS}
    admins = [r.json()["handle"] for r in responses if r.json()["is_admin"]]
    assert len(admins) == 1, admins
    # Later sign-ups are members, and the founder stays the only admin.
    later = await _sign_up(server, "latecomer")
    assert later.status_code == 201
    assert later.json()["is_admin"] is False


async def test_racing_sign_ups_for_one_handle_give_one_account(server: Server) -> None:
    await _sign_up(server, "founder")
    responses = await asyncio.gather(*(_sign_up(server, "Same_Name") for _ in range(8)))

    assert Counter(r.status_code for r in responses) == {201: 1, 409: 7}
    assert all("taken" in r.json()["detail"] for r in responses if r.status_code == 409)


async def test_closed_sign_up_refuses_everyone_and_creates_nothing(
    make_server: ServerFactory,
) -> None:
    async with make_server(registration="closed") as server:
        response = await _sign_up(server, "hopeful")
        body = problem(response, 403)
        assert "sign-up is closed" in body["detail"]
        # Nothing was created: the handle signs in to nothing.
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            signed_in = await http.post(
                "/api/session", json={"handle": "hopeful", "password": PASSWORD}
            )
        assert signed_in.status_code == 401
