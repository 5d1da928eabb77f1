"""People's text (names, bios, titles, topics): one form, no spoofing, lengths people count.

- NFC-normalised, so the same words are the same code points (and the same length).
- Surrounding whitespace is stripped before anything is counted.
- The bidirectional embedding, override and isolate controls (U+202A–202E, U+2066–2069) are
  refused: they reorder what follows them, so a name can show as something it is not.
- A name must show something: text made only of spaces and invisible characters (zero-width
  space, joiners, format characters) is refused. Joiners *inside* text stay: family emoji
  and Persian words need them.
- Lengths are counted in code points, as the web client counts them.
- Text over its limit is refused, saying the limit; it is never cut to fit.
"""

from __future__ import annotations

import unicodedata

from salon.domain.errors import Invalid

#: LRE RLE PDF LRO RLO, and LRI RLI FSI PDI.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: How much longer than its limit a field may arrive, surrounding whitespace included (the
#: request schemas bound input with it; the limit is checked here, after stripping).
INPUT_SLACK = 4


def length_rule(what: str, max_length: int, *, required: bool = True) -> str:
    """What is said of a ``what`` of the wrong length: its limit, by name."""
    if required:
        return f"a {what} is 1 to {max_length} characters"
    return f"a {what} is at most {max_length} characters"


def _visible(character: str) -> bool:
    # Separators (Z*) and other/format/control characters (C*) show nothing by themselves.
    return unicodedata.category(character)[0] not in "ZC"


def clean(value: str, *, what: str, max_length: int, required: bool = True) -> str:
    """``value`` in its one stored form, or ``Invalid`` saying what is wrong with it."""
    text = unicodedata.normalize("NFC", value).strip()
    if any(character in BIDI_CONTROLS for character in text):
        raise Invalid(f"a {what} must not contain bidirectional override characters")
    if required and not 1 <= len(text) <= max_length:
        raise Invalid(length_rule(what, max_length, required=True))
    if len(text) > max_length:
        raise Invalid(length_rule(what, max_length, required=False))
    if required and not any(_visible(character) for character in text):
        raise Invalid(f"a {what} needs at least one visible character")
    return text
