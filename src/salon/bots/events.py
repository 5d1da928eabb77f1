"""A bot's end of its space's event WebSocket: join, connect, reconnect with backoff.

Holding this stream open is what keeps a signed-in person present in a space (the server
starts their grace period when their last stream closes), exactly as for the web client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from salon.bots.outcomes import Refused, SpaceOver, problem_detail, unreachable
from salon.bots.retry import Backoff

#: Close codes the server ends a stream with for good (see api/events.py): retrying would be
#: refused again.
REFUSALS = {
    1008: "the server refused the event stream",
    4401: "the server refused the token",
    4403: "refused the space's events",
    4404: "no such space",
}
CLOSE_NORMAL = 1000
#: A gap in the events' sequence numbers asks for a new snapshot at most this often.
RESYNC_SECONDS = 2.0

Event = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Lost:
    """The stream closed or could not be opened; it is being opened again.

    ``resync``: closed on purpose, to get a new snapshot after an event went missing.
    """

    reason: str
    resync: bool = False


class EventOrder:
    """Events once each, from the snapshot on (pure).

    Events committed with a change carry the space's ``seq``; across nodes one may arrive
    twice or out of order. One at or below the last applied (the snapshot's ``seq`` to begin
    with) is dropped; one past a gap is applied and asks for a new snapshot, which brings
    whatever the gap held. Events without a ``seq`` (speaking, counts) always pass.
    """

    def __init__(self) -> None:
        self.last: int | None = None

    def accept(self, event: Event) -> tuple[bool, bool]:
        """(apply it, ask for a new snapshot)."""
        seq = event.get("seq")
        if event.get("type") == "snapshot":
            self.last = seq if isinstance(seq, int) else None
            return True, False
        if not isinstance(seq, int) or self.last is None:
            return True, False
        if seq <= self.last:
            return False, False
        gap = seq > self.last + 1
        self.last = seq
        return True, gap


class SpaceEventStream:
    """Follows ``/api/spaces/{id}/events`` with a bearer token for as long as it is iterated.

    ``follow()`` yields each event (a snapshot first after every (re)connection) and a
    ``Lost`` whenever the stream drops, then opens it again after a backoff; it raises
    ``SpaceOver`` when the space is over and ``Refused`` when the server will not let this
    account follow it. Iterate it inside ``contextlib.aclosing`` so the socket closes with it.
    """

    def __init__(
        self,
        base_url: str,
        space_id: str,
        token: str,
        *,
        backoff: Backoff | None = None,
        request_timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.space_id = space_id
        self.token = token
        self.backoff = backoff or Backoff()
        self.request_timeout = request_timeout
        self.url = "ws" + self.base_url.removeprefix("http") + f"/api/spaces/{space_id}/events"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def follow(self) -> AsyncGenerator[Event | Lost, None]:
        resynced_at = -RESYNC_SECONDS
        while True:
            resync = False
            reason = await self._join()
            if reason is None:
                try:
                    async with connect(
                        self.url,
                        additional_headers=self.auth,
                        open_timeout=self.request_timeout,
                        # A peer that vanished without closing is noticed within seconds.
                        ping_interval=5,
                        ping_timeout=5,
                        close_timeout=2,
                    ) as ws:
                        order = EventOrder()
                        async for message in ws:
                            event: Event = json.loads(message)
                            if event.get("type") == "snapshot":
                                self.backoff.reset()
                            apply, gap = order.accept(event)
                            if apply:
                                yield event
                            now = asyncio.get_running_loop().time()
                            if gap and now - resynced_at >= RESYNC_SECONDS:
                                resynced_at, resync = now, True
                                break
                        if resync:
                            reason = "an event went missing: a new snapshot"
                        else:
                            reason = self._closed(ws.close_code, ws.close_reason or "")
                except ConnectionClosed as exc:
                    rcvd = exc.rcvd
                    reason = self._closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "")
                except InvalidStatus as exc:
                    reason = f"event stream refused with HTTP {exc.response.status_code}"
                except (OSError, TimeoutError, InvalidHandshake) as exc:
                    reason = f"event stream: {unreachable(exc)}"
            yield Lost(reason, resync)
            if not resync:
                await asyncio.sleep(self.backoff.next())

    async def _join(self) -> str | None:
        """Enter the space (a no-op when present), as the web client does before each
        connection; None when done, else why it could not be done this time."""
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=self.request_timeout, headers=self.auth
        ) as client:
            try:
                response = await client.post(f"/api/spaces/{self.space_id}/join")
                if response.status_code < 300:
                    return None
                await refusal(client, self.space_id, response.status_code, problem_detail(response))
            except httpx.TransportError as exc:
                return unreachable(exc)
        return f"joining the space: HTTP {response.status_code} ({problem_detail(response)})"

    def _closed(self, code: int | None, why: str) -> str:
        if code == CLOSE_NORMAL:
            raise SpaceOver("the space is over")
        if code in REFUSALS:
            raise Refused(f"{REFUSALS[code]}: {why}" if why else REFUSALS[code])
        # 1013 (fell behind, or the node cannot deliver events now) backs off like any drop.
        detail = f" (close code {code}{': ' + why if why else ''})" if code else ""
        return f"event stream lost{detail}"


async def refusal(client: httpx.AsyncClient, space_id: str, status: int, detail: str) -> None:
    """Raise the outcome a refused request means; return for one worth trying again (5xx, 429).

    A 409 is a space that is not live: over (``SpaceOver``) or not started (``Refused``).
    """
    if status >= 500 or status == 429:
        return
    if status == 409:
        try:
            state = (await client.get(f"/api/spaces/{space_id}")).json().get("state")
        except (httpx.HTTPError, ValueError):
            state = None
        if state in ("ended", "cancelled"):
            raise SpaceOver(f"the space has {'ended' if state == 'ended' else 'been cancelled'}")
    raise Refused(f"refused with HTTP {status}: {detail}")
