"""WHEP over HTTP: who may listen over WebRTC, the node's cap (503 and the LL-HLS address),
sessions that end saying why, and removal or a refund hanging up at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from aiortc import RTCPeerConnection

from tests.conftest import ServerFactory
from tests.harness import Person, Server, problem
from tests.integration.test_stripe import (
    charge_refunded,
    event,
    scene,
    session_of,
    settle,
    stripe,
)
from tests.integration.ticketing import buy

OFFER = {"Content-Type": "application/sdp"}
FRAGMENT = "application/trickle-ice-sdpfrag"

__all__ = ["stripe"]  # the Stripe fixture, used by the refund test


@asynccontextmanager
async def receive_only_offer() -> AsyncIterator[str]:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        yield str(pc.localDescription.sdp)
    finally:
        await pc.close()


async def _live_space(server: Server) -> tuple[Person, str]:
    host = await server.person()
    return host, str((await host.create_space("WHEP"))["id"])


async def _gone(person: Person | httpx.AsyncClient, session: str, why: str) -> None:
    """The session ends on its own (the engine hangs up on an event, in a task of its own):
    asked about with a harmless PATCH, it answers 410 saying why once it has."""
    http = person.http if isinstance(person, Person) else person
    end, headers = "a=end-of-candidates\r\n", {"Content-Type": FRAGMENT}

    async def ask() -> httpx.Response:
        return await http.patch(session, content=end, headers=headers)

    async with asyncio.timeout(10):
        while (response := await ask()).status_code == 204:  # noqa: ASYNC110 - polling HTTP
            await asyncio.sleep(0.02)
    assert why in problem(response, 410)["detail"]


async def test_anyone_may_listen_to_a_free_space(server: Server) -> None:
    _, sid = await _live_space(server)
    url = f"/api/spaces/{sid}/whep"
    async with httpx.AsyncClient(base_url=server.url) as anonymous, receive_only_offer() as sdp:
        options = await anonymous.options(url)
        assert options.status_code == 204
        assert options.headers["accept-post"] == "application/sdp"
        answer = await anonymous.post(url, content=sdp, headers=OFFER)
        assert answer.status_code == 201, answer.text
        assert "a=sendonly" in answer.text
        session = answer.headers["location"]
        assert session.startswith(f"{url}/")
        assert answer.headers["etag"]
        assert (await anonymous.get(url)).status_code == 405
        assert (await anonymous.delete(session)).status_code == 204
        await _gone(anonymous, session, "hung up")
        not_a_session = await anonymous.delete(f"{url}/nosuchsession")
        problem(not_a_session, 404)


async def test_past_the_cap_the_answer_is_503_and_the_hls_address(
    make_server: ServerFactory,
) -> None:
    async with make_server(whep_max_viewers=1) as server:
        host, sid = await _live_space(server)
        url = f"/api/spaces/{sid}/whep"
        async with receive_only_offer() as first, receive_only_offer() as second:
            await host.call("POST", url, content=first, headers=OFFER, status=201)
            full = await host.call("POST", url, content=second, headers=OFFER)
        body = problem(full, 503)
        playlist = f"/api/spaces/{sid}/hls/live.m3u8"
        assert playlist in body["detail"]
        assert full.headers["link"].startswith(f'<{playlist}>; rel="alternate"')
        assert full.headers["retry-after"]


async def test_a_removed_listener_is_hung_up_and_kept_out(server: Server) -> None:
    host, sid = await _live_space(server)
    listener = await server.person()
    await listener.join(sid)
    url = f"/api/spaces/{sid}/whep"
    async with receive_only_offer() as sdp:
        answer = await listener.call("POST", url, content=sdp, headers=OFFER, status=201)
        await host.call("POST", f"/api/spaces/{sid}/participants/{listener.id}/remove", status=204)
        await _gone(listener, answer.headers["location"], "removed")
        again = await listener.call("POST", url, content=sdp, headers=OFFER)
        assert "removed" in problem(again, 403)["detail"]


async def test_a_refunded_ticket_hangs_up_its_holder(stripe: tuple[Server, object]) -> None:
    server, _ = stripe
    host, sid = await scene(server)
    buyer = await server.person("buyer")
    purchase = await buy(buyer, sid)
    await settle(server, event("checkout.session.completed", session_of(purchase)))
    await host.ok("POST", f"/api/spaces/{sid}/start")
    url = f"/api/spaces/{sid}/whep"
    async with receive_only_offer() as sdp, httpx.AsyncClient(base_url=server.url) as anonymous:
        problem(await anonymous.post(url, content=sdp, headers=OFFER), 403)
        answer = await buyer.call("POST", url, content=sdp, headers=OFFER, status=201)
        await settle(server, event("charge.refunded", charge_refunded(purchase)))
        await _gone(buyer, answer.headers["location"], "refunded")
        problem(await buyer.call("POST", url, content=sdp, headers=OFFER), 403)
