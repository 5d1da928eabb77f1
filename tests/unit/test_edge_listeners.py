"""The edge's listener reports: what nginx logged, over the time it covers.

nginx writes the listener log through a buffer it flushes each second, so a read may find
nothing although players are there; the time it spanned must go with the next report, or
that report claims two reads' lines over one read's time (the audience shown doubled).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from salon.edge.listeners import ListenerReporter


class Origin:
    """Takes reports as ``POST /api/edge/listeners`` would (an in-memory transport)."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.reports: list[dict[str, object]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.reports.append(json.loads(request.content))
        return httpx.Response(self.status)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def reporter(tmp_path: Path, clock: Clock, interval: float = 1.0) -> ListenerReporter:
    return ListenerReporter(
        path=tmp_path / "listeners.log",
        origins=["http://origin"],
        edge_secret="secret",
        name="edge-1",
        interval=interval,
        clock=clock,
    )


def log(path: Path, space: str, lines: int) -> None:
    with path.open("a") as file:
        file.write(f"{space}\n" * lines)


async def test_a_read_nginx_had_not_flushed_yet_keeps_its_time_for_the_next_report(
    tmp_path: Path,
) -> None:
    clock, origin = Clock(), Origin()
    edge = reporter(tmp_path, clock)
    async with httpx.AsyncClient(transport=httpx.MockTransport(origin.handle)) as client:
        # 50 players, one counted request each per second; nginx flushes every other read.
        for second in range(1, 9):
            clock.now += 1.0
            if second % 2 == 0:
                log(edge.log.path, "space", 100)
            await edge.report_once(client)
    assert [r["requests"] for r in origin.reports] == [{"space": 100}] * 4
    rates = [r["requests"]["space"] / r["seconds"] for r in origin.reports]  # type: ignore[index]
    assert rates == pytest.approx([50.0] * 4)
    assert edge.reported == 400


async def test_after_an_idle_spell_a_report_covers_one_interval_and_a_flush(
    tmp_path: Path,
) -> None:
    clock, origin = Clock(), Origin()
    edge = reporter(tmp_path, clock, interval=2.0)
    async with httpx.AsyncClient(transport=httpx.MockTransport(origin.handle)) as client:
        for _ in range(30):  # a minute with nobody listening: nothing to report
            clock.now += 2.0
            await edge.report_once(client)
        assert origin.reports == []
        clock.now += 2.0
        log(edge.log.path, "space", 20)
        await edge.report_once(client)
    assert origin.reports == [
        # One interval (2 s) and nginx's flush slack (1.5 s), not the whole idle minute.
        {"edge": "edge-1", "seconds": pytest.approx(3.5), "requests": {"space": 20}}
    ]


async def test_a_failed_report_goes_with_the_next_one_over_both_spans(tmp_path: Path) -> None:
    clock, origin = Clock(), Origin(status=503)
    edge = reporter(tmp_path, clock)
    async with httpx.AsyncClient(transport=httpx.MockTransport(origin.handle)) as client:
        clock.now += 1.0
        log(edge.log.path, "space", 10)
        await edge.report_once(client)
        origin.status = 204
        clock.now += 1.0
        log(edge.log.path, "space", 10)
        await edge.report_once(client)
    assert origin.reports[-1]["requests"] == {"space": 20}
    assert origin.reports[-1]["seconds"] == pytest.approx(2.0)
    assert edge.pending == {}


class Nodes:
    """Several origin nodes behind one in-memory transport: each answers with its status,
    or refuses the connection (``None``)."""

    def __init__(self, **statuses: int | None) -> None:
        self.statuses = statuses
        self.reports: list[tuple[str, dict[str, object]]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        node = request.url.host
        status = self.statuses[node]
        if status is None:
            raise httpx.ConnectError("connection refused", request=request)
        self.reports.append((node, json.loads(request.content)))
        return httpx.Response(status)


def several(tmp_path: Path, clock: Clock, *names: str) -> ListenerReporter:
    return ListenerReporter(
        path=tmp_path / "listeners.log",
        origins=[f"http://{name}" for name in names],
        edge_secret="secret",
        name="edge-1",
        clock=clock,
    )


async def test_reports_stay_with_one_node_and_move_on_when_it_fails(tmp_path: Path) -> None:
    clock, nodes = Clock(), Nodes(a=204, b=204, c=204)
    edge = several(tmp_path, clock, "a", "b", "c")
    async with httpx.AsyncClient(transport=httpx.MockTransport(nodes.handle)) as client:
        for _ in range(2):
            clock.now += 1.0
            log(edge.log.path, "space", 5)
            await edge.report_once(client)
        nodes.statuses["a"] = None  # node a dies: the next report goes to b
        clock.now += 1.0
        log(edge.log.path, "space", 5)
        await edge.report_once(client)
        nodes.statuses["b"] = 503  # b answers but cannot take it: c does
        clock.now += 1.0
        log(edge.log.path, "space", 5)
        await edge.report_once(client)
        nodes.statuses["a"] = 204  # a is back: reports stay with c, which still answers
        clock.now += 1.0
        log(edge.log.path, "space", 5)
        await edge.report_once(client)
    # Each report once, five requests each; b's 503 is the one extra attempt.
    assert [node for node, _ in nodes.reports] == ["a", "a", "b", "b", "c", "c"]
    assert all(r["requests"] == {"space": 5} for _, r in nodes.reports)
    assert edge.origin == "http://c"
    assert edge.reported == 25
    assert edge.pending == {}


async def test_when_no_node_takes_a_report_it_goes_with_the_next(tmp_path: Path) -> None:
    clock, nodes = Clock(), Nodes(a=None, b=503)
    edge = several(tmp_path, clock, "a", "b")
    async with httpx.AsyncClient(transport=httpx.MockTransport(nodes.handle)) as client:
        clock.now += 1.0
        log(edge.log.path, "space", 10)
        await edge.report_once(client)
        assert edge.pending == {"space": 10}
        nodes.statuses["b"] = None  # none answers at all: the error is the caller's to log
        clock.now += 1.0
        log(edge.log.path, "space", 10)
        with pytest.raises(httpx.ConnectError):
            await edge.report_once(client)
        nodes.statuses["a"] = 204
        clock.now += 1.0
        await edge.report_once(client)
    node, report = nodes.reports[-1]
    assert node == "a"
    assert report["requests"] == {"space": 20}
    assert report["seconds"] == pytest.approx(3.0)
