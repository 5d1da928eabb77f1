"""Text over its limit is refused with the limit named (422), never cut to fit.

Every text field the web app sends: handle, display name, bio, title, topics, token label.
Each is tried just over its limit (the domain's count, after stripping) and far over it (past
the schema's bound), and exactly at it in emoji, which the server counts as code points.
"""

from __future__ import annotations

from typing import Any

from tests.harness import PASSWORD, Server, client, problem

#: One code point, two UTF-16 units: an input's maxLength would count it twice.
EMOJI = "👍"


def register_body(handle: str, **overrides: Any) -> dict[str, Any]:
    return {"handle": handle, "display_name": handle, "password": PASSWORD, **overrides}


async def test_a_long_handle_is_refused_not_cut(server: Server) -> None:
    async with client(server) as http:
        for handle in ("a" * 16, "a" * 300):
            response = await http.post("/api/accounts", json=register_body(handle))
            detail = problem(response, 422)["detail"]
            assert "a handle is 1 to 15 letters, digits or underscores" in detail, detail
        # No 15-character account was made of it.
        problem(await http.get(f"/api/users/{'a' * 15}"), 404)
        # Signing in with it says the same, rather than trying a shorter handle.
        response = await http.post("/api/session", json={"handle": "a" * 16, "password": PASSWORD})
        assert "1 to 15" in problem(response, 422)["detail"]
        created = await http.post("/api/accounts", json=register_body("a" * 15))
        assert created.status_code == 201, created.text
        assert created.json()["handle"] == "a" * 15


async def test_a_long_display_name_is_refused_at_sign_up(server: Server) -> None:
    async with client(server) as http:
        for name in ("x" * 51, "x" * 300, " " + EMOJI * 51 + " "):
            response = await http.post(
                "/api/accounts", json=register_body("newbie", display_name=name)
            )
            detail = problem(response, 422)["detail"]
            assert "a display name is 1 to 50 characters" in detail, detail
        problem(await http.get("/api/users/newbie"), 404)
        created = await http.post(
            "/api/accounts", json=register_body("newbie", display_name=EMOJI * 50)
        )
        assert created.status_code == 201, created.text
        assert created.json()["display_name"] == EMOJI * 50


async def test_a_long_display_name_or_bio_leaves_the_profile_as_it_was(server: Server) -> None:
    ada = await server.person("ada")
    before = await ada.ok("GET", "/api/me")
    refusals = [
        ({"display_name": "x" * 51}, "a display name is 1 to 50 characters"),
        ({"display_name": "x" * 300}, "a display name is 1 to 50 characters"),
        ({"bio": "b" * 161}, "a bio is at most 160 characters"),
        ({"bio": "b" * 700}, "a bio is at most 160 characters"),
        ({"bio": EMOJI * 161}, "a bio is at most 160 characters"),
    ]
    for body, said in refusals:
        response = await ada.call("PATCH", "/api/me", status=422, json=body)
        assert said in response.json()["detail"], response.text
    assert await ada.ok("GET", "/api/me") == before
    after = await ada.ok("PATCH", "/api/me", json={"bio": EMOJI * 160 + "  "})
    assert after["bio"] == EMOJI * 160


async def test_a_long_title_or_topic_starts_no_space(server: Server) -> None:
    host = await server.person("host")
    refusals = [
        ({"title": "t" * 71}, "a title is 1 to 70 characters"),
        ({"title": "t" * 300}, "a title is 1 to 70 characters"),
        ({"title": EMOJI * 71}, "a title is 1 to 70 characters"),
        ({"title": "ok", "topics": ["x" * 31]}, "a topic is 1 to 30 characters"),
        ({"title": "ok", "topics": ["fine", "x" * 200]}, "a topic is 1 to 30 characters"),
    ]
    for body, said in refusals:
        response = await host.call("POST", "/api/spaces", status=422, json=body)
        assert said in response.json()["detail"], response.text
    listed = await host.ok("GET", "/api/spaces", params={"state": "live"})
    assert listed == []
    space = await host.create_space(EMOJI * 70, topics=["y" * 30])
    assert space["title"] == EMOJI * 70
    assert space["topics"] == ["y" * 30]


async def test_a_long_token_label_is_refused(server: Server) -> None:
    ada = await server.person("ada")
    refusals = [
        ({"name": "l" * 51}, "a token label is 1 to 50 characters"),
        ({"name": "l" * 300}, "a token label is 1 to 50 characters"),
        ({"name": "   "}, "a token label is 1 to 50 characters"),
    ]
    for body, said in refusals:
        response = await ada.call("POST", "/api/me/tokens", status=422, json=body)
        assert said in response.json()["detail"], response.text
    assert await ada.ok("GET", "/api/me/tokens") == []
    made = await ada.ok("POST", "/api/me/tokens", json={"name": EMOJI * 50})
    assert made["name"] == EMOJI * 50
