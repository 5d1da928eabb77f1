"""People's text: one normal form, no bidi spoofing, no invisible names, lengths counted
after stripping, in code points."""

from __future__ import annotations

import unicodedata

import pytest

from salon.domain import accounts, lifecycle
from salon.domain.errors import Invalid
from salon.domain.text import clean


def test_text_is_nfc_normalised_and_stripped() -> None:
    decomposed = "Cafe\u0301 talk"  # e + combining acute
    assert clean(f"  {decomposed}\t\n", what="title", max_length=70) == "Café talk"
    assert unicodedata.is_normalized("NFC", clean(decomposed, what="title", max_length=70))


def test_length_is_counted_after_stripping_in_code_points() -> None:
    bio = "b" * accounts.BIO_MAX
    assert accounts.check_bio(bio + "   \n") == bio
    with pytest.raises(Invalid, match="at most 160 characters"):
        accounts.check_bio(bio + "b")
    # A family emoji is several code points joined: each one counts.
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert len(family) == 5
    assert accounts.check_display_name(family * 10) == family * 10
    with pytest.raises(Invalid):
        accounts.check_display_name(family * 10 + "x")


@pytest.mark.parametrize("control", list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
def test_bidi_overrides_and_isolates_are_refused(control: str) -> None:
    with pytest.raises(Invalid, match="bidirectional"):
        accounts.check_display_name(f"admin{control}txt.exe")
    with pytest.raises(Invalid, match="bidirectional"):
        lifecycle.check_title(f"Official {control}news")


@pytest.mark.parametrize(
    "invisible",
    ["\u200b", "\u200b\u200c\u200d", " \u2060 ", "\ufeff", "\u00a0\u200b", "\u3000\u200b"],
)
def test_a_name_with_nothing_visible_is_refused(invisible: str) -> None:
    with pytest.raises(Invalid, match="visible character"):
        accounts.check_display_name(invisible)
    with pytest.raises(Invalid, match="visible character"):
        lifecycle.check_title(invisible)
    with pytest.raises(Invalid, match="visible character"):
        lifecycle.check_topics(["ok", invisible])


def test_joiners_inside_text_are_kept() -> None:
    persian = "می\u200cخواهم"  # ZWNJ inside a Persian word
    assert accounts.check_display_name(persian) == persian
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert lifecycle.check_title(f"Family {family}") == f"Family {family}"


def test_a_bio_may_be_empty_but_not_spoofed() -> None:
    assert accounts.check_bio("   ") == ""
    with pytest.raises(Invalid, match="bidirectional"):
        accounts.check_bio("hello \u202e")
