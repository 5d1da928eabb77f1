"""What the admin screen reads: people found by handle or name, page by page, and the
instance's settings; and who may not read them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.harness import Person, Server, client, problem


async def find(admin: Person, **query: Any) -> dict[str, Any]:
    body: dict[str, Any] = await admin.ok("GET", "/api/admin/users", params=query)
    return body


def handles(page: dict[str, Any]) -> list[str]:
    return [user["handle"] for user in page["users"]]


async def test_admin_finds_people_by_handle_or_name(server: Server) -> None:
    admin = await server.person("admin")
    await server.person("alice", display_name="Alice Liddell")
    await server.person("bob", display_name="Bobby 100% Tables")
    await server.person("Carol_A", display_name="Carol")

    found = await find(admin, q="ALI")  # a handle, any case
    assert handles(found) == ["alice"]
    assert found["total"] == 1
    assert found["users"][0] == {
        "id": found["users"][0]["id"],
        "handle": "alice",
        "display_name": "Alice Liddell",
        "verified": False,
        "is_admin": False,
        "can_sell_tickets": False,
        "banned": False,
    }
    assert handles(await find(admin, q="tables")) == ["bob"]  # a display name, any case
    assert handles(await find(admin, q="carol_a")) == ["Carol_A"]
    # LIKE's wildcards are plain characters: "%" and "_" match only themselves.
    assert handles(await find(admin, q="100%")) == ["bob"]
    assert handles(await find(admin, q="%")) == ["bob"]
    assert handles(await find(admin, q="_")) == ["Carol_A"]
    assert (await find(admin, q="nobody"))["total"] == 0
    # Empty (or blank): everyone, by handle.
    assert handles(await find(admin, q="  ")) == ["admin", "alice", "bob", "Carol_A"]


async def test_admin_pages_through_people(server: Server) -> None:
    admin = await server.person("admin")
    for handle in ("p1", "p2", "p3", "p4"):
        await server.person(handle)
    first = await find(admin, q="p", per_page=3)
    assert (handles(first), first["page"], first["per_page"], first["total"]) == (
        ["p1", "p2", "p3"],
        1,
        3,
        4,
    )
    second = await find(admin, q="p", per_page=3, page=2)
    assert (handles(second), second["total"]) == (["p4"], 4)
    assert handles(await find(admin, q="p", per_page=3, page=3)) == []
    # The page reflects what an admin just changed.
    await admin.ok("PATCH", "/api/admin/users/p4", json={"can_sell_tickets": True})
    assert (await find(admin, q="p4"))["users"][0]["can_sell_tickets"] is True


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"q": "x" * 51}, "50 characters"),
        ({"q": "tab\x01"}, "should match pattern"),
        ({"page": 0}, "greater than or equal to 1"),
        ({"page": 10_001}, "less than or equal to 10000"),
        ({"per_page": 0}, "greater than or equal to 1"),
        ({"per_page": 101}, "less than or equal to 100"),
        ({"page": "two"}, "valid integer"),
    ],
)
async def test_search_input_is_validated_with_its_limits_named(
    server: Server, query: dict[str, Any], named: str
) -> None:
    admin = await server.person("admin")
    response = await admin.call("GET", "/api/admin/users", params=query)
    body = problem(response, 422)
    assert named in body["detail"], body
    assert body["errors"][0]["loc"][0] == "query"


async def test_instance_settings_name_their_variables_and_keep_secrets(
    make_server: ServerFactory,
) -> None:
    async with make_server(
        host_min_followers=250,
        recording_days=7,
        secret_key="signing-key-not-for-eyes",
        ice_servers=[{"urls": "turn:turn.example:3478", "credential": "turn-pass-not-for-eyes"}],
    ) as server:
        admin = await server.person("admin")
        response = await admin.call("GET", "/api/admin/instance", status=200)
        settings = {entry["key"]: entry for entry in response.json()}
        assert settings["host_min_followers"]["value"] == 250
        assert settings["host_min_followers"]["env"] == "SALON_HOST_MIN_FOLLOWERS"
        assert settings["recording_days"]["value"] == 7
        assert settings["recording_days"]["env"] == "SALON_RECORDING_DAYS"
        assert settings["payment_provider"]["value"] == "test"
        assert settings["registration"]["value"] == "open"
        assert settings["database_url"]["value"] in ("sqlite", "postgresql")
        assert settings["ice_servers"]["value"] == "1 configured"
        assert "not-for-eyes" not in response.text
        assert server.settings.database_url not in response.text


ADMIN_READS = [("GET", "/api/admin/users"), ("GET", "/api/admin/instance")]


@pytest.mark.parametrize(("method", "path"), ADMIN_READS)
async def test_non_admins_and_signed_out_callers_are_refused(
    server: Server, method: str, path: str
) -> None:
    await server.person("admin")
    mallory = await server.person("mallory")
    problem(await mallory.call(method, path), 403)
    token = (await mallory.ok("POST", "/api/me/tokens", json={"name": "script"}))["token"]
    async with client(server, Authorization=f"Bearer {token}") as bot:
        problem(await bot.request(method, path), 403)
    async with client(server) as anonymous:
        refused = problem(await anonymous.request(method, path), 401)
        assert refused["title"] == "Not signed in"


async def test_a_demoted_admin_is_refused_at_once(server: Server) -> None:
    admin = await server.person("admin")
    deputy = await server.person("deputy")
    await admin.ok("PATCH", "/api/admin/users/deputy", json={"is_admin": True})
    assert (await find(deputy, q="admin"))["total"] == 1
    await admin.ok("PATCH", "/api/admin/users/deputy", json={"is_admin": False})
    problem(await deputy.call("GET", "/api/admin/users"), 403)
    problem(await deputy.call("GET", "/api/admin/instance"), 403)
