"""The follow graph: follow/unfollow, counts on profiles, follower and following lists."""

from __future__ import annotations

from typing import Any

import httpx

from tests.harness import Person, Server, client, problem


async def profile(viewer: Person, handle: str) -> dict[str, Any]:
    body: dict[str, Any] = await viewer.ok("GET", f"/api/users/{handle}")
    return body


async def handles(viewer: Person, path: str) -> list[str]:
    rows: list[dict[str, Any]] = await viewer.ok("GET", path)
    return [row["handle"] for row in rows]


async def test_follow_and_unfollow_are_idempotent(server: Server) -> None:
    alice = await server.person("alice")
    bob = await server.person("bob")
    for _ in range(2):
        response = await bob.call("PUT", "/api/users/alice/follow", status=204)
        assert response.content == b""
        seen = await profile(bob, "alice")
        assert seen["followers_count"] == 1
        assert seen["following_count"] == 0
        assert seen["followed_by_me"] is True
        bob_seen = await profile(alice, "bob")
        assert bob_seen["following_count"] == 1
        assert bob_seen["followers_count"] == 0
        assert bob_seen["followed_by_me"] is False
    assert (await alice.ok("GET", "/api/me"))["followers_count"] == 1
    assert (await bob.ok("GET", "/api/me"))["following_count"] == 1
    assert await handles(alice, "/api/users/alice/followers") == ["bob"]
    assert await handles(alice, "/api/users/bob/following") == ["alice"]

    for _ in range(2):
        await bob.call("DELETE", "/api/users/alice/follow", status=204)
        seen = await profile(bob, "alice")
        assert seen["followers_count"] == 0
        assert seen["followed_by_me"] is False
        assert (await profile(alice, "bob"))["following_count"] == 0
    assert await handles(alice, "/api/users/alice/followers") == []
    assert await handles(alice, "/api/users/bob/following") == []


async def test_follow_is_one_way(server: Server) -> None:
    alice = await server.person("alice")
    bob = await server.person("bob")
    await bob.call("PUT", "/api/users/alice/follow", status=204)
    assert (await profile(alice, "bob"))["followed_by_me"] is False
    await alice.call("PUT", "/api/users/bob/follow", status=204)
    assert (await profile(alice, "bob"))["followed_by_me"] is True
    assert (await profile(bob, "alice"))["followed_by_me"] is True
    for handle in ("alice", "bob"):
        seen = await profile(alice, handle)
        assert seen["followers_count"] == 1
        assert seen["following_count"] == 1
    # Unfollowing one direction leaves the other.
    await alice.call("DELETE", "/api/users/bob/follow", status=204)
    assert (await profile(bob, "alice"))["followed_by_me"] is True
    assert (await profile(alice, "bob"))["followed_by_me"] is False
    assert (await profile(alice, "bob"))["followers_count"] == 0
    assert (await profile(alice, "alice"))["followers_count"] == 1


async def test_unfollowing_someone_never_followed_is_a_no_op(server: Server) -> None:
    alice = await server.person("alice")
    await server.person("bob")
    await alice.call("DELETE", "/api/users/bob/follow", status=204)
    seen = await profile(alice, "bob")
    assert seen["followers_count"] == 0
    assert seen["following_count"] == 0


async def test_counts_with_several_followers(server: Server) -> None:
    star = await server.person("star")
    fans = [await server.person(f"fan{i}") for i in range(4)]
    for fan in fans:
        await fan.call("PUT", "/api/users/star/follow", status=204)
    await star.call("PUT", "/api/users/fan0/follow", status=204)
    seen = await profile(fans[1], "star")
    assert seen["followers_count"] == 4
    assert seen["following_count"] == 1
    assert seen["followed_by_me"] is True
    assert (await profile(star, "star"))["followed_by_me"] is False
    async with client(server) as http:
        anon = (await http.get("/api/users/star")).json()
        assert anon["followers_count"] == 4
        assert anon["following_count"] == 1
        assert anon["followed_by_me"] is False
    await fans[2].call("DELETE", "/api/users/star/follow", status=204)
    assert (await profile(star, "star"))["followers_count"] == 3
    assert (await profile(fans[2], "star"))["followed_by_me"] is False
    assert (await profile(fans[3], "star"))["followed_by_me"] is True


async def test_handles_are_matched_case_insensitively(server: Server) -> None:
    await server.person("Alice")
    bob = await server.person("bob")
    await bob.call("PUT", "/api/users/ALICE/follow", status=204)
    await bob.call("PUT", "/api/users/alice/follow", status=204)
    seen = await profile(bob, "aLiCe")
    assert seen["handle"] == "Alice"
    assert seen["followers_count"] == 1
    assert await handles(bob, "/api/users/alice/followers") == ["bob"]
    assert await handles(bob, "/api/users/BOB/following") == ["Alice"]
    await bob.call("DELETE", "/api/users/aLIce/follow", status=204)
    assert (await profile(bob, "Alice"))["followers_count"] == 0


async def test_followers_list_pages_newest_first(server: Server) -> None:
    star = await server.person("star")
    fans = [await server.person(f"fan{i}") for i in range(5)]
    for fan in fans:
        await fan.call("PUT", "/api/users/star/follow", status=204)
        server.clock.advance(1)
    newest_first = [f"fan{i}" for i in reversed(range(5))]
    assert await handles(star, "/api/users/star/followers") == newest_first
    pages = [
        await handles(star, f"/api/users/star/followers?limit=2&offset={offset}")
        for offset in (0, 2, 4)
    ]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    assert await handles(star, "/api/users/star/followers?limit=1&offset=3") == ["fan1"]
    assert await handles(star, "/api/users/star/followers?offset=5") == []
    assert await handles(star, "/api/users/star/followers?offset=100") == []
    # Summaries, not full profiles.
    rows = await star.ok("GET", "/api/users/star/followers?limit=1")
    assert set(rows[0]) == {"id", "handle", "display_name", "verified"}
    assert rows[0]["id"] == fans[4].id
    # Anyone may read the lists.
    async with client(server) as http:
        response = await http.get("/api/users/star/followers", params={"limit": 3})
        assert response.status_code == 200
        assert [r["handle"] for r in response.json()] == newest_first[:3]


async def test_following_list_pages_newest_first(server: Server) -> None:
    fan = await server.person("fan")
    for i in range(5):
        await server.person(f"star{i}")
    for i in range(5):
        await fan.call("PUT", f"/api/users/star{i}/follow", status=204)
        server.clock.advance(1)
    newest_first = [f"star{i}" for i in reversed(range(5))]
    assert await handles(fan, "/api/users/fan/following") == newest_first
    assert await handles(fan, "/api/users/fan/following?limit=3") == newest_first[:3]
    assert await handles(fan, "/api/users/fan/following?limit=3&offset=3") == newest_first[3:]
    assert await handles(fan, "/api/users/fan/following?limit=100&offset=1") == newest_first[1:]
    assert (await profile(fan, "fan"))["following_count"] == 5
    # Unfollowing takes them off the list; following again puts them first.
    await fan.call("DELETE", "/api/users/star2/follow", status=204)
    assert await handles(fan, "/api/users/fan/following") == ["star4", "star3", "star1", "star0"]
    server.clock.advance(1)
    await fan.call("PUT", "/api/users/star0/follow", status=204)
    assert await handles(fan, "/api/users/fan/following") == ["star4", "star3", "star1", "star0"]
    await fan.call("DELETE", "/api/users/star0/follow", status=204)
    await fan.call("PUT", "/api/users/star0/follow", status=204)
    assert await handles(fan, "/api/users/fan/following") == ["star0", "star4", "star3", "star1"]


async def test_list_paging_parameters_are_validated(server: Server) -> None:
    person = await server.person("alice")
    for query in ("limit=0", "limit=101", "limit=-1", "offset=-1", "limit=abc", "offset=x"):
        for which in ("followers", "following"):
            await person.call("GET", f"/api/users/alice/{which}?{query}", status=422)


async def test_following_yourself_is_422(server: Server) -> None:
    alice = await server.person("Alice")
    for spelling in ("Alice", "alice", "ALICE"):
        response = await alice.call("PUT", f"/api/users/{spelling}/follow", status=422)
        assert "yourself" in response.json()["detail"]
    seen = await profile(alice, "alice")
    assert seen["followers_count"] == 0
    assert seen["following_count"] == 0
    assert seen["followed_by_me"] is False
    assert await handles(alice, "/api/users/alice/followers") == []


async def test_unknown_handle_is_404(server: Server) -> None:
    alice = await server.person("alice")
    for method, path in (
        ("PUT", "/api/users/ghost/follow"),
        ("DELETE", "/api/users/ghost/follow"),
        ("GET", "/api/users/ghost"),
        ("GET", "/api/users/ghost/followers"),
        ("GET", "/api/users/ghost/following"),
    ):
        response = await alice.call(method, path, status=404)
        assert "ghost" in response.json()["detail"]
    assert (await profile(alice, "alice"))["following_count"] == 0
    # A malformed handle is invalid rather than unknown.
    await alice.call("PUT", "/api/users/no-such-handle!/follow", status=422)
    await alice.call("GET", f"/api/users/{'x' * 16}", status=422)


async def test_anonymous_cannot_follow_or_unfollow(server: Server) -> None:
    alice = await server.person("alice")
    bob = await server.person("bob")
    await bob.call("PUT", "/api/users/alice/follow", status=204)
    async with client(server) as http:
        problem(await http.put("/api/users/alice/follow"), 401)
        problem(await http.delete("/api/users/alice/follow"), 401)
        problem(await http.put("/api/users/ghost/follow"), 401)
    seen = await profile(alice, "alice")
    assert seen["followers_count"] == 1
    assert await handles(alice, "/api/users/alice/followers") == ["bob"]


async def test_follow_with_an_api_token(server: Server) -> None:
    await server.person("alice")
    bob = await server.person("bob")
    token = await bob.ok("POST", "/api/me/tokens", json={"name": "bot"})
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token['token']}"}
    ) as bot:
        assert (await bot.put("/api/users/alice/follow")).status_code == 204
        seen = (await bot.get("/api/users/alice")).json()
        assert seen["followers_count"] == 1
        assert seen["followed_by_me"] is True
