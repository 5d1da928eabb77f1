"""Account rules: handles, names, bios."""

from __future__ import annotations

import re

from salon.domain import text
from salon.domain.errors import Forbidden, Invalid

HANDLE_MAX = 15
HANDLE_PATTERN = r"^[A-Za-z0-9_]{1,15}$"
_HANDLE_RE = re.compile(HANDLE_PATTERN)
DISPLAY_NAME_MAX = 50
BIO_MAX = 160
PASSWORD_MIN = 8
PASSWORD_MAX = 256
#: An API token's label (what it is for).
TOKEN_LABEL_MAX = 50


#: What is said of a handle that does not fit (a longer one is refused, never cut).
HANDLE_RULE = f"a handle is 1 to {HANDLE_MAX} letters, digits or underscores"


def handle_fits(handle: str) -> bool:
    # fullmatch: "$" alone would let a trailing newline through.
    return _HANDLE_RE.fullmatch(handle) is not None


def normalize_handle(handle: str) -> str:
    """Handles are unique case-insensitively; this is the form used for lookups."""
    if not handle_fits(handle):
        raise Invalid(HANDLE_RULE)
    return handle.lower()


def check_display_name(name: str) -> str:
    return text.clean(name, what="display name", max_length=DISPLAY_NAME_MAX)


def check_bio(bio: str) -> str:
    return text.clean(bio, what="bio", max_length=BIO_MAX, required=False)


def check_token_label(label: str) -> str:
    return text.clean(label, what="token label", max_length=TOKEN_LABEL_MAX)


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise Invalid(f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return password


def followers_to_go(*, followers: int, min_followers: int, is_admin: bool) -> int:
    """How many more followers hosting needs: 0 when one may host (admins always may)."""
    return 0 if is_admin else max(0, min_followers - followers)


def check_can_host(*, followers: int, min_followers: int, is_admin: bool) -> None:
    """Hosting needs ``min_followers`` followers; admins are exempt."""
    missing = followers_to_go(followers=followers, min_followers=min_followers, is_admin=is_admin)
    if missing == 0:
        return
    raise Forbidden(
        f"hosting a space needs {min_followers} followers; you have {followers} ({missing} to go)"
    )
