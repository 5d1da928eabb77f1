"""Cross-site request refusal: a foreign Origin cannot change anything, over HTTP or WebSocket."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from tests.conftest import ServerFactory
from tests.harness import Person, Server, client

EVIL = "https://evil.example"


def refused(response: httpx.Response) -> None:
    """A 403 problem that names the cross-site origin as the reason."""
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == 403
    assert "Origin" in body["detail"] or "cross-site" in body["detail"]


async def me(person: Person) -> dict[str, Any]:
    body: dict[str, Any] = await person.ok("GET", "/api/me")
    return body


def own_origin(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}"


@pytest.mark.parametrize(
    "origin",
    [
        EVIL,
        "null",
        "http://localhost",
        "http://127.0.0.1",
        "http://127.0.0.1:1",
        "PORT_SUFFIX",
        "PORT_USERINFO",
    ],
)
async def test_foreign_origin_patch_is_refused_and_changes_nothing(
    server: Server, origin: str
) -> None:
    alice = await server.person("alice")
    before = await alice.ok("PATCH", "/api/me", json={"bio": "original"})
    if origin == "PORT_SUFFIX":
        origin = f"http://127.0.0.1:{server.port}.evil.example"
    elif origin == "PORT_USERINFO":
        origin = f"http://127.0.0.1:{server.port}@evil.example"
    response = await alice.http.patch("/api/me", json={"bio": "pwned"}, headers={"Origin": origin})
    refused(response)
    assert await me(alice) == before


async def test_foreign_origin_post_put_delete_are_refused(server: Server) -> None:
    alice = await server.person("alice")
    bob = await server.person("bob")
    token = await alice.ok("POST", "/api/me/tokens", json={"name": "bot"})
    evil = {"Origin": EVIL}

    # POST: create a space, a token; sign in; register.
    refused(await alice.http.post("/api/spaces", json={"title": "forged"}, headers=evil))
    refused(await alice.http.post("/api/me/tokens", json={"name": "stolen"}, headers=evil))
    # PUT: follow.
    refused(await alice.http.put("/api/users/bob/follow", headers=evil))
    # DELETE: revoke a token, sign out.
    refused(await alice.http.delete(f"/api/me/tokens/{token['id']}", headers=evil))
    refused(await alice.http.delete("/api/session", headers=evil))

    assert await alice.ok("GET", "/api/spaces") == []
    assert await alice.ok("GET", "/api/spaces?state=scheduled") == []
    tokens = await alice.ok("GET", "/api/me/tokens")
    assert [t["id"] for t in tokens] == [token["id"]]
    assert (await alice.ok("GET", "/api/users/bob"))["followers_count"] == 0
    # Still signed in, and the token still works.
    assert (await me(alice))["id"] == alice.id
    async with client(server, Authorization=f"Bearer {token['token']}") as bot:
        assert (await bot.get("/api/me")).status_code == 200
    await bob.call("GET", "/api/me", status=200)


async def test_foreign_origin_cannot_unfollow_or_end_a_space(server: Server) -> None:
    alice = await server.person("alice")
    await server.person("bob")
    await alice.call("PUT", "/api/users/bob/follow", status=204)
    space = await alice.create_space("Live")
    evil = {"Origin": EVIL}
    refused(await alice.http.delete("/api/users/bob/follow", headers=evil))
    refused(await alice.http.post(f"/api/spaces/{space['id']}/end", headers=evil))
    assert (await alice.ok("GET", "/api/users/bob"))["followed_by_me"] is True
    assert (await alice.ok("GET", f"/api/spaces/{space['id']}"))["state"] == "live"


async def test_foreign_origin_cannot_use_admin_powers(server: Server) -> None:
    admin = await server.person("admin")
    await server.person("bob")
    evil = {"Origin": EVIL}
    refused(
        await admin.http.patch(
            "/api/admin/users/bob", json={"banned": True, "is_admin": True}, headers=evil
        )
    )
    view = await admin.ok("PATCH", "/api/admin/users/bob", json={})
    assert view["banned"] is False
    assert view["is_admin"] is False


async def test_foreign_origin_registration_and_sign_in_are_refused(server: Server) -> None:
    await server.person("alice")
    async with client(server, Origin=EVIL) as http:
        refused(
            await http.post(
                "/api/accounts",
                json={"handle": "forged", "display_name": "F", "password": "s3cret-pass"},
            )
        )
        refused(
            await http.post("/api/session", json={"handle": "alice", "password": "s3cret-pass"})
        )
        assert "salon_session" not in http.cookies
    async with client(server) as http:
        assert (await http.get("/api/users/forged")).status_code == 404


async def test_foreign_origin_reads_are_not_state_changing(server: Server) -> None:
    alice = await server.person("alice")
    response = await alice.http.get("/api/me", headers={"Origin": EVIL})
    assert response.status_code == 200
    assert response.json()["id"] == alice.id


async def test_same_origin_passes(server: Server) -> None:
    alice = await server.person("alice")
    await server.person("bob")
    same = {"Origin": own_origin(server)}
    patched = await alice.http.patch("/api/me", json={"bio": "same-site"}, headers=same)
    assert patched.status_code == 200, patched.text
    assert (await me(alice))["bio"] == "same-site"
    followed = await alice.http.put("/api/users/bob/follow", headers=same)
    assert followed.status_code == 204
    created = await alice.http.post("/api/spaces", json={"title": "ok"}, headers=same)
    assert created.status_code == 201, created.text
    assert (await alice.ok("GET", "/api/users/bob"))["followers_count"] == 1
    signed_out = await alice.http.delete("/api/session", headers=same)
    assert signed_out.status_code == 204
    await alice.call("GET", "/api/me", status=401)


async def test_https_form_of_own_host_passes(server: Server) -> None:
    alice = await server.person("alice")
    response = await alice.http.patch(
        "/api/me", json={"bio": "tls"}, headers={"Origin": f"https://127.0.0.1:{server.port}"}
    )
    assert response.status_code == 200, response.text


async def test_no_origin_passes(server: Server) -> None:
    alice = await server.person("alice")
    await server.person("bob")
    assert "origin" not in {k.lower() for k in alice.http.headers}
    assert (await alice.ok("PATCH", "/api/me", json={"bio": "script"}))["bio"] == "script"
    await alice.call("PUT", "/api/users/bob/follow", status=204)
    await alice.call("DELETE", "/api/users/bob/follow", status=204)
    token = await alice.ok("POST", "/api/me/tokens", json={"name": "bot"})
    async with client(server, Authorization=f"Bearer {token['token']}") as bot:
        response = await bot.patch("/api/me", json={"bio": "bot"})
        assert response.status_code == 200
    assert (await me(alice))["bio"] == "bot"


async def test_allowed_origins_pass(make_server: ServerFactory) -> None:
    async with make_server(allowed_origins=["https://app.example"]) as server:
        alice = await server.person("alice")
        ok = await alice.http.patch(
            "/api/me", json={"bio": "allowed"}, headers={"Origin": "https://app.example"}
        )
        assert ok.status_code == 200, ok.text
        refused(
            await alice.http.patch(
                "/api/me", json={"bio": "nope"}, headers={"Origin": "https://other.example"}
            )
        )
        assert (await me(alice))["bio"] == "allowed"


async def close_code(ws: ClientConnection) -> tuple[int, list[str | bytes]]:
    """What the server sent before closing, and its close code (1006: no close frame)."""
    received: list[str | bytes] = []
    try:
        async with asyncio.timeout(30):
            while True:
                received.append(await ws.recv())
    except ConnectionClosed as closed:
        return (closed.rcvd.code if closed.rcvd is not None else 1006), received


async def test_foreign_origin_websocket_is_refused(server: Server) -> None:
    host = await server.person("host")
    space = await host.create_space("Live")
    url = f"{server.ws_url}/api/spaces/{space['id']}/events"
    # Refused with the documented close code (a refused handshake would reach a browser as
    # 1006, which says nothing), and nothing is sent before it: no snapshot.
    async with websockets.connect(
        url, origin=Origin(EVIL), additional_headers={"Cookie": host.cookie_header}
    ) as ws:
        assert await close_code(ws) == (1008, [])
    # Anonymous cross-site opens are refused too.
    async with websockets.connect(url, origin=Origin(EVIL)) as ws:
        assert await close_code(ws) == (1008, [])
    # The refused attempt did not count as the host connecting and dropping: still live.
    assert (await host.ok("GET", f"/api/spaces/{space['id']}"))["state"] == "live"


async def test_same_origin_websocket_passes(server: Server) -> None:
    host = await server.person("host")
    space = await host.create_space("Live")
    async with websockets.connect(
        f"{server.ws_url}/api/spaces/{space['id']}/events",
        origin=Origin(own_origin(server)),
        additional_headers={"Cookie": host.cookie_header},
    ) as ws:
        first = await ws.recv()
        assert '"snapshot"' in str(first)
    # And without an Origin (the harness's own client).
    async with host.events(space["id"]) as stream:
        assert stream.snapshot["space"]["id"] == space["id"]
