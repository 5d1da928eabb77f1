"""``Tally`` (``salon/metrics.py``) hands prometheus_client what it would have counted itself."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from salon.metrics import Tally

VALUES = [0.0, 0.004, 0.005, 0.0051, 0.2, 0.75, 2.5, 10.0, 11.0, 1e9]


def _exposed(registry: CollectorRegistry) -> list[bytes]:
    """The exposition, without the ``_created`` timestamps (each registry's own)."""
    return [line for line in generate_latest(registry).splitlines() if b"_created" not in line]


def _metrics() -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry()
    counter = Counter("requests_total", "requests", ["route"], registry=registry)
    histogram = Histogram("request_seconds", "latency", ["route"], registry=registry)
    return registry, counter, histogram


def test_a_flushed_tally_reads_as_one_by_one_increments_and_observations() -> None:
    direct, counter, histogram = _metrics()
    tallied, counter2, histogram2 = _metrics()
    tally = Tally(every=3600)
    for value in VALUES:
        counter.labels(route="a").inc()
        histogram.labels(route="a").observe(value)
        tally.inc(counter2.labels(route="a"))
        tally.observe(histogram2.labels(route="a"), value)
    assert _exposed(tallied) != _exposed(direct)  # held until flushed
    tally.flush()
    assert _exposed(tallied) == _exposed(direct)
    tally.flush()  # nothing more to hand over
    assert _exposed(tallied) == _exposed(direct)


def test_a_tally_hands_over_by_itself_once_its_interval_passed() -> None:
    registry, counter, _ = _metrics()
    tally = Tally(every=0.0)
    tally.inc(counter.labels(route="b"))
    assert registry.get_sample_value("requests_total", {"route": "b"}) == 1.0


def test_each_thread_hands_over_its_own() -> None:
    registry, counter, _ = _metrics()
    tally = Tally(every=3600)
    child = counter.labels(route="c")
    tally.inc(child)

    def elsewhere() -> None:
        tally.inc(child)
        tally.inc(child)
        tally.flush()  # its own two, not this thread's one

    other = threading.Thread(target=elsewhere)
    other.start()
    other.join()
    assert registry.get_sample_value("requests_total", {"route": "c"}) == 2.0
    tally.flush()
    assert registry.get_sample_value("requests_total", {"route": "c"}) == 3.0
