"""Trickle ICE fragments (RFC 8840) as WHIP and WHEP clients PATCH them."""

from __future__ import annotations

import pytest

from salon.media.sdpfrag import BadFragment, parse

CHROME_STYLE = (
    "a=ice-options:trickle ice2\r\n"
    "a=group:BUNDLE 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "a=mid:0\r\n"
    "a=ice-ufrag:EsAw\r\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
    "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0\r\n"
    "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0\r\n"
    "a=end-of-candidates\r\n"
)


def test_a_fragment_gives_credentials_candidates_and_the_end() -> None:
    fragment = parse(CHROME_STYLE)
    assert (fragment.ufrag, fragment.pwd) == ("EsAw", "P2uYro0UCOQ4zxjKXaWCBui1")
    assert [c.mid for c in fragment.candidates] == ["0", "0"]
    assert fragment.candidates[0].line.startswith("candidate:1387637174 1 udp")
    assert fragment.end_of_candidates


def test_candidates_of_a_second_section_know_where_they_belong() -> None:
    fragment = parse(
        "m=audio 9 RTP/AVP 0\na=mid:a\nm=audio 9 RTP/AVP 0\n"
        "a=candidate:2 1 udp 1 192.0.2.9 9 typ host\n"
    )
    assert (fragment.candidates[0].mid, fragment.candidates[0].mline_index) == (None, 1)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "no candidates"),
        ("hello world", "not an SDP fragment line"),
        ("a=candidate:1 1 udp\r\n", "not an ICE candidate"),
        ("a=ice-ufrag:a\r\na=ice-ufrag:b\r\n", "two different ice-ufrag"),
    ],
)
def test_what_is_not_a_fragment_is_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(BadFragment, match=why):
        parse(text)
