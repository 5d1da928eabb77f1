"""The stage caps hold under concurrency: many approvals racing for the last seat seat one."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.harness import Person, Server

RACERS = 24


async def _stage_with_one_free_speaker_seat(server: Server) -> tuple[Person, list[Person], str]:
    host = await server.person("host")
    space = await host.create_space("Full house")
    sid = space["id"]
    cohosts = [await server.person(f"co{i}") for i in range(2)]
    for cohost in cohosts:
        await cohost.join(sid)
        await host.ok("PUT", f"/api/spaces/{sid}/cohosts/{cohost.id}")
    for i in range(9):
        speaker = await server.person(f"speaker{i}")
        await speaker.join(sid)
        await speaker.ok("POST", f"/api/spaces/{sid}/hand")
        await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")
    return host, cohosts, sid


async def _speakers(person: Person, sid: str) -> list[dict[str, object]]:
    people = await person.ok("GET", f"/api/spaces/{sid}/participants")
    return [p for p in people if p["role"] == "speaker"]


async def test_racing_approvals_fill_the_last_seat_exactly_once(server: Server) -> None:
    host, cohosts, sid = await _stage_with_one_free_speaker_seat(server)
    hopefuls = [await server.person(f"hopeful{i}") for i in range(RACERS)]
    for hopeful in hopefuls:
        await hopeful.join(sid)
        await hopeful.ok("POST", f"/api/spaces/{sid}/hand")
    moderators = [host, *cohosts]

    responses = await asyncio.gather(
        *(
            moderators[i % 3].call("POST", f"/api/spaces/{sid}/participants/{h.id}/approve")
            for i, h in enumerate(hopefuls)
        )
    )

    assert Counter(r.status_code for r in responses) == {200: 1, 409: RACERS - 1}
    assert len(await _speakers(host, sid)) == 10
    refused = [r.json() for r in responses if r.status_code == 409]
    assert all("10 speaker seats" in problem["detail"] for problem in refused)


async def test_racing_invitation_acceptances_fill_the_last_seat_exactly_once(
    server: Server,
) -> None:
    host, _, sid = await _stage_with_one_free_speaker_seat(server)
    invitees = [await server.person(f"invitee{i}") for i in range(RACERS)]
    for invitee in invitees:
        await invitee.join(sid)
        await host.ok("POST", f"/api/spaces/{sid}/participants/{invitee.id}/invite")

    responses = await asyncio.gather(
        *(i.call("POST", f"/api/spaces/{sid}/invitation/accept") for i in invitees)
    )

    assert Counter(r.status_code for r in responses) == {200: 1, 409: RACERS - 1}
    assert len(await _speakers(host, sid)) == 10


async def test_racing_cohost_appointments_fill_the_last_seat_exactly_once(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Co-host race"))["id"]
    first = await server.person("first")
    await first.join(sid)
    await host.ok("PUT", f"/api/spaces/{sid}/cohosts/{first.id}")
    candidates = [await server.person(f"cand{i}") for i in range(RACERS)]
    for candidate in candidates:
        await candidate.join(sid)

    responses = await asyncio.gather(
        *(host.call("PUT", f"/api/spaces/{sid}/cohosts/{c.id}") for c in candidates)
    )

    assert Counter(r.status_code for r in responses) == {200: 1, 409: RACERS - 1}
    people = await host.ok("GET", f"/api/spaces/{sid}/participants")
    assert sum(p["role"] == "cohost" for p in people) == 2
