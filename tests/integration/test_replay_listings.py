"""Finding replays: a person's spaces (live, upcoming, past with their replay), the replays
of the people one follows, and the host deleting a recording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.harness import Server, client, problem


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def test_a_profile_lists_live_then_upcoming_then_past_spaces(server: Server) -> None:
    host = await server.person("host")
    other = await server.person("other")
    soon = datetime.now(UTC) + timedelta(days=1)
    cancelled = await host.create_space("Never", scheduled_for=iso(soon))
    await host.ok("POST", f"/api/spaces/{cancelled['id']}/cancel")
    recorded = await host.create_space("Recorded", recording=True)
    await host.ok("POST", f"/api/spaces/{recorded['id']}/end")
    plain = await host.create_space("Unrecorded")
    await host.ok("POST", f"/api/spaces/{plain['id']}/end")
    upcoming = await host.create_space("Upcoming", scheduled_for=iso(soon))
    live = await host.create_space("On now")
    await other.create_space("Someone else's")

    listed = await other.ok("GET", "/api/users/host/spaces")
    assert [s["title"] for s in listed] == ["On now", "Upcoming", "Unrecorded", "Recorded"]
    by_title = {s["title"]: s for s in listed}
    assert by_title["On now"]["id"] == live["id"]
    assert by_title["Upcoming"]["id"] == upcoming["id"]
    assert by_title["On now"]["replay"] is None
    assert by_title["Upcoming"]["replay"] is None
    assert by_title["Unrecorded"]["replay"] is None
    replay = by_title["Recorded"]["replay"]
    ended = datetime.fromisoformat(by_title["Recorded"]["ended_at"])
    days = server.settings.recording_days
    assert replay["available"] is True
    assert replay["deleted"] is False
    assert datetime.fromisoformat(replay["expires_at"]) == ended + timedelta(days=days)

    page = await other.ok("GET", "/api/users/host/spaces", params={"limit": 2, "offset": 1})
    assert [s["title"] for s in page] == ["Upcoming", "Unrecorded"]
    server.clock.advance(days * 86400 + 1)
    async with client(server) as anonymous:  # sessions expire too: ask signed out
        expired = (await anonymous.get("/api/users/host/spaces")).json()[-1]
    assert expired["title"] == "Recorded"
    assert expired["replay"]["available"] is False


async def test_listings_validate_their_parameters(server: Server) -> None:
    person = await server.person("person")
    problem(await person.call("GET", "/api/users/nobody_here/spaces"), 404)
    problem(await person.call("GET", "/api/users/person/spaces", params={"limit": 0}), 422)
    problem(await person.call("GET", "/api/users/person/spaces", params={"limit": 101}), 422)
    problem(await person.call("GET", "/api/users/person/spaces", params={"offset": -1}), 422)
    problem(await person.call("GET", "/api/users/bad handle!/spaces"), 422)
    problem(await person.call("GET", "/api/me/replays", params={"limit": "many"}), 422)
    async with client(server) as anonymous:
        problem(await anonymous.get("/api/me/replays"), 401)


async def test_home_replays_come_from_the_people_you_follow(server: Server) -> None:
    fan = await server.person("fan")
    followed = await server.person("followed")
    stranger = await server.person("stranger")
    await fan.ok("PUT", "/api/users/followed/follow")
    assert await fan.ok("GET", "/api/me/replays") == []
    titles = ["First", "Second", "Third"]
    for title in titles:
        space = await followed.create_space(title, recording=True)
        await followed.ok("POST", f"/api/spaces/{space['id']}/end")
    unrecorded = await followed.create_space("Unrecorded")
    await followed.ok("POST", f"/api/spaces/{unrecorded['id']}/end")
    await followed.create_space("Still live", recording=True)
    theirs = await stranger.create_space("Not followed", recording=True)
    await stranger.ok("POST", f"/api/spaces/{theirs['id']}/end")

    shelf = await fan.ok("GET", "/api/me/replays")
    assert [s["title"] for s in shelf] == ["Third", "Second", "First"]
    assert all(s["replay"]["available"] for s in shelf)
    page = await fan.ok("GET", "/api/me/replays", params={"limit": 1, "offset": 1})
    assert [s["title"] for s in page] == ["Second"]
    # The host deletes one: it leaves the shelf. Expired ones leave it too.
    await followed.ok("DELETE", f"/api/spaces/{shelf[0]['id']}/recording")
    assert [s["title"] for s in await fan.ok("GET", "/api/me/replays")] == ["Second", "First"]
    token = (await fan.ok("POST", "/api/me/tokens", json={"name": "shelf"}))["token"]
    server.clock.advance(server.settings.recording_days * 86400 + 1)
    async with client(server, Authorization=f"Bearer {token}") as by_token:
        assert (await by_token.get("/api/me/replays")).json() == []


async def test_only_the_host_deletes_a_recording_and_then_it_is_gone(server: Server) -> None:
    host = await server.person("host")
    invited = await server.person("invited")
    listener = await server.person("listener")
    sid = (await host.create_space("To delete", recording=True))["id"]
    await invited.join(sid)
    await host.ok("POST", f"/api/spaces/{sid}/participants/{invited.id}/invite")
    await listener.join(sid)
    # Not while it is live.
    problem(await host.call("DELETE", f"/api/spaces/{sid}/recording"), 404)
    await host.ok("POST", f"/api/spaces/{sid}/end")
    for someone in (invited, listener):
        refused = problem(await someone.call("DELETE", f"/api/spaces/{sid}/recording"), 403)
        assert "only the host" in refused["detail"]
    problem(await listener.call("DELETE", "/api/spaces/nonexistent1/recording"), 404)
    await host.ok("DELETE", f"/api/spaces/{sid}/recording")
    problem(await host.call("DELETE", f"/api/spaces/{sid}/recording"), 410)
    problem(await listener.call("GET", f"/api/spaces/{sid}/replay"), 410)
    problem(await listener.call("GET", f"/api/spaces/{sid}/listen"), 410)
    status = (await listener.ok("GET", "/api/users/host/spaces"))[0]["replay"]
    assert status == {"available": False, "expires_at": None, "deleted": True}
    unrecorded = (await host.create_space("Plain"))["id"]
    await host.ok("POST", f"/api/spaces/{unrecorded}/end")
    problem(await host.call("DELETE", f"/api/spaces/{unrecorded}/recording"), 404)
