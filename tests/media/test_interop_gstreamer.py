"""A standard WebRTC client that is not aiortc (GStreamer's webrtcbin, tests/media/interop) on
Salon's stage: publishing over WHIP and heard over LL-HLS, playing over WHEP, and both through
an impaired link (salon/bots/lossy_link.py: 5 % loss, 30 ± 20 ms delay).

Everything is judged by signal: the tone's frequency in what a listener decodes, and how long
the longest quiet stretch lasts in media time (the decoded samples), never the wall clock.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from salon.bots.analysis import dominant_frequency, tone_strength
from salon.bots.listener import HlsListener
from salon.bots.lossy_link import (
    SEED,
    TO_CLIENT,
    TO_SERVER,
    LossyRelay,
    SignalingProxy,
    loss_generator,
)
from salon.bots.speaker import WhipSpeaker
from salon.bots.tracks import PcmTrack, tone
from salon.media.pcm import SAMPLE_RATE, Pcm
from tests.harness import Person, Server
from tests.media.interop.client import GstClient, require_gstreamer
from tests.media.slow_link import SlowLink

#: The GStreamer publisher's tone, and the Salon bot's a WHEP player should hear.
GST_TONE, BOT_TONE = 620.0, 500.0
#: A tone "is heard" when it holds this share of the spectrum's energy.
HEARD = 0.5
#: The longest quiet (or missing) stretch a listener may meet, in media time.
LONGEST_QUIET = 0.200
#: The LL-HLS listener's poor link: 400 kbit/s, about four times the audio (AAC 96 kbit/s).
SLOW_LINK_RATE = 50_000
#: Quiet: a 10 ms window whose level is below this share of the stretch's median level.
QUIET_LEVEL = 0.25
WINDOW = SAMPLE_RATE // 100


@pytest.fixture(autouse=True)
def _gstreamer() -> None:
    require_gstreamer()


async def _token(person: Person) -> str:
    return str((await person.ok("POST", "/api/me/tokens", json={"name": "gstreamer"}))["token"])


async def _space_with_speaker(server: Server) -> tuple[Person, Person, str]:
    """A live space whose host brought ``speaker`` onto the stage, unmuted."""
    host = await server.person("host")
    sid = str((await host.create_space("Interop"))["id"])
    speaker = await server.person("speaker")
    await speaker.join(sid)
    await speaker.ok("POST", f"/api/spaces/{sid}/hand")
    await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")
    await speaker.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/unmute")
    return host, speaker, sid


async def _hear(hls: HlsListener, frequency: float, seconds: float, *, within: float) -> Pcm:
    """Wait (by listening) until ``frequency`` is heard, then ``seconds`` of the stream."""
    async with asyncio.timeout(within):
        while tone_strength(await hls.listen(seconds=0.4), frequency) < HEARD:
            pass
        return await hls.listen(seconds=seconds)


def longest_quiet(pcm: Pcm) -> float:
    """The longest run of quiet 10 ms windows in ``pcm``, in seconds of media time."""
    windows = pcm[: len(pcm) // WINDOW * WINDOW].astype(np.float64).reshape(-1, WINDOW)
    levels = np.sqrt((windows**2).mean(axis=1))
    quiet = levels < QUIET_LEVEL * float(np.median(levels))
    longest = run = 0
    for flag in quiet:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    return longest * WINDOW / SAMPLE_RATE


def read_wav(path: Path) -> Pcm:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)


def assert_tone_without_holes(pcm: Pcm, frequency: float, what: str) -> None:
    assert len(pcm) > 0, f"{what}: no audio"
    heard = dominant_frequency(pcm)
    assert abs(heard - frequency) < 5, f"{what}: {heard:.0f} Hz, not {frequency:.0f} Hz"
    assert tone_strength(pcm, frequency) > HEARD, f"{what}: the tone is weak"
    quiet = longest_quiet(pcm)
    assert quiet <= LONGEST_QUIET, f"{what}: {quiet * 1000:.0f} ms of quiet at a stretch"


@pytest.fixture
async def bot_speaking(server: Server) -> AsyncIterator[tuple[Person, str]]:
    """A space where a Salon (aiortc) bot speaks ``BOT_TONE`` from the stage; a listener."""
    _, speaker, sid = await _space_with_speaker(server)
    listener = await server.person("listener")
    await listener.join(sid)
    bot = WhipSpeaker(server.url, sid, await _token(speaker), PcmTrack(tone(BOT_TONE, 2.0)))
    async with bot, HlsListener(server.url, sid) as hls:
        await _hear(hls, BOT_TONE, 0.2, within=15)  # the bot's audio flows
        yield listener, sid


# -- publishing (WHIP) ------------------------------------------------------------------------


async def test_a_gstreamer_whip_publisher_is_heard_over_ll_hls(server: Server) -> None:
    _, speaker, sid = await _space_with_speaker(server)
    whip = f"{server.url}/api/spaces/{sid}/whip"
    args = ("--token", await _token(speaker), "--freq", str(GST_TONE), "--seconds", "4")
    async with GstClient("publish", whip, *args) as gst:
        await gst.event("answer", within=20, status=201)
        # DTLS completes: GStreamer's RSA certificate and Salon's DTLS client share a cipher.
        await gst.event("connection", within=15, state="connected")
        async with HlsListener(server.url, sid) as hls:
            audio = await _hear(hls, GST_TONE, 1.5, within=15)
        assert_tone_without_holes(audio, GST_TONE, "the LL-HLS listener")
        assert hls.max_gap_samples <= 1024
        assert await gst.finished(within=30) == 0, gst.what_happened()
    assert {"event": "deleted", "status": 204} in gst.events


async def test_a_gstreamer_publisher_trickles_its_candidates(server: Server) -> None:
    """The offer goes out before any candidate; each follows as a PATCH, answered 204."""
    _, speaker, sid = await _space_with_speaker(server)
    whip = f"{server.url}/api/spaces/{sid}/whip"
    args = ("--token", await _token(speaker), "--trickle", "--seconds", "1")
    async with GstClient("publish", whip, *args) as gst:
        await gst.event("answer", within=20, status=201)
        await gst.event("connection", within=15, state="connected")
        assert await gst.finished(within=30) == 0, gst.what_happened()
    trickled = [e["status"] for e in gst.events if e["event"] == "trickle"]
    assert trickled, gst.what_happened()
    assert set(trickled) == {204}, gst.what_happened()


# -- playing (WHEP) ---------------------------------------------------------------------------


async def test_a_gstreamer_whep_player_hears_the_stage(
    server: Server, bot_speaking: tuple[Person, str], tmp_path: Path
) -> None:
    listener, sid = bot_speaking
    wav = tmp_path / "whep.wav"
    whep = f"{server.url}/api/spaces/{sid}/whep"
    args = ("--token", await _token(listener), "--wav", str(wav), "--seconds", "3")
    async with GstClient("play", whep, *args) as gst:
        await gst.event("answer", within=20, status=201)
        await gst.event("connection", within=15, state="connected")
        assert await gst.finished(within=30) == 0, gst.what_happened()
    assert {"event": "deleted", "status": 204} in gst.events
    audio = read_wav(wav)
    # The first half second may still be the jitter buffer filling.
    assert_tone_without_holes(audio[SAMPLE_RATE // 2 :], BOT_TONE, "the WHEP player")


# -- an impaired link -----------------------------------------------------------------------------


@pytest.mark.parametrize("direction", [TO_SERVER, TO_CLIENT])
def test_relay_loss_is_reproducible(direction: str) -> None:
    """The relay's seed loses 5 % ± 1 point of the first N RTP packets for every N from 300 to
    2000, so a link test's count cannot land outside by chance."""
    losses = loss_generator(SEED, direction, "rtp")
    dropped = 0
    for sent in range(1, 2001):
        dropped += losses.random() < 0.05
        if sent >= 300:
            assert 0.04 <= dropped / sent <= 0.06, (sent, dropped)


async def test_a_gstreamer_publisher_over_a_lossy_link_is_heard_without_holes(
    server: Server,
) -> None:
    """5 % of the publisher's packets lost, the rest 10-50 ms late (some reordered): each loss
    is a moment of quiet, never a hole a listener notices (over 200 ms). (With aiortc's jitter
    buffer spanning 16 packets, a loss silenced the speaker until 15 more had arrived, 300 ms,
    and left that much delay behind; media/inbound.py decodes each packet as it arrives.)
    The LL-HLS listener is on a poor link too: 60 ms each way and 400 kbit/s (slow_link.py),
    about four times the audio's rate; it still keeps its place, without a stall."""
    _, speaker, sid = await _space_with_speaker(server)
    args = ("--token", await _token(speaker), "--freq", str(GST_TONE), "--seconds", "12")
    async with LossyRelay() as relay, SignalingProxy(server.url, relay) as proxy:
        whip = f"{proxy.url}/api/spaces/{sid}/whip"
        async with GstClient("publish", whip, *args) as gst:
            await gst.event("answer", within=20, status=201)
            await gst.event("connection", within=15, state="connected")
            async with (
                SlowLink(server.port, delay=0.06, rate=SLOW_LINK_RATE) as slow,
                HlsListener(slow.url, sid) as hls,
            ):
                audio = await _hear(hls, GST_TONE, 8.0, within=30)
            assert await gst.finished(within=40) == 0, gst.what_happened()
            stats = await gst.event("stats", within=1)
    counters = relay.counters
    summary = counters.summary()
    carried, dropped = counters.carried[TO_SERVER, "rtp"], counters.dropped[TO_SERVER, "rtp"]
    relayed = carried + dropped
    sent = stats.get("outbound-rtp.packets-sent", 0)
    print(f"relay: {summary}; publisher sent {sent} RTP packets")  # shown with pytest -s
    # At least 8 s of 20 ms packets, all of them through the relay (none went around it).
    assert relayed >= 400, summary
    assert relayed >= sent * 0.95, (sent, summary)
    assert 0.94 <= carried / relayed <= 0.96, summary
    assert 0.04 <= dropped / relayed <= 0.06, summary
    # ICE and DTLS went through unimpaired; the server only sent RTCP back (sendonly).
    assert counters.dropped[TO_SERVER, "stun"] == counters.dropped[TO_SERVER, "dtls"] == 0
    assert counters.carried[TO_SERVER, "dtls"] > 0
    assert counters.carried[TO_CLIENT, "stun"] > 0
    assert counters.carried[TO_CLIENT, "rtp"] + counters.dropped[TO_CLIENT, "rtp"] == 0
    assert not relay.unnamed_sources, relay.unnamed_sources
    assert hls.resyncs == 0
    assert hls.max_gap_samples <= LONGEST_QUIET * SAMPLE_RATE, hls.max_gap_samples
    assert_tone_without_holes(audio, GST_TONE, "the LL-HLS listener")
    # The listener's audio came over the slow link (and at most at its rate, with playlists).
    assert slow.bytes["down"] > 0


async def test_a_gstreamer_whep_player_over_a_lossy_link_hears_the_stage(
    server: Server, bot_speaking: tuple[Person, str], tmp_path: Path
) -> None:
    listener, sid = bot_speaking
    wav = tmp_path / "whep.wav"
    args = ("--token", await _token(listener), "--wav", str(wav), "--seconds", "8")
    async with LossyRelay() as relay, SignalingProxy(server.url, relay) as proxy:
        whep = f"{proxy.url}/api/spaces/{sid}/whep"
        async with GstClient("play", whep, *args) as gst:
            await gst.event("answer", within=20, status=201)
            await gst.event("connection", within=15, state="connected")
            assert await gst.finished(within=40) == 0, gst.what_happened()
    carried, dropped = (
        relay.counters.carried[TO_CLIENT, "rtp"],
        relay.counters.dropped[TO_CLIENT, "rtp"],
    )
    summary = relay.counters.summary()
    assert carried + dropped >= 350, summary
    assert 0.04 <= dropped / (carried + dropped) <= 0.06, summary
    assert not relay.unnamed_sources, relay.unnamed_sources
    assert_tone_without_holes(read_wav(wav)[SAMPLE_RATE // 2 :], BOT_TONE, "the WHEP player")
