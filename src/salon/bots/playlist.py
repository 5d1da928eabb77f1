"""The few things a follower needs from an LL-HLS media playlist, parsed from its text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Part:
    msn: int
    index: int
    uri: str
    duration: float
    #: Which stretch of continuous media the part is in: EXT-X-DISCONTINUITY-SEQUENCE plus the
    #: EXT-X-DISCONTINUITY tags before it. It changes where the stream restarted.
    discontinuity: int = 0


@dataclass
class Playlist:
    """A live (or ended) media playlist: its parts, init section, and whether it ended."""

    media_sequence: int
    map_uri: str
    parts: list[Part]
    ended: bool
    #: Program date-time of each segment's start, by media sequence number.
    starts: dict[int, datetime] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Playlist:
        if not text.startswith("#EXTM3U"):
            raise ValueError("not an HLS playlist")
        msn = 0
        index = 0
        discontinuity = 0
        map_uri = ""
        parts: list[Part] = []
        starts: dict[int, datetime] = {}
        ended = False
        for line in text.splitlines():
            if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                msn = int(line.split(":", 1)[1])
            elif line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE:"):
                discontinuity = int(line.split(":", 1)[1])
            elif line == "#EXT-X-DISCONTINUITY":
                discontinuity += 1
            elif line.startswith("#EXT-X-MAP:"):
                map_uri = attributes(line)["URI"]
            elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
                starts[msn] = datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00"))
            elif line.startswith("#EXT-X-PART:"):
                attrs = attributes(line)
                parts.append(
                    Part(msn, index, attrs["URI"], float(attrs["DURATION"]), discontinuity)
                )
                index += 1
            elif line and not line.startswith("#"):
                msn += 1
                index = 0
            elif line.startswith("#EXT-X-ENDLIST"):
                ended = True
        return cls(msn, map_uri, parts, ended, starts)


def attributes(line: str) -> dict[str, str]:
    """A tag's attribute list (``KEY=VALUE,KEY="quoted, value"``) as a dict."""
    attrs: dict[str, str] = {}
    body = line.split(":", 1)[1]
    key, value, quoted, current = "", "", False, ""
    for char in body + ",":
        if char == '"':
            quoted = not quoted
        elif char == "=" and not quoted and not key:
            key, current = current, ""
        elif char == "," and not quoted:
            value, current = current, ""
            attrs[key] = value
            key = ""
        else:
            current += char
    return attrs
