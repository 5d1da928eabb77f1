"""Trickle ICE SDP fragments (RFC 8840), as a WHIP or WHEP client PATCHes them (RFC 9725 §4.3).

A fragment carries the ICE credentials the client is using, then per media section its
``a=mid`` and new ``a=candidate`` lines, and ``a=end-of-candidates`` once it has no more.
New credentials mean the client is restarting ICE, which Salon does not support (the
client makes a new session instead): the caller answers that with 501.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The media type of a trickle fragment (RFC 8840 §9.1).
MEDIA_TYPE = "application/trickle-ice-sdpfrag"

#: A fragment is a handful of lines; anything much bigger is not one.
MAX_BYTES = 16 * 1024


class BadFragment(Exception):
    """The body is not a trickle ICE SDP fragment Salon can use."""


@dataclass(frozen=True, slots=True)
class Candidate:
    #: The media section it belongs to (``a=mid``), or None when the fragment names none.
    mid: str | None
    #: Its position among the fragment's media sections (0 for the first).
    mline_index: int
    #: The attribute's value, without ``a=``: ``candidate:1 1 udp 2122260223 ...``.
    line: str


@dataclass(frozen=True, slots=True)
class Fragment:
    ufrag: str | None
    pwd: str | None
    candidates: list[Candidate] = field(default_factory=list)
    end_of_candidates: bool = False


def parse(text: str) -> Fragment:
    """Read a fragment; raise ``BadFragment`` saying what is wrong. SDP lines it has no use
    for (``v=``, ``a=ice-options``, ``a=group``, ...) are passed over."""
    ufrag: str | None = None
    pwd: str | None = None
    candidates: list[Candidate] = []
    end = False
    mid: str | None = None
    index = -1
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("m="):
            index += 1
            mid = None
        elif line.startswith("a=mid:"):
            mid = line[len("a=mid:") :].strip() or None
        elif line.startswith("a=ice-ufrag:"):
            ufrag = _same(ufrag, line[len("a=ice-ufrag:") :].strip(), "ice-ufrag")
        elif line.startswith("a=ice-pwd:"):
            pwd = _same(pwd, line[len("a=ice-pwd:") :].strip(), "ice-pwd")
        elif line.startswith("a=candidate:"):
            value = line[len("a=") :]
            if len(value.split()) < 8:
                raise BadFragment(f"not an ICE candidate: {line[:120]}")
            candidates.append(Candidate(mid=mid, mline_index=max(index, 0), line=value))
        elif line == "a=end-of-candidates":
            end = True
        elif len(line) < 2 or line[1] != "=" or not line[0].isalpha():
            raise BadFragment(f"not an SDP fragment line: {line[:120]}")
    if not candidates and not end and ufrag is None:
        raise BadFragment("the fragment has no candidates, credentials or end-of-candidates")
    return Fragment(ufrag=ufrag, pwd=pwd, candidates=candidates, end_of_candidates=end)


def _same(known: str | None, value: str, name: str) -> str:
    if known is not None and known != value:
        raise BadFragment(f"the fragment names two different {name} values")
    return value
