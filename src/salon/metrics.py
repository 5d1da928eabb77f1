"""Prometheus metrics, exposed at /metrics."""

from __future__ import annotations

import bisect
import threading
import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "salon_http_requests_total", "HTTP requests handled", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "salon_http_request_seconds", "Time to handle an HTTP request", ["method", "route"]
)
EVENTS_PUBLISHED = Counter("salon_events_published_total", "Space events published", ["type"])
SLOW_CONSUMERS = Counter(
    "salon_slow_consumers_total", "Event-stream clients cut off for falling behind"
)
BUS_OUTAGES = Counter(
    "salon_event_bus_outages_total",
    "Times this node lost Redis (or failed to publish) and cut its event streams",
)
NODES_REAPED = Counter(
    "salon_nodes_reaped_total",
    "Nodes whose heartbeat lapsed, their connections treated as closed by this node",
)
MEDIA_TAKEOVERS = Counter(
    "salon_media_takeovers_total",
    "Live spaces whose media this node took over (a later run: restart or another node)",
)
RECORDING_GAPS = Counter(
    "salon_recording_gap_seconds_total",
    "Seconds of recordings lost while a space's media restarted or moved to another node",
)
WS_CONNECTIONS = Gauge("salon_websocket_connections", "Open event-stream WebSockets")
SWEEPS = Counter("salon_sweeps_total", "Grace-period sweeps completed")
SPACES_ENDED_BY_GRACE = Counter(
    "salon_spaces_ended_by_grace_total", "Spaces ended because the host did not come back"
)
STAGE_PEERS = Gauge("salon_stage_peers", "Open WebRTC connections of stage members")
WHEP_VIEWERS = Gauge(
    "salon_whep_viewers", "Open WHEP (WebRTC) connections playing a space's program mix"
)
WHEP_REFUSED = Counter(
    "salon_whep_refused_total", "WHEP offers refused because this node's viewer cap was reached"
)
LIVE_ROOMS = Gauge("salon_media_rooms", "Spaces whose media (mixer, LL-HLS) is running")
MIXER_LATE_TICKS = Counter(
    "salon_mixer_late_ticks_total", "Times a mixer clock fell behind and skipped ahead"
)
MIXER_TICKS_BEHIND = Counter(
    "salon_mixer_ticks_behind_total",
    "Mixer ticks run more than one tick (20 ms) after they were due (caught up, not skipped)",
)
MIXER_DROPPED_FRAMES = Counter(
    "salon_mixer_dropped_frames_total",
    "20 ms of a speaker's audio the mixer threw away: 'overflow' (its buffer was full when "
    "more arrived) or 'drain' (a standing queue shortened to cut delay)",
    ["reason"],
)
MIXER_UNDERRUNS = Counter(
    "salon_mixer_underruns_total",
    "Ticks on which a speaker who is sending had no whole frame buffered (silence mixed)",
)
MIXER_PLAYOUT_GROWN = Counter(
    "salon_mixer_playout_grown_total",
    "Times a speaker's playout delay grew by a frame after an underrun (jitter seen)",
)
INBOUND_RECOVERED = Counter(
    "salon_inbound_recovered_frames_total",
    "Lost microphone audio filled in before mixing, by how: 'fec' (in-band FEC of the next "
    "packet, or PLC where it carried none) or 'plc' (concealed)",
    ["how"],
)
INBOUND_SILENCED_GAPS = Counter(
    "salon_inbound_silenced_gaps_total",
    "Microphone gaps too long to conceal (left as silence)",
)
INBOUND_LATE_PACKETS = Counter(
    "salon_inbound_late_packets_total",
    "Microphone packets dropped for arriving after their place was filled (reordered)",
)
OUTBOUND_DROPPED = Counter(
    "salon_stage_outbound_dropped_total",
    "Mix packets dropped before sending to a stage member because their queue was full",
)
PURCHASES = Counter(
    "salon_ticket_purchases_total",
    "Ticket purchases reaching each state (held, paid, declined, expired, refunded...)",
    ["state"],
)
PAYMENT_EVENTS = Counter(
    "salon_payment_events_total",
    "Payment provider events: applied, duplicate or ignored",
    ["result"],
)
REFUNDS = Counter("salon_ticket_refunds_total", "Refund attempts by result", ["result"])
HLS_REQUESTS = Counter(
    "salon_hls_requests_total",
    "Audio (LL-HLS and replay) requests the origin answered, by kind: what an edge lets through",
    ["kind"],
)
DELIVERIES = Counter(
    "salon_notification_deliveries_total",
    "Pushes and e-mails: sent, retried or given up",
    ["channel", "result"],
)


class _Tallied:
    """One thread's counts and observations not yet handed over."""

    def __init__(self) -> None:
        self.counts: dict[Any, int] = {}
        # Per histogram child: the observations' sum and a count per bucket.
        self.observed: dict[Any, tuple[list[float], list[int]]] = {}
        self.flushed = time.monotonic()


class Tally:
    """Counter increments and histogram observations gathered in plain Python and handed to
    ``prometheus_client`` in bulk: at least once a second, and before every scrape
    (``flush``, which ``/metrics`` calls), so what Prometheus reads is never behind.

    For the live LL-HLS hot path, whose requests would otherwise take a lock for each of four
    increments (request count, latency sum and bucket, HLS kind): ~5 % of its CPU. Each
    thread keeps its own (an event loop's thread counts and scrapes), so none is lost to
    another thread's flush.
    """

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self._local = threading.local()

    def inc(self, counter: Any) -> None:
        """``counter.inc()`` (a labelled child), in bulk."""
        mine = self._mine()
        mine.counts[counter] = mine.counts.get(counter, 0) + 1
        self._flush_if_due(mine)

    def observe(self, histogram: Any, value: float) -> None:
        """``histogram.observe(value)`` (a labelled child), in bulk."""
        mine = self._mine()
        entry = mine.observed.get(histogram)
        if entry is None:
            entry = mine.observed[histogram] = ([0.0], [0] * len(histogram._upper_bounds))
        entry[0][0] += value
        entry[1][bisect.bisect_left(histogram._upper_bounds, value)] += 1
        self._flush_if_due(mine)

    def flush(self) -> None:
        """Hand over what this thread tallied."""
        mine = self._mine()
        counts, mine.counts = mine.counts, {}
        observed, mine.observed = mine.observed, {}
        mine.flushed = time.monotonic()
        for counter, n in counts.items():
            counter.inc(n)
        # prometheus_client has no bulk observe: add to the child's own values, as observe()
        # does one at a time (``tests/unit/test_metrics_tally.py`` holds it to observe()).
        for histogram, (total, buckets) in observed.items():
            histogram._sum.inc(total[0])
            for index, n in enumerate(buckets):
                if n:
                    histogram._buckets[index].inc(n)

    def _flush_if_due(self, mine: _Tallied) -> None:
        if time.monotonic() - mine.flushed >= self.every:
            self.flush()

    def _mine(self) -> _Tallied:
        mine: _Tallied | None = getattr(self._local, "tallied", None)
        if mine is None:
            mine = self._local.tallied = _Tallied()
        return mine


#: The process's tally (``/metrics`` flushes it before answering).
TALLY = Tally()
