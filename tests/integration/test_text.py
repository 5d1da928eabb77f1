"""Text through the API: counted after stripping, normalised, never spoofing or invisible."""

from __future__ import annotations

from tests.harness import Server, problem


async def test_a_full_bio_with_trailing_spaces_is_kept_without_them(server: Server) -> None:
    ada = await server.person("ada")
    bio = "b" * 160
    me = await ada.ok("PATCH", "/api/me", json={"bio": bio + "   "})
    assert me["bio"] == bio
    refused = problem(await ada.call("PATCH", "/api/me", json={"bio": bio + "b"}), 422)
    assert "160" in refused["detail"]


async def test_spoofing_and_invisible_text_is_refused_and_nothing_changes(server: Server) -> None:
    ada = await server.person("ada", display_name="Ada")
    for name, why in (("Ada\u202egnp.exe", "bidirectional"), ("\u200b\u200d", "visible")):
        body = problem(await ada.call("PATCH", "/api/me", json={"display_name": name}), 422)
        assert why in body["detail"]
    assert (await ada.ok("GET", "/api/me"))["display_name"] == "Ada"
    body = problem(await ada.call("POST", "/api/spaces", json={"title": "Live \u2066now"}), 422)
    assert "bidirectional" in body["detail"]
    assert await ada.ok("GET", "/api/spaces") == []  # no space was made


async def test_titles_are_stored_in_one_normal_form(server: Server) -> None:
    ada = await server.person("ada")
    space = await ada.create_space("  Cafe\u0301 hour  ")
    assert space["title"] == "Café hour"
