"""WHIP over HTTP as RFC 9725 has it: OPTIONS, Link headers, trickle PATCH, 405s, sessions
that say why they ended, and cross-origin publishing with a bearer token only."""

from __future__ import annotations

import asyncio
import re

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription

from tests.conftest import ServerFactory
from tests.harness import Person, Server, problem
from tests.media.test_whip_offers import OFFER_HEADERS, real_offer

TURN = {
    "urls": ["turn:turn.example:3478", "turns:turn.example:5349"],
    "username": 'u"1',
    "credential": "p",
}
STUDIO = "http://studio.example"
FRAG = "application/trickle-ice-sdpfrag"


async def _space(server: Server) -> tuple[Person, str]:
    host = await server.person()
    return host, str((await host.create_space("WHIP"))["id"])


async def test_options_links_and_the_answer_headers(make_server: ServerFactory) -> None:
    async with make_server(ice_servers=[TURN]) as server:
        host, sid = await _space(server)
        url = f"/api/spaces/{sid}/whip"
        options = await host.call("OPTIONS", url, status=204)
        assert options.headers["accept-post"] == "application/sdp"
        links = options.headers.get_list("link")
        assert links == [
            '<turn:turn.example:3478>; rel="ice-server"; username="u\\"1"; credential="p"; '
            'credential-type="password"',
            '<turns:turn.example:5349>; rel="ice-server"; username="u\\"1"; credential="p"; '
            'credential-type="password"',
        ]
        # Signed out, no TURN credentials are handed out.
        async with httpx.AsyncClient(base_url=server.url) as anonymous:
            bare = await anonymous.options(url)
        assert bare.status_code == 204
        assert "link" not in bare.headers
        for method in ("GET", "HEAD", "PUT"):
            refused = await host.http.request(method, url)
            assert refused.status_code == 405, method
            assert "POST" in refused.headers["allow"]
        answer = await host.call(
            "POST", url, content=await real_offer(), headers=OFFER_HEADERS, status=201
        )
        session = answer.headers["location"]
        assert re.fullmatch(rf"/api/spaces/{sid}/whip/[\w-]+", session)
        assert answer.headers["etag"] == f'"{session.rsplit("/", 1)[1]}"'
        assert answer.headers["accept-patch"] == FRAG
        assert len(answer.headers.get_list("link")) == 2
        for method in ("GET", "PUT", "POST"):
            await host.call(method, session, status=405)
        await host.call("DELETE", session, status=204)


async def test_trickle_patch_and_ice_restart(server: Server) -> None:
    host, sid = await _space(server)
    offer = await real_offer()
    answer = await host.call(
        "POST", f"/api/spaces/{sid}/whip", content=offer, headers=OFFER_HEADERS, status=201
    )
    session, tag = answer.headers["location"], answer.headers["etag"]
    ufrag = re.search(r"a=ice-ufrag:(\S+)", offer)
    assert ufrag is not None
    fragment = (
        f"a=ice-ufrag:{ufrag[1]}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
        "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\na=end-of-candidates\r\n"
    )
    with_type = {"Content-Type": FRAG}
    wrong = await host.call("PATCH", session, content=fragment, headers=OFFER_HEADERS)
    assert FRAG in problem(wrong, 415)["detail"]
    stale = await host.call(
        "PATCH", session, content=fragment, headers={**with_type, "If-Match": '"other"'}
    )
    problem(stale, 412)
    await host.call(
        "PATCH", session, content=fragment, headers={**with_type, "If-Match": tag}, status=204
    )
    garbage = await host.call("PATCH", session, content="hello", headers=with_type)
    problem(garbage, 422)
    restart = fragment.replace(ufrag[1], "newufrag")
    refused = await host.call("PATCH", session, content=restart, headers=with_type)
    assert "ICE restarts" in problem(refused, 501)["detail"]
    other = await server.person()
    await other.call("PATCH", session, content=fragment, headers=with_type, status=404)
    await host.call("DELETE", session, status=204)


async def test_an_ended_session_says_why(server: Server) -> None:
    host, sid = await _space(server)
    url = f"/api/spaces/{sid}/whip"
    first = await host.call(
        "POST", url, content=await real_offer(), headers=OFFER_HEADERS, status=201
    )
    second = await host.call(
        "POST", url, content=await real_offer(), headers=OFFER_HEADERS, status=201
    )
    gone = await host.call("DELETE", first.headers["location"], status=410)
    assert "replaced" in problem(gone, 410)["detail"]
    await host.call("DELETE", second.headers["location"], status=204)
    again = await host.call("DELETE", second.headers["location"], status=410)
    assert "hung up" in problem(again, 410)["detail"]
    await host.call("DELETE", f"{url}/nosuchsession", status=404)


async def test_cross_origin_whip_with_a_bearer_token_only(make_server: ServerFactory) -> None:
    async with make_server(whip_allowed_origins=[STUDIO]) as server:
        host, sid = await _space(server)
        created = await host.call("POST", "/api/me/tokens", json={"name": "studio"}, status=201)
        token = created.json()["token"]
        url = f"/api/spaces/{sid}/whip"
        preflight = await host.http.options(
            url,
            headers={
                "Origin": STUDIO,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == STUDIO
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "Authorization" in preflight.headers["access-control-allow-headers"]
        # The session cookie is ignored from that origin: without a token it is anonymous.
        cookie_only = await host.http.post(
            url, content=await real_offer(), headers={**OFFER_HEADERS, "Origin": STUDIO}
        )
        problem(cookie_only, 401)
        answer = await host.http.post(
            url,
            content=await real_offer(),
            headers={**OFFER_HEADERS, "Origin": STUDIO, "Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 201, answer.text
        assert answer.headers["access-control-allow-origin"] == STUDIO
        assert "Location" in answer.headers["access-control-expose-headers"]
        # Elsewhere that origin is as foreign as any other.
        elsewhere = await host.http.post(
            "/api/spaces", json={"title": "x"}, headers={"Origin": STUDIO}
        )
        problem(elsewhere, 403)
        # Another origin may not publish at all.
        foreign = await host.http.post(
            url,
            content=await real_offer(),
            headers={
                **OFFER_HEADERS,
                "Origin": "http://evil.example",
                "Authorization": f"Bearer {token}",
            },
        )
        problem(foreign, 403)
        hang_up = await host.http.delete(
            answer.headers["location"],
            headers={"Origin": STUDIO, "Authorization": f"Bearer {token}"},
        )
        assert hang_up.status_code == 204


async def test_a_session_whose_connection_fails_says_why(server: Server) -> None:
    """ICE succeeds but DTLS cannot (the offer's fingerprint is not the client's): the
    session ends at once, and the publisher asking about it learns it was DTLS."""
    host, sid = await _space(server)
    client = RTCPeerConnection()
    try:
        client.addTransceiver("audio", direction="sendrecv")
        await client.setLocalDescription(await client.createOffer())
        offer = re.sub(
            r"(a=fingerprint:sha-256 )([0-9A-F:]+)",
            lambda m: m[1] + ":".join(["00"] * 32),
            client.localDescription.sdp,
        )
        answer = await host.call(
            "POST", f"/api/spaces/{sid}/whip", content=offer, headers=OFFER_HEADERS, status=201
        )
        await client.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        session = answer.headers["location"]
        fragment = {"Content-Type": FRAG}

        async def ask() -> httpx.Response:
            return await host.http.patch(
                session, content="a=end-of-candidates\r\n", headers=fragment
            )

        async with asyncio.timeout(20):
            while (response := await ask()).status_code == 204:  # noqa: ASYNC110 - polling HTTP
                await asyncio.sleep(0.05)
        detail = problem(response, 410)["detail"]
        assert "the connection failed" in detail
        assert "DTLS" in detail
    finally:
        await client.close()
