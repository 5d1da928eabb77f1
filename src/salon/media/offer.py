"""What a WHIP offer must carry before Salon answers it (RFC 9725; RFC 8829 for the SDP).

aiortc accepts some offers that can never carry a speaker's voice: without a DTLS fingerprint
it fails later in a background task, with no Opus it negotiates G.722 or PCMU (Salon speaks
Opus only), and an audio section rejected with port 0 carries nothing. Each is refused here,
with a message that says what is wrong, before any connection is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class UnusableOffer(Exception):
    """The client's SDP offer cannot be answered."""


@dataclass
class _Section:
    kind: str
    port: str
    lines: list[str] = field(default_factory=list)


def _sections(sdp: str) -> tuple[list[str], list[_Section]]:
    session: list[str] = []
    media: list[_Section] = []
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            parts = line[2:].split()
            media.append(
                _Section(parts[0].lower() if parts else "", parts[1] if len(parts) > 1 else "")
            )
        elif media:
            media[-1].lines.append(line)
        else:
            session.append(line)
    return session, media


def check_offer(sdp: str) -> None:
    """Raise ``UnusableOffer`` unless the offer has a live audio section offering Opus, and a
    DTLS fingerprint."""
    session, media = _sections(sdp)
    audio = [m for m in media if m.kind == "audio"]
    if not audio:
        raise UnusableOffer("the SDP offer has no audio section (m=audio)")
    live = [m for m in audio if m.port.split("/")[0] != "0"]
    if not live:
        raise UnusableOffer("the SDP offer's audio section is rejected (m=audio with port 0)")
    section = live[0]
    if not _opus_payloads(section.lines):
        raise UnusableOffer("the SDP offer does not offer Opus audio (Salon speaks Opus only)")
    if not any(line.lower().startswith("a=fingerprint:") for line in (*session, *section.lines)):
        raise UnusableOffer("the SDP offer has no DTLS fingerprint (a=fingerprint)")


_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


def audio_direction(sdp: str) -> str:
    """The direction of the offer's first live audio section (RFC 8866: sendrecv unless
    said otherwise, in the section or the session)."""
    session, media = _sections(sdp)
    live = [m for m in media if m.kind == "audio" and m.port.split("/")[0] != "0"]
    for lines in ([] if not live else live[0].lines, session):
        for line in lines:
            if line.lower().startswith("a=") and line[2:].lower() in _DIRECTIONS:
                return line[2:].lower()
    return "sendrecv"


_PAYLOAD_LINE = re.compile(r"^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ \t]", re.IGNORECASE)
_OPUS = re.compile(r"^a=rtpmap:(\d+)[ \t]+opus/48000", re.IGNORECASE)


def opus_only(sdp: str) -> str:
    """The offer with every audio section narrowed to its Opus payload types, so the answer
    can name nothing else (call after ``check_offer``)."""
    out: list[str] = []
    opus: set[str] = set()
    in_audio = False
    lines = sdp.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("m="):
            in_audio = line[2:].lower().startswith("audio ")
            if in_audio:
                opus = _opus_payloads(lines[index + 1 :])
                head = line.split()
                line = " ".join([*head[:3], *(p for p in head[3:] if p in opus)])
        elif in_audio:
            payload = _PAYLOAD_LINE.match(line)
            if payload is not None and payload[1] not in opus:
                continue
        out.append(line)
    return "\r\n".join(out) + "\r\n"


def _opus_payloads(rest: list[str]) -> set[str]:
    found: set[str] = set()
    for line in rest:
        if line.startswith("m="):
            break
        match = _OPUS.match(line)
        if match is not None:
            found.add(match[1])
    return found
