"""A replay's timeline from a real space: two speaker bots talk in turn while it is recorded;
the stored speaking intervals and a reaction land where the recorded audio says they do."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import av
import m3u8
import numpy as np
import pytest

from salon.bots.analysis import tone_strength
from salon.bots.speaker import WhipSpeaker
from salon.bots.tracks import PcmTrack, tone
from salon.media.pcm import SAMPLE_RATE
from tests.harness import BACKENDS, Person, Server

HOST_HZ = 300
SPEAKER_HZ = 500
TURN = 2.0


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Reactions and the replay's listings are read from the database: both backends."""
    value: str = request.param
    return value


def _turns(frequency: float, *, first: bool) -> np.ndarray[Any, Any]:
    """A turn of tone and a turn of silence (or the other way round), looping."""
    silence = np.zeros(int(TURN * SAMPLE_RATE), dtype=np.int16)
    sound = tone(frequency, TURN)
    return np.concatenate([sound, silence] if first else [silence, sound])


async def _token(person: Person) -> str:
    return str((await person.ok("POST", "/api/me/tokens", json={"name": "bot"}))["token"])


def _speaking_is(ids: list[int]) -> Any:
    return lambda e: e["type"] == "speaking" and e["user_ids"] == ids


async def _recorded_audio(person: Person, playlist_url: str) -> np.ndarray[Any, Any]:
    vod = m3u8.loads((await person.call("GET", playlist_url, status=200)).text)
    base = playlist_url.rsplit("/", 1)[0] + "/"
    data = (await person.call("GET", base + vod.segment_map[0].uri, status=200)).content
    for segment in vod.segments:
        data += (await person.call("GET", base + segment.uri, status=200)).content
    with av.open(io.BytesIO(data), mode="r") as container:
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    return (audio * 32767).astype(np.int16)


@dataclass(frozen=True)
class TurnsTaken:
    """A recorded space that ended after its host and speaker talked in turn."""

    space_id: str
    host: Person
    speaker: Person
    fan: Person


async def take_turns(
    server: Server, *, emoji: str, turns_before: int, turns_after: int
) -> TurnsTaken:
    """Host and speaker bots talk in turn (host first) while the space records; the fan
    reacts with ``emoji`` after ``turns_before`` turns, and the host ends the space
    ``turns_after`` turns later."""
    host = await server.person("host")
    speaker = await server.person("speaker")
    fan = await server.person("fan")
    sid = (await host.create_space("Taking turns", recording=True))["id"]
    await speaker.join(sid)
    await fan.join(sid)
    await speaker.ok("POST", f"/api/spaces/{sid}/hand")
    await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")
    host_bot = WhipSpeaker(
        server.url, sid, await _token(host), PcmTrack(_turns(HOST_HZ, first=True))
    )
    speaker_bot = WhipSpeaker(
        server.url, sid, await _token(speaker), PcmTrack(_turns(SPEAKER_HZ, first=False))
    )
    order = [host.id, speaker.id]
    async with host.events(sid) as events, speaker.events(sid), host_bot, speaker_bot:
        await host.ok("POST", f"/api/spaces/{sid}/participants/{host.id}/unmute")
        await speaker.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/unmute")
        for turn in range(turns_before + turns_after):
            if turn == turns_before:
                await fan.ok("POST", f"/api/spaces/{sid}/reactions", json={"emoji": emoji})
            await events.until(_speaking_is([order[turn % 2]]), within=15)
        await host.ok("POST", f"/api/spaces/{sid}/end")
    return TurnsTaken(sid, host, speaker, fan)


async def test_who_spoke_when_and_reactions_are_stored_on_the_replay_timeline(
    server: Server,
) -> None:
    turns = await take_turns(server, emoji="👏", turns_before=2, turns_after=2)
    sid, host, speaker, fan = turns.space_id, turns.host, turns.speaker, turns.fan
    replay = await fan.ok("GET", f"/api/spaces/{sid}/replay")
    assert replay["duration"] > 6
    assert {p["handle"] for p in replay["people"]} == {"host", "speaker"}
    spoken = replay["speaking"]
    hosts = [i for i in spoken if i["user_id"] == host.id]
    speakers = [i for i in spoken if i["user_id"] == speaker.id]
    assert len(hosts) >= 2, spoken
    assert len(speakers) >= 2, spoken
    assert all(0 <= i["start"] < i["end"] <= replay["duration"] + 0.01 for i in spoken)
    # The reaction was sent while only the speaker spoke: it floats inside their turn.
    (reaction,) = replay["reactions"]
    assert reaction["emoji"] == "👏"
    assert reaction["user_id"] == fan.id
    assert any(i["start"] <= reaction["at"] <= i["end"] for i in speakers), (reaction, speakers)

    # The intervals are where the recorded audio has each voice: the middle of each whole
    # turn holds that speaker's tone, not the other's.
    access = await fan.ok("GET", f"/api/spaces/{sid}/listen")
    pcm = await _recorded_audio(fan, access["playlist_url"])
    checked = 0
    for interval in spoken:
        if interval["end"] - interval["start"] < 1.2:
            continue  # a turn cut by the start or the end of the recording
        middle = (interval["start"] + interval["end"]) / 2
        window = pcm[int((middle - 0.3) * SAMPLE_RATE) : int((middle + 0.3) * SAMPLE_RATE)]
        mine, other = (
            (HOST_HZ, SPEAKER_HZ) if interval["user_id"] == host.id else (SPEAKER_HZ, HOST_HZ)
        )
        assert tone_strength(window, mine) > 0.3, interval
        assert tone_strength(window, mine) > 5 * tone_strength(window, other), interval
        checked += 1
    assert checked >= 3, spoken
