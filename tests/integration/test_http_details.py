"""HTTP as clients and caches expect it: every allowed method named in a 405's Allow, a GET on
a POST-only API path a 405 (not the web app's 404), a 401 that says how to authenticate,
private answers never cached, and a Secure session cookie behind https."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.harness import Server, client, problem


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """HTTP framing does not depend on the database."""
    value: str = request.param
    return value


async def test_a_405_names_every_method_the_path_answers(server: Server) -> None:
    ada = await server.person("ada")
    sid = (await ada.create_space("Methods"))["id"]
    for method, path, allowed in (
        ("PUT", "/api/me", "GET, PATCH"),
        ("PUT", f"/api/spaces/{sid}/hand", "DELETE, POST"),
        ("PATCH", "/api/session", "DELETE, POST"),
    ):
        response = await ada.call(method, path)
        body = problem(response, 405)
        assert response.headers["allow"] == allowed, (path, response.headers["allow"])
        assert method in body["detail"]


async def test_a_get_on_a_post_only_api_path_is_a_405_not_a_404(server: Server) -> None:
    ada = await server.person("ada")
    sid = (await ada.create_space("Methods"))["id"]
    response = await ada.call("GET", f"/api/spaces/{sid}/hand")
    problem(response, 405)
    assert response.headers["allow"] == "DELETE, POST"
    # A path no API route has is still a 404, and the web app still opens its own pages.
    problem(await ada.call("GET", "/api/no-such-thing"), 404)


async def test_a_401_says_how_to_authenticate(server: Server) -> None:
    async with client(server) as http:
        response = await http.get("/api/me")
        problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_private_answers_are_not_stored(server: Server) -> None:
    ada = await server.person("ada")
    sid = (await ada.create_space("Caching"))["id"]
    # Signed in (a session cookie), a read holds personal data: no-store.
    me = await ada.call("GET", "/api/me", status=200)
    assert me.headers["cache-control"] == "no-store"
    space = await ada.call("GET", f"/api/spaces/{sid}", status=200)
    assert space.headers["cache-control"] == "no-store"
    # A state-changing request's answer, and its errors.
    hand = await ada.call("POST", f"/api/spaces/{sid}/reactions", json={"emoji": "👏"})
    assert hand.headers["cache-control"] == "no-store"
    # Audio keeps its own policy (the same for everyone), cookie or not.
    part = await ada.call("GET", f"/api/spaces/{sid}/hls/init.mp4")
    assert part.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_the_session_cookie_is_secure_behind_https(make_server: ServerFactory) -> None:
    cases: list[tuple[dict[str, Any], bool]] = [
        ({"public_url": "https://salon.example"}, True),
        ({"public_url": "http://127.0.0.1:8000"}, False),
        ({"public_url": "https://salon.example", "cookie_secure": False}, False),
    ]
    for number, (overrides, secure) in enumerate(cases):
        async with make_server(**overrides) as server, client(server) as http:
            registered = await http.post(
                "/api/accounts",
                json={"handle": f"hank{number}", "display_name": "Hank", "password": "long-enough"},
            )
            assert registered.status_code == 201, registered.text
            cookie = registered.headers["set-cookie"].lower()
            assert ("; secure" in cookie) is secure, (overrides, cookie)
