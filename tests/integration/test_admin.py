"""Admin powers: verify, grant ticket selling, ban, promote; and who may not use them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import PASSWORD, Person, Server, client, problem


async def update(admin: Person, handle: str, **changes: bool) -> dict[str, Any]:
    view: dict[str, Any] = await admin.ok("PATCH", f"/api/admin/users/{handle}", json=changes)
    return view


async def me(person: Person) -> dict[str, Any]:
    body: dict[str, Any] = await person.ok("GET", "/api/me")
    return body


async def test_admin_sets_verified_and_it_shows_on_the_profile(server: Server) -> None:
    admin = await server.person("admin")
    alice = await server.person("alice")
    async with client(server) as http:
        assert (await http.get("/api/users/alice")).json()["verified"] is False

    view = await update(admin, "alice", verified=True)
    assert view["handle"] == "alice"
    assert view["verified"] is True
    assert view["is_admin"] is False
    assert view["banned"] is False
    assert view["can_sell_tickets"] is False
    async with client(server) as http:
        assert (await http.get("/api/users/alice")).json()["verified"] is True
    assert (await me(alice))["verified"] is True
    # Visible wherever the account is summarized, e.g. in follower lists and as a host.
    await alice.call("PUT", "/api/users/admin/follow", status=204)
    followers = await admin.ok("GET", "/api/users/admin/followers")
    assert followers[0]["verified"] is True
    space = await alice.create_space("Verified host")
    assert space["host"]["verified"] is True

    view = await update(admin, "ALICE", verified=False)
    assert view["verified"] is False
    assert (await admin.ok("GET", "/api/users/alice"))["verified"] is False


async def test_only_the_fields_sent_change(server: Server) -> None:
    admin = await server.person("admin")
    await server.person("alice")
    await update(admin, "alice", verified=True, can_sell_tickets=True)
    view = await update(admin, "alice", can_sell_tickets=False)
    assert view["verified"] is True
    assert view["can_sell_tickets"] is False
    view = await update(admin, "alice")
    assert view["verified"] is True
    assert view["can_sell_tickets"] is False
    assert view["banned"] is False
    assert view["is_admin"] is False


async def test_admin_grants_ticket_selling(server: Server) -> None:
    admin = await server.person("admin")
    alice = await server.person("alice")
    assert (await me(alice))["can_sell_tickets"] is False
    view = await update(admin, "alice", can_sell_tickets=True)
    assert view["can_sell_tickets"] is True
    assert (await me(alice))["can_sell_tickets"] is True
    view = await update(admin, "alice", can_sell_tickets=False)
    assert view["can_sell_tickets"] is False
    assert (await me(alice))["can_sell_tickets"] is False


async def test_ban_stops_sessions_and_tokens_and_sign_in(server: Server) -> None:
    admin = await server.person("admin")
    troll = await server.person("troll")
    token = (await troll.ok("POST", "/api/me/tokens", json={"name": "bot"}))["token"]
    cookie = troll.cookie_header
    async with client(server, Authorization=f"Bearer {token}") as bot:
        assert (await bot.get("/api/me")).status_code == 200

    view = await update(admin, "troll", banned=True)
    assert view["banned"] is True

    # The existing browser session stops working, for reads and writes.
    await troll.call("GET", "/api/me", status=401)
    await troll.call("PATCH", "/api/me", status=401, json={"bio": "still here"})
    await troll.call("POST", "/api/spaces", status=401, json={"title": "nope"})
    async with client(server, Cookie=cookie) as http:
        problem(await http.get("/api/me"), 401)
    # So does the API token.
    async with client(server, Authorization=f"Bearer {token}") as bot:
        problem(await bot.get("/api/me"), 401)
        problem(await bot.put("/api/users/admin/follow"), 401)
    # And signing in again is refused.
    async with client(server) as http:
        body = problem(
            await http.post("/api/session", json={"handle": "troll", "password": PASSWORD}), 403
        )
        assert "banned" in body["detail"]
    # Nothing the banned account tried went through.
    assert (await admin.ok("GET", "/api/users/troll"))["bio"] == ""
    assert (await admin.ok("GET", "/api/users/admin"))["followers_count"] == 0
    assert await admin.ok("GET", "/api/spaces") == []


async def test_unban_allows_signing_in_again_but_old_credentials_stay_dead(
    server: Server,
) -> None:
    admin = await server.person("admin")
    troll = await server.person("troll")
    token = (await troll.ok("POST", "/api/me/tokens", json={"name": "bot"}))["token"]
    await update(admin, "troll", banned=True)
    view = await update(admin, "troll", banned=False)
    assert view["banned"] is False
    await troll.call("GET", "/api/me", status=401)
    async with client(server, Authorization=f"Bearer {token}") as bot:
        problem(await bot.get("/api/me"), 401)
    async with client(server) as http:
        signed = await http.post("/api/session", json={"handle": "troll", "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        assert (await http.get("/api/me")).json()["id"] == troll.id


async def test_admin_promotes_and_the_new_admin_can_act(server: Server) -> None:
    admin = await server.person("admin")
    alice = await server.person("alice")
    bob = await server.person("bob")
    await alice.call("PATCH", "/api/admin/users/bob", status=403, json={"verified": True})

    view = await update(admin, "alice", is_admin=True)
    assert view["is_admin"] is True
    assert (await me(alice))["is_admin"] is True

    assert (await update(alice, "bob", verified=True))["verified"] is True
    assert (await me(bob))["verified"] is True
    # The new admin may demote the first one, who then loses the power.
    assert (await update(alice, "admin", is_admin=False))["is_admin"] is False
    assert (await me(admin))["is_admin"] is False
    await admin.call("PATCH", "/api/admin/users/bob", status=403, json={"verified": False})
    assert (await me(bob))["verified"] is True


async def test_admin_bans_another_admin(server: Server) -> None:
    admin = await server.person("admin")
    other = await server.person("other")
    await update(admin, "other", is_admin=True)
    assert (await update(admin, "other", banned=True))["banned"] is True
    await other.call("GET", "/api/me", status=401)


@pytest.mark.parametrize(
    "changes",
    [
        {"verified": True},
        {"can_sell_tickets": True},
        {"banned": True},
        {"is_admin": True},
    ],
)
async def test_non_admin_gets_403_and_nothing_changes(
    server: Server, changes: dict[str, bool]
) -> None:
    admin = await server.person("admin")
    mallory = await server.person("mallory")
    victim = await server.person("victim")
    before = await update(admin, "victim")
    before_self = await update(admin, "mallory")

    response = await mallory.call("PATCH", "/api/admin/users/victim", status=403, json=changes)
    assert "admin" in response.json()["detail"]
    await mallory.call("PATCH", "/api/admin/users/mallory", status=403, json=changes)
    # A token does not lend admin powers either.
    token = (await mallory.ok("POST", "/api/me/tokens", json={"name": "bot"}))["token"]
    async with client(server, Authorization=f"Bearer {token}") as bot:
        problem(await bot.patch("/api/admin/users/victim", json=changes), 403)
    async with client(server) as http:
        problem(await http.patch("/api/admin/users/victim", json=changes), 401)

    assert await update(admin, "victim") == before
    assert await update(admin, "mallory") == before_self
    await victim.call("GET", "/api/me", status=200)
    await mallory.call("GET", "/api/me", status=200)


async def test_admin_cannot_ban_or_demote_themself(server: Server) -> None:
    admin = await server.person("admin")
    for changes in ({"banned": True}, {"is_admin": False}, {"banned": True, "verified": True}):
        response = await admin.call("PATCH", "/api/admin/users/admin", status=409, json=changes)
        assert "themself" in response.json()["detail"]
    await admin.call("PATCH", "/api/admin/users/ADMIN", status=409, json={"banned": True})
    # Nothing changed: still signed in, still an unverified admin.
    mine = await me(admin)
    assert mine["is_admin"] is True
    assert mine["verified"] is False
    # Harmless changes to oneself are fine.
    assert (await update(admin, "admin", verified=True))["verified"] is True
    assert (await update(admin, "admin", banned=False, is_admin=True))["is_admin"] is True


async def test_admin_update_validation(server: Server) -> None:
    admin = await server.person("admin")
    await server.person("alice")
    await admin.call("PATCH", "/api/admin/users/ghost", status=404, json={"verified": True})
    await admin.call("PATCH", "/api/admin/users/alice", status=422, json={"verified": "maybe"})
    await admin.call("PATCH", "/api/admin/users/alice", status=422, json={"handle": "bob"})
    await admin.call("PATCH", "/api/admin/users/bad-handle", status=422, json={"verified": True})
    assert (await admin.ok("GET", "/api/users/alice"))["verified"] is False
