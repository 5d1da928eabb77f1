"""Account rules: handles, names, bios."""

from __future__ import annotations

import re

from salon.domain import text
from salon.domain.errors import Forbidden, Invalid

HANDLE_PATTERN = r"^[A-Za-z0-9_]{1,15}$"
_HANDLE_RE = re.compile(HANDLE_PATTERN)
DISPLAY_NAME_MAX = 50
BIO_MAX = 160
PASSWORD_MIN = 8
PASSWORD_MAX = 256


def normalize_handle(handle: str) -> str:
    """Handles are unique case-insensitively; this is the form used for lookups."""
    # fullmatch: "$" alone would let a trailing newline through.
    if not _HANDLE_RE.fullmatch(handle):
        raise Invalid("a handle is 1 to 15 letters, digits or underscores")
    return handle.lower()


def check_display_name(name: str) -> str:
    return text.clean(name, what="display name", max_length=DISPLAY_NAME_MAX)


def check_bio(bio: str) -> str:
    return text.clean(bio, what="bio", max_length=BIO_MAX, required=False)


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise Invalid(f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return password


def check_can_host(*, followers: int, min_followers: int, is_admin: bool) -> None:
    """Hosting needs ``min_followers`` followers; admins are exempt."""
    if is_admin or followers >= min_followers:
        return
    missing = min_followers - followers
    raise Forbidden(
        f"hosting a space needs {min_followers} followers; you have {followers} ({missing} to go)"
    )
