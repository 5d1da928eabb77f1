"""A ticketed space's audio through the edge: nginx checks the credential in the path before
the cache (secure_link), refuses a missing, forged or expired one with a JSON problem and
CORS, and a removed listener's audio stops within the credential's short lifetime. Everyone
with a credential shares the same cached objects."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import httpx
import m3u8
import pytest
import pytest_asyncio
from tests.edge.stack import Account, Stack, buy_ticket, register, ticketed_live_space
from tests.harness import OffsetClock

from salon.domain.audio_credentials import AudioCredentials

pytestmark = pytest.mark.asyncio(loop_scope="session")

_HINT = re.compile(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part(\d+)\.(\d+)\.m4s"')


class Ticketed:
    def __init__(self, space_id: str, host: Account, buyers: list[Account]) -> None:
        self.space_id = space_id
        self.host = host
        self.buyers = buyers


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ticketed(stack: Stack) -> AsyncIterator[Ticketed]:
    host = await register(stack.edge.http_url)
    space_id = await ticketed_live_space(stack.admin, host)
    buyers = [await register(stack.edge.http_url) for _ in range(2)]
    for buyer in buyers:
        await buy_ticket(buyer, space_id)
    yield Ticketed(space_id, host, buyers)
    for account in (host, *buyers):
        await account.aclose()


async def listen(account: Account, space_id: str) -> tuple[str, str]:
    access = await account.ok("GET", f"/api/spaces/{space_id}/listen")
    assert access["credential"], access
    assert f"/{access['credential']}/" in access["playlist_url"]
    return str(access["playlist_url"]), str(access["credential"])


def refused(response: httpx.Response, detail: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert body["status"] == 403
    assert detail in body["detail"], body["detail"]


async def live_part(http: httpx.AsyncClient, playlist: str) -> str:
    """The name of a published part: the hinted one, after a blocking reload for it."""
    text = (await http.get(playlist)).text
    hint = _HINT.search(text)
    assert hint is not None, text
    reload = await http.get(playlist, params={"_HLS_msn": hint[1], "_HLS_part": hint[2]})
    assert reload.status_code == 200, reload.text
    assert f"part{hint[1]}.{hint[2]}.m4s" in reload.text
    return f"part{hint[1]}.{hint[2]}.m4s"


async def test_a_credential_opens_the_audio_and_everyone_shares_the_objects(
    stack: Stack, ticketed: Ticketed
) -> None:
    first, second = ticketed.buyers
    playlist_1, _ = await listen(first, ticketed.space_id)
    playlist_2, _ = await listen(second, ticketed.space_id)
    # Their clients carry session cookies: the cache strips them instead of passing.
    response = await first.http.get(playlist_1)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    parsed = m3u8.loads(response.text)
    assert parsed.preload_hint is not None
    assert "/" not in parsed.preload_hint.uri  # relative: inherits the credential segment
    name = await live_part(first.http, playlist_1)
    directory_1, directory_2 = playlist_1.rsplit("/", 1)[0], playlist_2.rsplit("/", 1)[0]
    for path in (f"{directory_1}/{name}", f"{directory_1}/init.mp4"):
        assert (await first.http.get(path)).status_code == 200
    # Another listener's credential: the same objects, from the cache. Asked on the kept-alive
    # connection the first listener used, so the same nginx worker answers (each worker holds
    # its own objects: on another connection the other worker may fetch its own copy).
    for other in (f"{directory_2}/{name}", f"{directory_2}/init.mp4"):
        again = await first.http.get(other)
        assert again.status_code == 200
        assert again.headers["x-cache"] == "hit", other
        assert again.headers["access-control-allow-origin"] == "*"
    # And to the other listener, on its own connection, whichever worker that lands on.
    for other in (f"{directory_2}/{name}", f"{directory_2}/init.mp4"):
        assert (await second.http.get(other)).status_code == 200


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_missing_forged_and_expired_credentials_are_refused(
    stack: Stack, ticketed: Ticketed, scheme: str
) -> None:
    buyer = ticketed.buyers[0]
    playlist, credential = await listen(buyer, ticketed.space_id)
    name = await live_part(buyer.http, playlist)
    space = ticketed.space_id
    expires, listener, sig = credential.split(".")
    forged_sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    past = OffsetClock()
    past.advance(-120)
    expired = AudioCredentials(stack.edge_secret, lifetime=60, clock=past).issue(
        space_id=space, user_id=buyer.id
    )
    base = stack.edge.http_url if scheme == "http" else stack.edge.https_url
    async with httpx.AsyncClient(base_url=base, verify=False, http2=True, timeout=30) as http:
        for file in ("live.m3u8", "init.mp4", name):
            # No credential: the plain URL of a ticketed space (the origin's refusal).
            refused(await http.get(f"/api/spaces/{space}/hls/{file}"), "ticketed")
            refused(await http.get(f"/api/spaces/{space}/hls/not-a-credential/{file}"), "missing")
            forged = f"{expires}.{listener}.{forged_sig}"
            refused(await http.get(f"/api/spaces/{space}/hls/{forged}/{file}"), "forged")
            # A later expiry than signed is a forgery too.
            stretched = f"{int(expires) + 3600}.{listener}.{sig}"
            refused(await http.get(f"/api/spaces/{space}/hls/{stretched}/{file}"), "forged")
            # Signed for another space.
            refused(
                await http.get(f"/api/spaces/other{space[:5]}/hls/{credential}/{file}"), "forged"
            )
            refused(await http.get(f"/api/spaces/{space}/hls/{expired}/{file}"), "expired")
            good = await http.get(f"/api/spaces/{space}/hls/{credential}/{file}")
            assert good.status_code == 200, good.text
            if scheme == "https":
                assert good.http_version == "HTTP/2"


async def test_a_removed_listener_loses_the_audio_within_a_minute(
    stack: Stack, ticketed: Ticketed
) -> None:
    buyer = ticketed.buyers[1]
    await buyer.ok("POST", f"/api/spaces/{ticketed.space_id}/join")
    playlist, credential = await listen(buyer, ticketed.space_id)
    assert (await buyer.http.get(playlist)).status_code == 200
    await ticketed.host.ok(
        "POST", f"/api/spaces/{ticketed.space_id}/participants/{buyer.id}/remove"
    )
    removed_at = time.time()
    # No renewal for them.
    renewal = await buyer.http.get(f"/api/spaces/{ticketed.space_id}/listen")
    assert renewal.status_code == 403, renewal.text
    # The credential they hold stops opening the audio when it expires (a few seconds here,
    # at most a minute in production). Polled: the wait is the credential's own lifetime.
    while True:
        response = await buyer.http.get(playlist)
        if response.status_code != 200 or time.time() > removed_at + 60:
            break
        await asyncio.sleep(0.2)
    refused(response, "expired")
    stopped_at = time.time()
    assert stopped_at <= removed_at + 60
    assert stopped_at <= int(credential.split(".")[0]) + 2
