"""Audio credentials: what the edge's secure_link and the origin both check."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest

from salon.clock import FakeClock
from salon.domain.audio_credentials import AudioCredentials
from salon.domain.errors import Forbidden

SECRET = "edge-secret"


def _credentials(clock: FakeClock, lifetime: int = 60) -> AudioCredentials:
    return AudioCredentials(SECRET, lifetime=lifetime, clock=clock)


def test_the_signature_is_what_nginx_secure_link_md5_computes() -> None:
    clock = FakeClock()
    credential = _credentials(clock).issue(space_id="space1", user_id=7)
    expires = int(clock.now().timestamp()) + 60
    # secure_link_md5 "$expires.$listener.$space $secret"; secure_link compares the
    # base64url (unpadded) of that MD5 with the signature in the URL.
    message = f"{expires}.{credential.listener}.space1 {SECRET}".encode()
    expected = base64.urlsafe_b64encode(hashlib.md5(message).digest()).decode().rstrip("=")
    assert credential.expires == expires
    assert credential.sig == expected
    assert str(credential) == f"{expires}.{credential.listener}.{expected}"


def test_a_credential_opens_its_space_until_it_expires() -> None:
    clock = FakeClock()
    credentials = _credentials(clock, lifetime=5)
    credential = str(credentials.issue(space_id="space1", user_id=7))
    assert credentials.check(credential, space_id="space1").listener
    clock.advance(5)
    credentials.check(credential, space_id="space1")  # the last second still counts
    clock.advance(1)
    with pytest.raises(Forbidden, match="expired"):
        credentials.check(credential, space_id="space1")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e, listener, s: f"{int(e) + 3600}.{listener}.{s}",
        lambda e, listener, s: f"{e}.{'B' * 12}.{s}",
        lambda e, listener, s: f"{e}.{listener}.{s[:-1]}{'A' if s[-1] != 'A' else 'B'}",
    ],
)
def test_a_changed_credential_is_refused(tamper: Callable[[str, str, str], str]) -> None:
    credentials = _credentials(FakeClock())
    expires, listener, sig = str(credentials.issue(space_id="s", user_id=1)).split(".")
    with pytest.raises(Forbidden, match="not valid"):
        credentials.check(tamper(expires, listener, sig), space_id="s")


def test_it_opens_no_other_space_and_other_secrets_do_not_make_it() -> None:
    clock = FakeClock()
    credential = str(_credentials(clock).issue(space_id="one", user_id=1))
    with pytest.raises(Forbidden, match="not valid"):
        _credentials(clock).check(credential, space_id="two")
    other = AudioCredentials("another secret", lifetime=60, clock=clock)
    with pytest.raises(Forbidden, match="not valid"):
        other.check(credential, space_id="one")
    with pytest.raises(Forbidden, match="malformed"):
        _credentials(clock).check("not-a-credential", space_id="one")


def test_the_listener_is_opaque_and_binds_the_person() -> None:
    credentials = _credentials(FakeClock())
    mine = credentials.issue(space_id="s", user_id=12345)
    assert mine.listener == credentials.listener_of(space_id="s", user_id=12345)
    assert mine.listener != credentials.issue(space_id="s", user_id=12346).listener
    assert mine.listener != credentials.issue(space_id="t", user_id=12345).listener
    assert "12345" not in str(mine)
