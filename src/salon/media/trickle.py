"""Trickle ICE into a running aiortc connection, and how a session that failed says so."""

from __future__ import annotations

import re
from collections import OrderedDict

from aiortc import RTCPeerConnection
from aiortc.sdp import candidate_from_sdp

from salon.media.sdpfrag import BadFragment, Fragment

_UFRAG = re.compile(r"^a=ice-ufrag:(\S+)", re.MULTILINE)

#: Sessions that ended are remembered this many per room, so a publisher that asks about
#: one (a PATCH or DELETE after its connection died) learns why rather than "no such session".
ENDED_REMEMBERED = 200


class IceRestart(Exception):
    """The fragment carries new ICE credentials: an ICE restart, which Salon does not do
    (the client opens a new session instead)."""


def ice_ufrag(sdp: str) -> str | None:
    found = _UFRAG.search(sdp.replace("\r\n", "\n"))
    return found[1] if found else None


async def add_fragment(
    pc: RTCPeerConnection, fragment: Fragment, *, remote_ufrag: str | None
) -> None:
    """Add a PATCHed fragment's candidates (and end-of-candidates) to ``pc``."""
    if fragment.ufrag is not None and remote_ufrag is not None and fragment.ufrag != remote_ufrag:
        raise IceRestart
    for found in fragment.candidates:
        try:
            candidate = candidate_from_sdp(found.line.split(":", 1)[1])
        except (AssertionError, ValueError, IndexError) as exc:
            raise BadFragment(f"not an ICE candidate: {found.line[:120]}") from exc
        candidate.sdpMid = found.mid
        candidate.sdpMLineIndex = found.mline_index
        await pc.addIceCandidate(candidate)
    if fragment.end_of_candidates:
        await pc.addIceCandidate(None)


def failure_reason(pc: RTCPeerConnection) -> str:
    """Why a connection failed, in words a publisher can act on."""
    if pc.iceConnectionState == "failed":
        return "ICE found no working path between you and the server (a TURN server may help)"
    return "the DTLS handshake failed (no shared cipher, or a fingerprint mismatch)"


class EndedSessions:
    """The last sessions that ended in a room and why (bounded): ``why(session_id)``."""

    def __init__(self, limit: int = ENDED_REMEMBERED) -> None:
        self._ended: OrderedDict[str, str] = OrderedDict()
        self._limit = limit

    def add(self, session_id: str, why: str) -> None:
        self._ended[session_id] = why
        self._ended.move_to_end(session_id)
        while len(self._ended) > self._limit:
            self._ended.popitem(last=False)

    def why(self, session_id: str) -> str | None:
        return self._ended.get(session_id)
