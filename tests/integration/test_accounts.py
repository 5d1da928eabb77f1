"""Accounts: registration, sign-in/out, the session cookie, /api/me, personal API tokens."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.harness import PASSWORD, Server, client, problem


def register_body(handle: str, **overrides: Any) -> dict[str, Any]:
    return {"handle": handle, "display_name": handle, "password": PASSWORD, **overrides}


def set_cookie_attributes(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The salon_session Set-Cookie header: its value and its attributes (lower-cased keys)."""
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith("salon_session=")]
    assert len(headers) == 1, response.headers
    first, *rest = [part.strip() for part in headers[0].split(";")]
    value = first.split("=", 1)[1]
    attributes: dict[str, str] = {}
    for part in rest:
        key, _, val = part.partition("=")
        attributes[key.lower()] = val
    return value, attributes


# -- registration ---------------------------------------------------------------------------


async def test_register_first_account_is_admin_second_is_not(server: Server) -> None:
    async with client(server) as http:
        first = await http.post("/api/accounts", json=register_body("Ada_L", display_name="Ada"))
        assert first.status_code == 201, first.text
        me = first.json()
        assert me["handle"] == "Ada_L"
        assert me["display_name"] == "Ada"
        assert me["is_admin"] is True
        assert me["verified"] is False
        assert me["can_sell_tickets"] is False
        assert me["bio"] == ""
        assert me["followers_count"] == 0
        assert me["following_count"] == 0
        assert "password" not in me
        assert "password_hash" not in me
        # Registering signs in.
        again = await http.get("/api/me")
        assert again.status_code == 200
        assert again.json()["id"] == me["id"]

    second = await server.person("grace")
    assert second.me["is_admin"] is False
    assert second.me["id"] != me["id"]
    mine = await second.ok("GET", "/api/me")
    assert mine["is_admin"] is False
    assert mine["handle"] == "grace"


async def test_handles_are_unique_case_insensitively(server: Server) -> None:
    await server.person("Alice")
    async with client(server) as http:
        for taken in ("alice", "ALICE", "aLiCe", "Alice"):
            response = await http.post("/api/accounts", json=register_body(taken))
            detail = problem(response, 409)["detail"]
            assert taken in detail or "taken" in detail
        # Nobody got signed in by the failed attempts.
        problem(await http.get("/api/me"), 401)
        # The original keeps its spelling; lookups ignore case.
        profile = await http.get("/api/users/ALICE")
        assert profile.status_code == 200
        assert profile.json()["handle"] == "Alice"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"handle": ""}, "handle"),
        ({"handle": "has space"}, "handle"),
        ({"handle": "a" * 16}, "handle"),
        ({"handle": "héllo"}, "handle"),
        ({"handle": "dash-ed"}, "handle"),
        ({"handle": "trailing\n"}, "handle"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "x" * 51}, "display name is 1 to 50"),
        ({"display_name": "   "}, "display name"),
        ({"display_name": "nul\x00byte"}, "display_name"),
        ({"display_name": "bell\x07"}, "display_name"),
        ({"password": "short"}, "password"),
        ({"password": "1234567"}, "password"),
        ({"password": "p" * 257}, "password"),
        ({"is_admin": True}, "is_admin"),
    ],
)
async def test_register_rejects_invalid_input(
    server: Server, body: dict[str, Any], field: str
) -> None:
    await server.person("admin")
    async with client(server) as http:
        payload = {**register_body("newbie"), **body}
        response = await http.post("/api/accounts", json=payload)
        detail = problem(response, 422)["detail"]
        assert field in detail, detail
        assert "salon_session" not in response.cookies
        # Nothing was created: the handle is still free.
        problem(await http.get("/api/users/newbie"), 404)
        ok = await http.post("/api/accounts", json=register_body("newbie"))
        assert ok.status_code == 201, ok.text


async def test_register_rejects_missing_fields_and_non_json(server: Server) -> None:
    async with client(server) as http:
        problem(await http.post("/api/accounts", json={"handle": "x"}), 422)
        problem(await http.post("/api/accounts", content=b"not json"), 422)
        problem(await http.post("/api/accounts", json=[1, 2]), 422)


async def test_register_accepts_limits(server: Server) -> None:
    async with client(server) as http:
        response = await http.post(
            "/api/accounts",
            json=register_body("a" * 15, display_name="d" * 50, password="p" * 8),
        )
        assert response.status_code == 201, response.text
        assert response.json()["handle"] == "a" * 15
        assert response.json()["display_name"] == "d" * 50


async def test_register_trims_display_name(server: Server) -> None:
    async with client(server) as http:
        response = await http.post(
            "/api/accounts", json=register_body("trim", display_name="  Ada  ")
        )
        assert response.status_code == 201, response.text
        assert response.json()["display_name"] == "Ada"


# -- sign in / sign out ---------------------------------------------------------------------


async def test_sign_in_with_the_right_password(server: Server) -> None:
    person = await server.person("Bob")
    async with client(server) as http:
        response = await http.post("/api/session", json={"handle": "bob", "password": PASSWORD})
        assert response.status_code == 200, response.text
        assert response.json()["id"] == person.id
        assert response.json()["handle"] == "Bob"
        me = await http.get("/api/me")
        assert me.status_code == 200
        assert me.json()["id"] == person.id


async def test_sign_in_with_a_wrong_password_or_unknown_handle_is_401(server: Server) -> None:
    await server.person("bob")
    async with client(server) as http:
        wrong = problem(
            await http.post("/api/session", json={"handle": "bob", "password": "not-the-one"}), 401
        )
        unknown = problem(
            await http.post("/api/session", json={"handle": "nobody", "password": PASSWORD}), 401
        )
        # The answer does not reveal which part was wrong.
        assert wrong["detail"] == unknown["detail"]
        assert "salon_session" not in http.cookies
        problem(await http.get("/api/me"), 401)


async def test_sign_in_validates_its_body(server: Server) -> None:
    await server.person("bob")
    async with client(server) as http:
        problem(await http.post("/api/session", json={"handle": "bob"}), 422)
        problem(await http.post("/api/session", json={"handle": "bo b", "password": "x"}), 422)
        problem(await http.post("/api/session", json={"handle": "bob", "password": ""}), 422)


async def test_banned_account_cannot_sign_in(server: Server) -> None:
    admin = await server.person("admin")
    await server.person("troll")
    await admin.ok("PATCH", "/api/admin/users/troll", json={"banned": True})
    async with client(server) as http:
        body = problem(
            await http.post("/api/session", json={"handle": "troll", "password": PASSWORD}), 403
        )
        assert "banned" in body["detail"]
        assert "salon_session" not in http.cookies
        # A wrong password still says only that the credentials are wrong.
        problem(await http.post("/api/session", json={"handle": "troll", "password": "x"}), 401)


async def test_sign_out_ends_the_session(server: Server) -> None:
    person = await server.person("carol")
    cookie = person.cookie_header
    await person.ok("GET", "/api/me")
    response = await person.call("DELETE", "/api/session", status=204)
    _, attributes = set_cookie_attributes(response)
    assert attributes.get("max-age") == "0" or "expires" in attributes
    await person.call("GET", "/api/me", status=401)
    # The old cookie is dead on the server, not only dropped by this client.
    async with client(server, Cookie=cookie) as http:
        problem(await http.get("/api/me"), 401)
    # Signing out again (or while signed out) is fine.
    await person.call("DELETE", "/api/session", status=204)
    async with client(server) as http:
        assert (await http.delete("/api/session")).status_code == 204


async def test_sign_out_ends_only_that_session(server: Server) -> None:
    person = await server.person("dave")
    async with client(server) as other:
        signed = await other.post("/api/session", json={"handle": "dave", "password": PASSWORD})
        assert signed.status_code == 200
        await person.call("DELETE", "/api/session", status=204)
        still = await other.get("/api/me")
        assert still.status_code == 200
        assert still.json()["id"] == person.id


async def test_forged_session_cookie_is_401(server: Server) -> None:
    await server.person("erin")
    async with client(server, Cookie="salon_session=forged-value") as http:
        problem(await http.get("/api/me"), 401)


async def test_session_expires_after_session_days(make_server: ServerFactory) -> None:
    async with make_server(session_days=1) as server:
        person = await server.person("frank")
        await person.call("GET", "/api/me", status=200)
        server.clock.advance(86400 + 60)
        await person.call("GET", "/api/me", status=401)


# -- the session cookie ---------------------------------------------------------------------


async def test_session_cookie_attributes(server: Server) -> None:
    async with client(server) as http:
        registered = await http.post("/api/accounts", json=register_body("gina"))
        assert registered.status_code == 201
        value, attributes = set_cookie_attributes(registered)
        assert len(value) >= 32
        assert "httponly" in attributes
        assert attributes["samesite"].lower() == "lax"
        assert attributes["path"] == "/"
        assert attributes["max-age"] == str(30 * 86400)
        assert "secure" not in attributes

        signed = await http.post("/api/session", json={"handle": "gina", "password": PASSWORD})
        assert signed.status_code == 200
        other, attributes = set_cookie_attributes(signed)
        assert other != value, "each sign-in opens a new session"
        assert "httponly" in attributes
        assert attributes["samesite"].lower() == "lax"


async def test_session_cookie_secure_when_configured(make_server: ServerFactory) -> None:
    async with make_server(cookie_secure=True) as server, client(server) as http:
        registered = await http.post("/api/accounts", json=register_body("hank"))
        assert registered.status_code == 201
        _, attributes = set_cookie_attributes(registered)
        assert "secure" in attributes
        assert "httponly" in attributes
        assert attributes["samesite"].lower() == "lax"


# -- /api/me --------------------------------------------------------------------------------


async def test_me_needs_sign_in(server: Server) -> None:
    async with client(server) as http:
        problem(await http.get("/api/me"), 401)
        problem(await http.patch("/api/me", json={"bio": "hi"}), 401)


async def test_update_display_name_and_bio(server: Server) -> None:
    person = await server.person("ivy")
    me = await person.ok("PATCH", "/api/me", json={"display_name": "Ivy Q", "bio": "Hello there"})
    assert me["display_name"] == "Ivy Q"
    assert me["bio"] == "Hello there"
    assert me["handle"] == "ivy"
    # Only what is sent changes.
    me = await person.ok("PATCH", "/api/me", json={"bio": "b" * 160})
    assert me["display_name"] == "Ivy Q"
    assert me["bio"] == "b" * 160
    me = await person.ok("PATCH", "/api/me", json={"display_name": "n" * 50})
    assert me["display_name"] == "n" * 50
    assert me["bio"] == "b" * 160
    # Bios may be cleared and may hold line breaks; emoji count as one character each.
    me = await person.ok("PATCH", "/api/me", json={"bio": ""})
    assert me["bio"] == ""
    me = await person.ok("PATCH", "/api/me", json={"bio": "line one\nline two"})
    assert me["bio"] == "line one\nline two"
    me = await person.ok("PATCH", "/api/me", json={"bio": "💜" * 160})
    assert me["bio"] == "💜" * 160
    # Persisted, and visible on the public profile.
    fresh = await person.ok("GET", "/api/me")
    assert fresh["display_name"] == "n" * 50
    assert fresh["bio"] == "💜" * 160
    async with client(server) as http:
        profile = (await http.get("/api/users/ivy")).json()
        assert profile["display_name"] == "n" * 50
        assert profile["bio"] == "💜" * 160


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"display_name": ""}, "display_name"),
        ({"display_name": "   "}, "display name"),
        ({"display_name": "x" * 51}, "display name is 1 to 50"),
        ({"display_name": "a\x00b"}, "display_name"),
        ({"display_name": "esc\x1b[31m"}, "display_name"),
        ({"display_name": "del\x7f"}, "display_name"),
        ({"bio": "b" * 161}, "bio"),
        ({"bio": "nul\x00"}, "bio"),
        ({"bio": "bell\x07"}, "bio"),
        ({"bio": "cr\r"}, "bio"),
        ({"handle": "renamed"}, "handle"),
        ({"is_admin": True}, "is_admin"),
    ],
)
async def test_update_me_rejects_invalid_input(
    server: Server, body: dict[str, Any], needle: str
) -> None:
    person = await server.person("jack")
    before = await person.ok("PATCH", "/api/me", json={"display_name": "Jack", "bio": "hi"})
    response = await person.call("PATCH", "/api/me", status=422, json=body)
    assert needle in response.json()["detail"], response.text
    after = await person.ok("GET", "/api/me")
    assert after == before


async def test_update_me_rejects_lone_surrogates(server: Server) -> None:
    person = await server.person("kate")
    before = await person.ok("GET", "/api/me")
    for raw in (b'{"bio": "\\ud800"}', b'{"display_name": "x\\udfff"}'):
        await person.call(
            "PATCH",
            "/api/me",
            status=422,
            content=raw,
            headers={"content-type": "application/json"},
        )
    assert await person.ok("GET", "/api/me") == before


# -- personal API tokens --------------------------------------------------------------------


async def test_api_token_lifecycle(server: Server) -> None:
    person = await server.person("lena")
    created = await person.call("POST", "/api/me/tokens", status=201, json={"name": "my bot"})
    token = created.json()
    assert token["name"] == "my bot"
    assert token["token"].startswith("salon_")
    assert len(token["token"]) > 30
    assert token["last_used_at"] is None

    # Listed without its secret.
    listed = await person.ok("GET", "/api/me/tokens")
    assert [t["id"] for t in listed] == [token["id"]]
    assert listed[0]["name"] == "my bot"
    assert "token" not in listed[0]
    assert token["token"] not in str(listed)

    # Works as a bearer token, with no cookie, for reads and writes.
    bearer = {"Authorization": f"Bearer {token['token']}"}
    async with client(server, **bearer) as bot:
        me = await bot.get("/api/me")
        assert me.status_code == 200, me.text
        assert me.json()["id"] == person.id
        patched = await bot.patch("/api/me", json={"bio": "set by a bot"})
        assert patched.status_code == 200, patched.text
    assert (await person.ok("GET", "/api/me"))["bio"] == "set by a bot"
    used = await person.ok("GET", "/api/me/tokens")
    assert used[0]["last_used_at"] is not None

    # Revoked: the token stops working and is no longer listed.
    await person.call("DELETE", f"/api/me/tokens/{token['id']}", status=204)
    async with client(server, **bearer) as bot:
        problem(await bot.get("/api/me"), 401)
    assert await person.ok("GET", "/api/me/tokens") == []
    await person.call("DELETE", f"/api/me/tokens/{token['id']}", status=404)
    # The browser session is unaffected.
    await person.call("GET", "/api/me", status=200)


async def test_several_tokens_are_independent(server: Server) -> None:
    person = await server.person("mia")
    one = await person.ok("POST", "/api/me/tokens", json={"name": "one"})
    two = await person.ok("POST", "/api/me/tokens", json={"name": "two"})
    assert one["token"] != two["token"]
    assert one["id"] != two["id"]
    listed = await person.ok("GET", "/api/me/tokens")
    assert [t["name"] for t in listed] == ["one", "two"]
    await person.call("DELETE", f"/api/me/tokens/{one['id']}", status=204)
    async with client(server, Authorization=f"Bearer {one['token']}") as bot:
        problem(await bot.get("/api/me"), 401)
    async with client(server, Authorization=f"Bearer {two['token']}") as bot:
        assert (await bot.get("/api/me")).status_code == 200
    assert [t["name"] for t in await person.ok("GET", "/api/me/tokens")] == ["two"]


async def test_revoking_someone_elses_token_is_404(server: Server) -> None:
    owner = await server.person("nina")
    other = await server.person("oscar")
    token = await owner.ok("POST", "/api/me/tokens", json={"name": "mine"})
    await other.call("DELETE", f"/api/me/tokens/{token['id']}", status=404)
    # Nor does anyone else see it.
    assert await other.ok("GET", "/api/me/tokens") == []
    # It still works and is still listed for its owner.
    async with client(server, Authorization=f"Bearer {token['token']}") as bot:
        response = await bot.get("/api/me")
        assert response.status_code == 200
        assert response.json()["id"] == owner.id
    assert [t["id"] for t in await owner.ok("GET", "/api/me/tokens")] == [token["id"]]


async def test_token_can_manage_tokens_but_other_ids_are_404(server: Server) -> None:
    person = await server.person("pia")
    token = await person.ok("POST", "/api/me/tokens", json={"name": "bot"})
    await person.call("DELETE", "/api/me/tokens/999999", status=404)
    await person.call("DELETE", "/api/me/tokens/0", status=422)
    await person.call("DELETE", "/api/me/tokens/abc", status=422)
    async with client(server, Authorization=f"Bearer {token['token']}") as bot:
        assert (await bot.delete(f"/api/me/tokens/{token['id']}")).status_code == 204
        problem(await bot.get("/api/me"), 401)


async def test_unknown_bearer_token_is_401(server: Server) -> None:
    person = await server.person("quinn")
    async with client(server, Authorization="Bearer salon_not-a-real-token") as bot:
        problem(await bot.get("/api/me"), 401)
        problem(await bot.post("/api/me/tokens", json={"name": "x"}), 401)
    assert await person.ok("GET", "/api/me/tokens") == []


async def test_token_creation_needs_a_session_and_a_valid_name(server: Server) -> None:
    person = await server.person("ruth")
    async with client(server) as http:
        problem(await http.post("/api/me/tokens", json={"name": "x"}), 401)
        problem(await http.get("/api/me/tokens"), 401)
    await person.call("POST", "/api/me/tokens", status=422, json={"name": ""})
    await person.call("POST", "/api/me/tokens", status=422, json={"name": "n" * 51})
    await person.call("POST", "/api/me/tokens", status=422, json={"name": "a\x00"})
    await person.call("POST", "/api/me/tokens", status=422, json={})
    assert await person.ok("GET", "/api/me/tokens") == []
