"""The follower rule for hosting, readable before any form is filled (GET /api/me/hosting)."""

from __future__ import annotations

from tests.conftest import ServerFactory
from tests.harness import client, problem


async def test_hosting_says_how_many_followers_to_go(make_server: ServerFactory) -> None:
    async with make_server(host_min_followers=2) as server:
        admin = await server.person("admin")  # the first account is the admin: exempt
        assert await admin.ok("GET", "/api/me/hosting") == {
            "can_host": True,
            "followers": 0,
            "followers_needed": 2,
            "to_go": 0,
            "exempt": True,
        }
        nova = await server.person("nova")
        fan = await server.person("fan")
        assert await nova.ok("GET", "/api/me/hosting") == {
            "can_host": False,
            "followers": 0,
            "followers_needed": 2,
            "to_go": 2,
            "exempt": False,
        }
        # What it says is what creating a space holds to.
        refused = await nova.call("POST", "/api/spaces", status=403, json={"title": "Mine"})
        assert "(2 to go)" in refused.json()["detail"]
        await fan.ok("PUT", "/api/users/nova/follow")
        await admin.ok("PUT", "/api/users/nova/follow")
        hosting = await nova.ok("GET", "/api/me/hosting")
        assert (hosting["can_host"], hosting["followers"], hosting["to_go"]) == (True, 2, 0)
        await nova.create_space("Mine")
        async with client(server) as anonymous:
            problem(await anonymous.get("/api/me/hosting"), 401)
