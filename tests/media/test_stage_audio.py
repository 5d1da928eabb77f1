"""Real aiortc speakers on loopback: mix-minus over WebRTC, the program over LL-HLS, mute."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from salon.bots.analysis import tone_strength
from salon.bots.listener import HlsListener
from salon.bots.speaker import WhipSpeaker
from salon.bots.tracks import PcmTrack, tone
from tests.harness import Person, Server

TONES = {"host": 300.0, "alice": 500.0, "bob": 700.0}
#: A tone "is heard" above this share of the spectrum's energy, "absent" below the other.
HEARD, ABSENT = 0.05, 0.005


async def _token(person: Person) -> str:
    return str((await person.ok("POST", "/api/me/tokens", json={"name": "bot"}))["token"])


async def _stage(server: Server) -> tuple[dict[str, Person], str]:
    host = await server.person("host")
    sid = (await host.create_space("Three tones"))["id"]
    people = {"host": host}
    for name in ("alice", "bob"):
        person = await server.person(name)
        await person.join(sid)
        await person.ok("POST", f"/api/spaces/{sid}/hand")
        await host.ok("POST", f"/api/spaces/{sid}/participants/{person.id}/approve")
        await person.ok("POST", f"/api/spaces/{sid}/participants/{person.id}/unmute")
        people[name] = person
    return people, sid


Stage = tuple[Server, dict[str, Person], str, dict[str, WhipSpeaker]]


@pytest.fixture
async def stage(
    server: Server,
) -> AsyncIterator[Stage]:
    people, sid = await _stage(server)
    async with AsyncExitStack() as stack:
        bots = {}
        for name, person in people.items():
            track = PcmTrack(tone(TONES[name], 2.0))
            bot = WhipSpeaker(server.url, sid, await _token(person), track)
            bots[name] = await stack.enter_async_context(bot)
        await asyncio.sleep(2.0)  # let audio flow through the jitter buffers
        yield server, people, sid, bots


async def test_each_speaker_hears_the_others_and_not_themself(
    stage: Stage,
) -> None:
    _, _, _, bots = stage
    for name, bot in bots.items():
        heard = bot.recent(1.0)
        for other, frequency in TONES.items():
            strength = tone_strength(heard, frequency)
            if other == name:
                assert strength < ABSENT, f"{name} hears their own {frequency} Hz ({strength:.3f})"
            else:
                assert strength > HEARD, f"{name} does not hear {other} ({strength:.3f})"


async def test_listeners_hear_all_three_over_ll_hls_without_gaps(
    stage: Stage,
) -> None:
    server, _, sid, _ = stage
    listener = await server.person("listener")
    await listener.join(sid)
    async with HlsListener(server.url, sid, headers={"Cookie": listener.cookie_header}) as hls:
        audio = await hls.listen(seconds=1.5)
    assert hls.max_gap_samples <= 1024, f"a gap of {hls.max_gap_samples} samples"
    for frequency in TONES.values():
        assert tone_strength(audio, frequency) > HEARD / 2


async def test_a_muted_speaker_reaches_nobody(
    stage: Stage,
) -> None:
    server, people, sid, bots = stage
    host, bob = people["host"], people["bob"]
    await host.ok("POST", f"/api/spaces/{sid}/participants/{bob.id}/mute")
    await asyncio.sleep(0.5)
    for bot in bots.values():
        bot.forget()
    await asyncio.sleep(1.0)
    for name in ("host", "alice"):
        assert tone_strength(bots[name].recent(0.8), TONES["bob"]) < ABSENT
        assert (
            tone_strength(bots[name].recent(0.8), TONES["alice" if name == "host" else "host"])
            > HEARD
        )
    listener = await server.person("listener")
    await listener.join(sid)
    async with HlsListener(server.url, sid, headers={"Cookie": listener.cookie_header}) as hls:
        audio = await hls.listen(seconds=1.0)
    assert tone_strength(audio, TONES["bob"]) < ABSENT
    assert tone_strength(audio, TONES["alice"]) > HEARD / 2


async def test_moving_a_speaker_to_the_audience_closes_their_connection(
    stage: Stage,
) -> None:
    _, people, sid, bots = stage
    await people["host"].ok(
        "POST", f"/api/spaces/{sid}/participants/{people['bob'].id}/move-to-audience"
    )
    async with asyncio.timeout(1.0):
        await bots["bob"].closed.wait()
    assert not bots["alice"].closed.is_set()
