"""WHIP offers that can never carry a speaker's voice are refused with a 4xx that says why;
a usable one is answered with Opus only, whatever else it lists."""

from __future__ import annotations

import re

import pytest
from aiortc import RTCPeerConnection

from salon.media.offer import UnusableOffer, check_offer
from tests.harness import Person, Server, problem

OFFER_HEADERS = {"Content-Type": "application/sdp"}


async def real_offer() -> str:
    """What a WebRTC client (aiortc) offers for one bidirectional audio connection."""
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio", direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)
    finally:
        await pc.close()


def without_fingerprint(sdp: str) -> str:
    return "".join(line for line in sdp.splitlines(keepends=True) if "a=fingerprint" not in line)


def without_opus(sdp: str) -> str:
    """The offer's audio section listing only PCMU (payload type 0)."""
    opus = re.search(r"a=rtpmap:(\d+) opus/48000", sdp)
    assert opus is not None
    kept = [
        line
        for line in sdp.splitlines(keepends=True)
        if not re.match(rf"a=(rtpmap|fmtp|rtcp-fb):(?!0 ){opus[1]}\b", line)
    ]
    text = "".join(kept)
    return re.sub(r"^(m=audio \d+ \S+) [\d ]+$", r"\1 0", text, flags=re.MULTILINE)


def rejected_audio(sdp: str) -> str:
    return re.sub(r"^m=audio \d+", "m=audio 0", sdp, flags=re.MULTILINE)


async def test_a_real_offer_passes_the_check() -> None:
    check_offer(await real_offer())


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (without_fingerprint, "no DTLS fingerprint"),
        (without_opus, "does not offer Opus"),
        (rejected_audio, "port 0"),
        (lambda sdp: sdp.replace("m=audio", "m=video"), "no audio section"),
    ],
)
async def test_spoiled_offers_are_refused_saying_why(spoil: object, why: str) -> None:
    offer = await real_offer()
    assert callable(spoil)
    with pytest.raises(UnusableOffer, match=why):
        check_offer(spoil(offer))


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


async def _host_with_space(server: Server) -> tuple[Person, str]:
    host = await server.person("host")
    return host, str((await host.create_space("Offers"))["id"])


async def test_whip_refuses_unusable_offers_with_a_problem(server: Server) -> None:
    host, sid = await _host_with_space(server)
    offer = await real_offer()
    for spoiled, why in (
        (without_fingerprint(offer), "no DTLS fingerprint"),
        (without_opus(offer), "does not offer Opus"),
        (rejected_audio(offer), "port 0"),
    ):
        response = await host.call(
            "POST", f"/api/spaces/{sid}/whip", content=spoiled, headers=OFFER_HEADERS
        )
        assert why in problem(response, 422)["detail"]
    # The usable offer still works, answered with Opus only.
    answer = await host.call(
        "POST", f"/api/spaces/{sid}/whip", content=offer, headers=OFFER_HEADERS, status=201
    )
    codecs = re.findall(r"a=rtpmap:\d+ ([\w-]+)/", answer.text)
    assert codecs == ["opus"], answer.text
    await host.call("DELETE", answer.headers["location"], status=204)
