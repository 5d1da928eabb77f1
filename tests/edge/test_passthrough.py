"""Everything that is not audio passes through the edge to the origin: a cookie sign-in with
the browser's Origin header (the origin compares it with the Host the edge passes through
unchanged), a space's WebSocket event stream, and a WHIP offer (an SDP body), over HTTP/1.1
on the plain port and over TLS on the HTTPS port (HTTP/2 for requests; the WebSocket over
TLS uses HTTP/1.1, as nginx 1.22 has no WebSockets over HTTP/2)."""

from __future__ import annotations

import json
import ssl

import httpx
import pytest
import websockets
from tests.edge.stack import Stack, register
from tests.harness import PASSWORD

from salon.bots.speaker import WhipSpeaker
from salon.bots.tracks import PcmTrack, tone

pytestmark = pytest.mark.asyncio(loop_scope="session")


def trusting(stack: Stack) -> ssl.SSLContext:
    """A TLS context that trusts the edge's self-signed certificate (and checks the name)."""
    assert stack.edge.certificate is not None
    return ssl.create_default_context(cafile=str(stack.edge.certificate.certificate))


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_sign_in_and_event_stream_through_the_edge(stack: Stack, scheme: str) -> None:
    base = stack.edge.http_url if scheme == "http" else stack.edge.https_url
    tls = trusting(stack) if scheme == "https" else None
    verify: ssl.SSLContext | bool = tls if tls is not None else True
    host = await register(base, verify=verify, http2=True)
    space = await host.ok("POST", "/api/spaces", json={"title": "Through the edge"})
    space_id = space["id"]
    # A browser's cookie sign-in: a state-changing request with its Origin header.
    async with httpx.AsyncClient(base_url=base, verify=verify, http2=True, timeout=30) as http:
        signed_in = await http.post(
            "/api/session",
            json={"handle": host.handle, "password": PASSWORD},
            headers={"Origin": base},
        )
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.http_version == ("HTTP/2" if scheme == "https" else "HTTP/1.1")
        cookie = http.cookies["salon_session"]
        me = await http.get("/api/me")
        assert me.json()["handle"] == host.handle
        joined = await http.post(f"/api/spaces/{space_id}/join", headers={"Origin": base})
        assert joined.status_code < 300, joined.text

        url = base.replace("http", "ws", 1) + f"/api/spaces/{space_id}/events"
        async with websockets.connect(
            url,
            additional_headers={"Cookie": f"salon_session={cookie}"},
            origin=websockets.Origin(base),
            # Its own context: httpx set HTTP/2 in ALPN on the one it was given.
            ssl=trusting(stack) if scheme == "https" else None,
            open_timeout=10,
        ) as events:
            snapshot = json.loads(await events.recv(decode=True))
            assert snapshot["type"] == "snapshot"
            assert snapshot["space"]["id"] == space_id
            reacted = await http.post(
                f"/api/spaces/{space_id}/reactions", json={"emoji": "👏"}, headers={"Origin": base}
            )
            assert reacted.status_code < 300, reacted.text
            while (event := json.loads(await events.recv(decode=True)))["type"] != "reaction":
                pass
            assert event["emoji"] == "👏"
    # A foreign Origin is still refused behind the edge.
    async with httpx.AsyncClient(base_url=base, verify=verify, timeout=30) as http:
        foreign = await http.post(
            "/api/session",
            json={"handle": host.handle, "password": PASSWORD},
            headers={"Origin": "https://elsewhere.example"},
        )
        assert foreign.status_code == 403
    await host.ok("POST", f"/api/spaces/{space_id}/end")
    await host.aclose()


async def test_whip_offer_through_the_edge(stack: Stack) -> None:
    host = await register(stack.edge.http_url)
    space = await host.ok("POST", "/api/spaces", json={"title": "WHIP through the edge"})
    token = (await host.ok("POST", "/api/me/tokens", json={"name": "edge"}))["token"]
    speaker = WhipSpeaker(stack.edge.http_url, space["id"], token, PcmTrack(tone(440, 1.0)))
    await speaker.connect()
    try:
        assert speaker.location is not None
        assert speaker.location.startswith(f"/api/spaces/{space['id']}/whip/")
        description = speaker.pc.remoteDescription
        assert description is not None
        assert description.sdp.startswith("v=0")
    finally:
        await speaker.hang_up()
    await host.ok("POST", f"/api/spaces/{space['id']}/end")
    await host.aclose()
