"""Reactions: the fixed set, seen by everyone present, rate-limited per person."""

from __future__ import annotations

from typing import Any

from tests.harness import Server

EMOJI = ["😂", "😲", "😢", "💜", "💯", "👏", "✊", "👍", "👎", "👋"]


async def test_every_reaction_reaches_everyone_present(server: Server) -> None:
    host = await server.person("host")
    fan = await server.person("fan")
    sid = (await host.create_space("Applause"))["id"]
    await fan.join(sid)
    async with host.events(sid) as stream:
        for emoji in EMOJI:
            sent = await fan.ok("POST", f"/api/spaces/{sid}/reactions", json={"emoji": emoji})
            assert sent == {"emoji": emoji}
            event = await stream.next("reaction")
            assert (event["user_id"], event["emoji"]) == (fan.id, emoji)


async def test_only_the_fixed_set_is_accepted(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Strict"))["id"]
    for bad in ["🍕", "", "👏👏", "clap"]:
        response = await host.call(
            "POST", f"/api/spaces/{sid}/reactions", json={"emoji": bad}, status=422
        )
        assert "emoji" in response.json()["detail"]


async def test_reactions_are_rate_limited_per_person(make_server: Any) -> None:
    async with make_server(reaction_limit=3, reaction_window_seconds=10) as server:
        host = await server.person("host")
        fan = await server.person("fan")
        sid = (await host.create_space("Calm down"))["id"]
        await fan.join(sid)
        path = f"/api/spaces/{sid}/reactions"
        for _ in range(3):
            await fan.call("POST", path, json={"emoji": "👏"}, status=201)
        limited = await fan.call("POST", path, json={"emoji": "👏"}, status=429)
        assert 1 <= int(limited.headers["retry-after"]) <= 10
        assert "3 reactions every 10 seconds" in limited.json()["detail"]
        # Someone else's budget is their own.
        await host.call("POST", path, json={"emoji": "💜"}, status=201)
        server.clock.advance(10)
        await fan.call("POST", path, json={"emoji": "👏"}, status=201)


async def test_only_people_in_the_space_can_react(server: Server) -> None:
    host = await server.person("host")
    stranger = await server.person("stranger")
    sid = (await host.create_space("Members"))["id"]
    await stranger.call("POST", f"/api/spaces/{sid}/reactions", json={"emoji": "👋"}, status=403)
