"""The live LL-HLS fast path answers exactly as the FastAPI routes do, and leaves them the rest.

The fast path (``api/hls_fast.py``, answered inside uvicorn by ``api/hls_protocol.py``) takes
only a plain ``_HLS_msn``/``_HLS_part`` query, so the same URL with one more query parameter
goes to the routes: each pair below is one
request answered by each path, compared status, headers (all but ``date``, in order) and body.
Which path answered is seen by counting ``begin_live`` calls from the fast path's module.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import m3u8
import pytest

from salon.api import hls_fast
from salon.api.hls_live import begin_live
from salon.media.engine import MediaEngine
from tests.harness import Person, Server, metric, problem
from tests.integration.ticketing import buy_and_pay, seller, ticketed_space

#: Any parameter the fast path does not know sends the request to the routes (which ignore it).
SLOW = {"via": "routes"}


@pytest.fixture
def fast_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names the fast path answered (the server runs in this process, in another thread)."""
    calls: list[str] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[3])
        return begin_live(*args, **kwargs)

    monkeypatch.setattr(hls_fast, "begin_live", counted)
    return calls


def _engine(server: Server) -> MediaEngine:
    engine: MediaEngine = server.app.state.engine
    return engine


async def _room_opened(server: Server, sid: str) -> None:
    async with asyncio.timeout(10):
        while _engine(server).room(sid) is None:  # noqa: ASYNC110 - another thread's loop
            await asyncio.sleep(0.01)


def _headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    return [(k.lower(), v) for k, v in response.headers.raw if k.lower() != b"date"]


async def both(
    person: Person, path: str, params: dict[str, Any] | None = None, *, at_once: bool = False
) -> httpx.Response:
    """GET ``path`` through the fast path and through the routes; assert the answers are the
    same and return one. ``at_once`` asks both together (a blocking reload or a held part:
    they wake at the same publication)."""
    fast = person.call("GET", path, params=params or {})
    slow = person.call("GET", path, params={**(params or {}), **SLOW})
    if at_once:
        a, b = await asyncio.gather(fast, slow)
    else:
        a, b = await fast, await slow
    assert a.status_code == b.status_code, (a.text, b.text)
    assert _headers(a) == _headers(b)
    assert a.content == b.content
    return a


async def _next_part(person: Person, url: str) -> tuple[int, int]:
    parsed = m3u8.loads((await person.call("GET", url, status=200)).text)
    assert parsed.preload_hint is not None
    name = parsed.preload_hint.uri.removeprefix("part").removesuffix(".m4s")
    msn, index = name.split(".")
    return int(msn), int(index)


async def test_a_free_spaces_stream_answers_the_same_on_both_paths(
    server: Server, fast_calls: list[str]
) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Fast"))["id"]
    base = f"/api/spaces/{sid}/hls"
    # The room opened as the space went live (this node took its media lease), before anyone
    # asked: the fast path answers from the first request.
    await _room_opened(server, sid)

    plain = await host.call("GET", f"{base}/live.m3u8", status=200)
    assert fast_calls == ["live.m3u8"]
    slow = await host.call("GET", f"{base}/live.m3u8", params=SLOW, status=200)
    assert _headers(plain) == _headers(slow)
    assert dict(_headers(plain))[b"cache-control"] == b"no-cache"

    msn, index = await _next_part(host, f"{base}/live.m3u8")
    blocked = await both(
        host, f"{base}/live.m3u8", {"_HLS_msn": msn, "_HLS_part": index}, at_once=True
    )
    assert blocked.status_code == 200
    assert blocked.headers["cache-control"] == "public, max-age=6"
    parsed = m3u8.loads(blocked.text)
    assert parsed.preload_hint is not None
    # The preload-hinted part, held until published on both paths.
    held = await both(host, f"{base}/{parsed.preload_hint.uri}", at_once=True)
    assert held.status_code == 200
    assert held.headers["content-type"] == "video/mp4"
    # A blocking reload for a whole segment (no part): once segment ``msn`` is finished.
    whole = await both(host, f"{base}/live.m3u8", {"_HLS_msn": msn + 1}, at_once=True)
    parsed = m3u8.loads(whole.text)

    init = await both(host, f"{base}/init.mp4")
    assert init.headers["cache-control"] == "public, max-age=31536000, immutable"
    finished = [s for s in parsed.segments if s.uri]
    segment = await both(host, f"{base}/{finished[-1].uri}")
    assert segment.status_code == 200
    part = await both(host, f"{base}/{parsed.segments[-1].parts[0].uri}")
    assert part.status_code == 200

    # Refusals: the same problem bodies, CORS and no-store.
    gone = await both(host, f"{base}/part0.0.m4s")
    assert problem(gone, 404)["title"] == "Not found"
    assert gone.headers["cache-control"] == "no-store"
    assert gone.headers["access-control-allow-origin"] == "*"
    ahead = await both(host, f"{base}/live.m3u8", {"_HLS_msn": msn + 10})
    assert "too far" in problem(ahead, 400)["detail"]
    answered = len(fast_calls)
    assert answered == 10

    # What the fast path does not parse cleanly, the routes judge (422s, 400, 404).
    for params in (
        {"_HLS_msn": -1},
        {"_HLS_msn": "x"},
        {"_HLS_msn": 2**31 + 1},
        {"_HLS_msn": msn, "_HLS_part": 10_001},
        {"_HLS_part": 1},
    ):
        answer = await host.call("GET", f"{base}/live.m3u8", params=params)
        assert answer.status_code in (400, 422)
        assert answer.headers["access-control-allow-origin"] == "*"
    problem(await host.call("GET", f"{base}/live.m3u8", params={"_HLS_msn": "x"}), 422)
    problem(await host.call("GET", f"{base}/part1.m4s"), 422)  # not a name the routes take
    await host.call("GET", f"{base}/audience.json")  # another route's, whatever it answers
    # The routes answer GET only (HEAD is 405 there), so the fast path leaves HEAD to them.
    head = await host.http.head(f"{base}/init.mp4")
    assert (head.status_code, head.headers["allow"]) == (405, "GET")
    assert len(fast_calls) == answered

    # Once the space ends, the final playlist (ENDLIST) is one fixed text: compare it whole.
    await host.ok("POST", f"/api/spaces/{sid}/end")
    ended = await both(host, f"{base}/live.m3u8")
    assert m3u8.loads(ended.text).is_endlist
    await both(host, f"{base}/live.m3u8", {"_HLS_msn": msn, "_HLS_part": index})
    assert len(fast_calls) == answered + 2


async def test_a_ticketed_spaces_credential_is_checked_the_same_on_both_paths(
    server: Server, fast_calls: list[str]
) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    holder = await server.person("holder")
    sid = (await ticketed_space(host))["id"]
    await buy_and_pay(holder, sid)
    await host.ok("POST", f"/api/spaces/{sid}/start")
    credential = (await holder.ok("GET", f"/api/spaces/{sid}/listen"))["credential"]
    base = f"/api/spaces/{sid}/hls"
    await _room_opened(server, sid)

    await both(holder, f"{base}/{credential}/init.mp4")
    msn, index = await _next_part(holder, f"{base}/{credential}/live.m3u8")
    opened = await both(
        holder,
        f"{base}/{credential}/live.m3u8",
        {"_HLS_msn": msn, "_HLS_part": index},
        at_once=True,
    )
    assert opened.status_code == 200
    assert "?" not in opened.text
    # The plain path of a ticketed space is closed on both.
    assert "ticketed" in problem(await both(holder, f"{base}/live.m3u8"), 403)["detail"]
    problem(await both(holder, f"{base}/init.mp4"), 403)
    expires, listener, sig = credential.split(".")
    for forged in (
        f"{int(expires) + 60}.{listener}.{sig}",
        f"{expires}.{'A' * 12}.{sig}",
        f"{expires}.{listener}.{'A' * 22}",
    ):
        refused = await both(holder, f"{base}/{forged}/live.m3u8")
        assert "not valid" in problem(refused, 403)["detail"]
    server.clock.advance(server.settings.audio_credential_seconds + 1)
    expired = await both(holder, f"{base}/{credential}/init.mp4")
    assert "expired" in problem(expired, 403)["detail"]
    assert expired.headers["cache-control"] == "no-store"
    # A credential that is not even of the right shape: the routes' 422.
    problem(await holder.call("GET", f"{base}/not.a.credential/init.mp4"), 422)
    # init and two playlists; every refusal was the fast path's too, before answering.
    assert fast_calls == ["init.mp4", "live.m3u8", "live.m3u8"]


async def test_a_part_that_never_comes_is_a_503_on_both_paths(
    server: Server, fast_calls: list[str]
) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Stalled"))["id"]
    url = f"/api/spaces/{sid}/hls/live.m3u8"
    await host.call("GET", url, status=200)
    room = _engine(server).room(sid)
    assert room is not None
    assert room._clock is not None
    clock = room._clock
    clock.get_loop().call_soon_threadsafe(clock.cancel)  # the mixer stops; the stream stays open
    msn, index = await _next_part(host, url)
    stalled = await both(host, url, {"_HLS_msn": msn, "_HLS_part": index}, at_once=True)
    assert "in time" in problem(stalled, 503)["detail"]
    assert stalled.headers["cache-control"] == "no-store"
    assert fast_calls == ["live.m3u8", "live.m3u8"]


async def test_listener_hooks_and_metrics_see_both_paths(
    server: Server, fast_calls: list[str]
) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Counted"))["id"]
    base = f"/api/spaces/{sid}/hls"
    heard: list[tuple[str, str, bool]] = []

    def failing(space_id: str, name: str, via_edge: bool) -> None:
        raise RuntimeError("a broken hook must not break the audio")

    _engine(server).listener_hooks += [failing, lambda *call: heard.append(call)]
    requests = 'salon_http_requests_total{method="GET",route="/api/spaces/{space_id}/hls/{name}"'
    ok, missing = requests + ',status="200"}', requests + ',status="404"}'
    ok0, missing0 = await metric(server, ok), await metric(server, missing)
    await _room_opened(server, sid)  # as the space went live
    await host.call("GET", f"{base}/init.mp4", status=200)
    await host.call("GET", f"{base}/init.mp4", status=200)
    await host.call("GET", f"{base}/init.mp4", headers={"x-salon-edge": "1"}, status=200)
    await host.call("GET", f"{base}/init.mp4", params=SLOW, headers={"x-salon-edge": "1"})
    await host.call("GET", f"{base}/live.m3u8", headers={"x-salon-edge": "0"}, status=200)
    assert heard == [
        (sid, "init.mp4", False),
        (sid, "init.mp4", False),
        (sid, "init.mp4", True),
        (sid, "init.mp4", True),
        (sid, "live.m3u8", False),
    ]
    assert fast_calls == ["init.mp4", "init.mp4", "init.mp4", "live.m3u8"]
    # /metrics counts the fast path's answers under the routes' own labels.
    assert await metric(server, ok) == ok0 + 5
    await host.call("GET", f"{base}/part0.0.m4s", status=404)
    await host.call("GET", f"{base}/part0.0.m4s", params=SLOW, status=404)
    assert await metric(server, missing) == missing0 + 2
    assert _engine(server).hls_requests["init"] == 4
