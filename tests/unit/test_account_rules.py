"""Account rules: handles, display names, bios, passwords and who may host."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salon.domain.accounts import (
    check_bio,
    check_can_host,
    check_display_name,
    check_password,
    normalize_handle,
)
from salon.domain.errors import Forbidden, Invalid

HANDLE_ALPHABET = string.ascii_letters + string.digits + "_"


@pytest.mark.parametrize(
    ("handle", "key"),
    [
        ("a", "a"),
        ("Ada", "ada"),
        ("ADA_L", "ada_l"),
        ("_", "_"),
        ("0", "0"),
        ("a" * 15, "a" * 15),
        ("Z9_z9_Z9_z9_Z9_", "z9_z9_z9_z9_z9_"),
    ],
)
def test_normalize_handle_accepts(handle: str, key: str) -> None:
    assert normalize_handle(handle) == key


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "a" * 16,
        "ada l",
        " ada",
        "ada ",
        "ada\n",
        "\nada",
        "ada-l",
        "ada.l",
        "@ada",
        "adé",
        "ａｄａ",  # fullwidth letters
        "١٢٣",  # Arabic-Indic digits
        "ada\x00",
    ],
)
def test_normalize_handle_rejects(handle: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalize_handle(handle)
    assert caught.value.detail == "a handle is 1 to 15 letters, digits or underscores"


@given(st.text(alphabet=HANDLE_ALPHABET, min_size=1, max_size=15))
def test_every_valid_handle_normalizes_to_its_lowercase(handle: str) -> None:
    key = normalize_handle(handle)
    assert key == handle.lower()
    assert normalize_handle(handle.upper()) == key
    assert normalize_handle(handle.swapcase()) == key
    assert normalize_handle(key) == key


@given(st.text(max_size=20))
def test_a_handle_is_accepted_exactly_when_it_fits_the_rule(handle: str) -> None:
    fits = 1 <= len(handle) <= 15 and all(c in HANDLE_ALPHABET for c in handle)
    if fits:
        assert normalize_handle(handle) == handle.lower()
    else:
        with pytest.raises(Invalid):
            normalize_handle(handle)


@given(
    st.text(alphabet=HANDLE_ALPHABET, min_size=1, max_size=15),
    st.sampled_from(["\n", " ", "\t", "\r\n", "-", "é"]),
)
def test_a_valid_handle_with_anything_appended_is_rejected(handle: str, extra: str) -> None:
    for bad in (handle + extra, extra + handle):
        with pytest.raises(Invalid):
            normalize_handle(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Ada", "Ada"), ("  Ada Lovelace ", "Ada Lovelace"), ("x" * 50, "x" * 50), ("💜", "💜")],
)
def test_check_display_name_accepts(raw: str, expected: str) -> None:
    assert check_display_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "x" * 51])
def test_check_display_name_rejects(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_display_name(raw)
    assert caught.value.detail == "a display name is 1 to 50 characters"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("  ", ""),
        (" hello ", "hello"),
        ("b" * 160, "b" * 160),
        (" " + "b" * 160, "b" * 160),
    ],
)
def test_check_bio_accepts(raw: str, expected: str) -> None:
    assert check_bio(raw) == expected


def test_check_bio_rejects_more_than_160() -> None:
    with pytest.raises(Invalid) as caught:
        check_bio("b" * 161)
    assert caught.value.detail == "a bio is at most 160 characters"


@pytest.mark.parametrize("password", ["x" * 8, "correct horse", " " * 8, "p" * 256])
def test_check_password_accepts_and_keeps_it_unchanged(password: str) -> None:
    assert check_password(password) == password


@pytest.mark.parametrize("password", ["", "x" * 7, "p" * 257])
def test_check_password_rejects(password: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_password(password)
    assert caught.value.detail == "a password is 8 to 256 characters"


@pytest.mark.parametrize("followers", [600, 601, 10_000])
def test_enough_followers_may_host(followers: int) -> None:
    check_can_host(followers=followers, min_followers=600, is_admin=False)


@pytest.mark.parametrize(("followers", "missing"), [(0, 600), (1, 599), (599, 1)])
def test_too_few_followers_may_not_host(followers: int, missing: int) -> None:
    with pytest.raises(Forbidden) as caught:
        check_can_host(followers=followers, min_followers=600, is_admin=False)
    assert caught.value.status == 403
    assert caught.value.detail == (
        f"hosting a space needs 600 followers; you have {followers} ({missing} to go)"
    )


@pytest.mark.parametrize("followers", [0, 599])
def test_admins_may_always_host(followers: int) -> None:
    check_can_host(followers=followers, min_followers=600, is_admin=True)


def test_an_operator_may_let_anyone_host() -> None:
    check_can_host(followers=0, min_followers=0, is_admin=False)


def test_a_lowered_threshold_applies() -> None:
    check_can_host(followers=50, min_followers=50, is_admin=False)
    with pytest.raises(Forbidden) as caught:
        check_can_host(followers=49, min_followers=50, is_admin=False)
    assert "(1 to go)" in caught.value.detail
