"""A user-space TCP proxy that makes a link slow: a one-way delay and a rate limit per
direction (this kernel has no netem). For an LL-HLS listener on a poor connection.

Each chunk read from one side is written to the other no sooner than ``delay`` after it was
read, and no faster than ``rate`` bytes a second (a token bucket with no burst allowance:
chunk n leaves when chunk n-1 has finished "transmitting"). Bounded: it serves only while
its ``async with`` is open.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType


class SlowLink:
    """``async with SlowLink(upstream_port, delay=0.04, rate=50_000) as link: link.url``."""

    def __init__(self, upstream_port: int, *, delay: float, rate: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.rate = rate
        self.bytes = {"up": 0, "down": 0}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aenter__(self) -> SlowLink:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            self._tasks.discard(task)
            return
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, "up"), self._pump(up_reader, writer, "down")
            )
        finally:
            for end in (writer, up_writer):
                end.close()
            self._tasks.discard(task)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, direction: str
    ) -> None:
        """Read as fast as the sender writes; deliver each chunk when the simulated wire
        has carried it (``rate``) and it has travelled (``delay``): pipelined, like a link."""
        loop = asyncio.get_running_loop()
        arriving: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        deliver = asyncio.create_task(self._deliver(arriving, sink, direction))
        free_at = loop.time()  # when the wire is free for the next chunk
        try:
            with contextlib.suppress(ConnectionError):
                while chunk := await source.read(16 * 1024):
                    free_at = max(loop.time(), free_at) + len(chunk) / self.rate
                    arriving.put_nowait((free_at + self.delay, chunk))
            arriving.put_nowait((free_at + self.delay, b""))
            await deliver
        finally:
            deliver.cancel()

    async def _deliver(
        self,
        arriving: asyncio.Queue[tuple[float, bytes]],
        sink: asyncio.StreamWriter,
        direction: str,
    ) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionError):
            while True:
                due, chunk = await arriving.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not chunk:
                    with contextlib.suppress(OSError):
                        sink.write_eof()
                    return
                sink.write(chunk)
                await sink.drain()
                self.bytes[direction] += len(chunk)
