"""uvicorn's protocol with the hot path in it (``api/hls_protocol.py``) keeps uvicorn's HTTP/1.1.

Raw sockets, so what is on the wire is seen: one connection kept alive across hot and
ordinary requests, HTTP/1.0 closed after its answer, pipelined requests answered in order
(a held one first), and a player that leaves while its request waits harms nobody.
"""

from __future__ import annotations

import asyncio

import m3u8
import pytest

from salon.media.engine import MediaEngine
from tests.harness import Server

Answer = tuple[int, dict[str, str], bytes]


async def _read(reader: asyncio.StreamReader) -> Answer:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, body


def _get(target: str, version: str = "1.1") -> bytes:
    return f"GET {target} HTTP/{version}\r\nHost: salon.test\r\n\r\n".encode()


async def _live(server: Server) -> tuple[str, tuple[int, int]]:
    """A live space's HLS base, once its room is open here, and the part it hints at."""
    host = await server.person("host")
    sid = (await host.create_space("Wire"))["id"]
    engine: MediaEngine = server.app.state.engine
    async with asyncio.timeout(10):
        while engine.room(sid) is None:  # noqa: ASYNC110 - another thread's loop
            await asyncio.sleep(0.01)
    base = f"/api/spaces/{sid}/hls"
    parsed = m3u8.loads((await host.call("GET", f"{base}/live.m3u8", status=200)).text)
    assert parsed.preload_hint is not None
    msn, index = parsed.preload_hint.uri.removeprefix("part").removesuffix(".m4s").split(".")
    return base, (int(msn), int(index))


async def test_one_connection_serves_hot_and_ordinary_requests(server: Server) -> None:
    base, (msn, index) = await _live(server)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        for target in (
            f"{base}/init.mp4",
            "/healthz",
            f"{base}/live.m3u8?_HLS_msn={msn}&_HLS_part={index}",
            f"{base}/part{msn}.{index}.m4s",
            f"{base}/part0.0.m4s?x=1",  # a query the hot path does not know: the routes
        ):
            writer.write(_get(target))
            status, headers, body = await _read(reader)
            assert status == (404 if target.endswith("x=1") else 200), (target, body)
            assert "date" in headers
            assert "connection" not in headers
        # The blocking reload waited for the hinted part and named it.
        assert not reader.at_eof()
    finally:
        writer.close()


async def test_http_1_0_is_answered_then_closed(server: Server) -> None:
    base, _ = await _live(server)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(_get(f"{base}/init.mp4", "1.0"))
        status, headers, body = await _read(reader)
        assert (status, headers["connection"], headers["content-type"]) == (
            200,
            "close",
            "video/mp4",
        )
        assert len(body) == int(headers["content-length"]) > 0
        async with asyncio.timeout(5):
            assert await reader.read() == b""
    finally:
        writer.close()


async def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    base, (msn, index) = await _live(server)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        # The held part first, then what exists: the second waits for the first's answer.
        writer.write(_get(f"{base}/part{msn}.{index}.m4s") + _get(f"{base}/init.mp4"))
        async with asyncio.timeout(5):
            first, second = await _read(reader), await _read(reader)
        assert first[0] == second[0] == 200
        assert first[2][4:8] == b"styp" or first[2][4:8] == b"moof"
        assert second[2][4:8] == b"ftyp"
    finally:
        writer.close()


async def test_a_player_gone_while_it_waits_harms_nobody(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    base, (msn, index) = await _live(server)
    held = f"{base}/live.m3u8?_HLS_msn={msn}&_HLS_part={index}"
    _, leaving = await asyncio.open_connection("127.0.0.1", server.port)
    leaving.write(_get(held))
    await leaving.drain()
    leaving.close()
    await leaving.wait_closed()
    # The part it waited for is published after it left; the next player is answered.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(_get(f"{base}/live.m3u8?_HLS_msn={msn + 1}&_HLS_part={index}"))
        async with asyncio.timeout(5):
            status, _, body = await _read(reader)
        assert status == 200
        assert f"part{msn}.{index}.m4s".encode() in body
    finally:
        writer.close()
    assert "hot path failed" not in caplog.text
    assert "watcher of the live stream failed" not in caplog.text


async def test_a_request_after_a_held_one_waits_for_its_answer(server: Server) -> None:
    """The second request comes in while the first is held (not in the same read)."""
    base, (msn, index) = await _live(server)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(_get(f"{base}/live.m3u8?_HLS_msn={msn}&_HLS_part={index}"))
        await writer.drain()
        writer.write(_get(f"{base}/init.mp4"))
        async with asyncio.timeout(5):
            first, second = await _read(reader), await _read(reader)
        assert first[0] == second[0] == 200
        assert f"part{msn}.{index}.m4s".encode() in first[2]
        assert second[2][4:8] == b"ftyp"
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        # A header line without a colon: the parser's 400, never the audio.
        (b"GET {base}/init.mp4 HTTP/1.1\r\nHost: salon.test\r\nno colon here\r\n\r\n", 400),
        # A body on a GET: the parser reads it; the route answers.
        (b"GET {base}/init.mp4 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", 200),
        # Not kept alive: answered, then closed.
        (b"GET {base}/init.mp4 HTTP/1.1\r\nConnection: close\r\n\r\n", 200),
    ],
)
async def test_what_the_raw_way_does_not_take_the_parser_answers(
    server: Server, request_bytes: bytes, status: int
) -> None:
    base, _ = await _live(server)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(request_bytes.replace(b"{base}", base.encode()))
        async with asyncio.timeout(5):
            answer = await _read(reader)
        assert answer[0] == status, answer
        if status == 200:
            assert answer[2][4:8] == b"ftyp"
        if b"close" in request_bytes or status == 400:
            async with asyncio.timeout(5):
                assert await reader.read() == b""
    finally:
        writer.close()


async def test_an_idle_connection_is_closed_and_a_used_one_is_not(server: Server) -> None:
    """The raw way re-arms the keep-alive timer lazily: a connection used again within the
    timeout stays open past it; one left idle for the whole timeout is closed."""
    base, _ = await _live(server)
    config = server._server.config
    saved, config.timeout_keep_alive = config.timeout_keep_alive, 1
    writer: asyncio.StreamWriter | None = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for turn in range(4):  # 1.8 s in all, longer than the timeout
            writer.write(_get(f"{base}/init.mp4"))
            assert (await _read(reader))[0] == 200
            if turn == 0:
                # Read by each connection as the server's loop accepts it, which can come
                # after open_connection returns: put it back only once this one has answered.
                config.timeout_keep_alive = saved
            await asyncio.sleep(0.6)
        assert loop.time() - started > 1.5
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # then idle: closed
    finally:
        config.timeout_keep_alive = saved
        if writer is not None:
            writer.close()
