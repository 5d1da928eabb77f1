"""Audio credentials: what opens a ticketed space's audio, checked at the edge or the origin.

A credential is one URL path segment, ``{expires}.{listener}.{sig}``, placed between a
space's ``hls/`` (or ``recording/``) and the file name. Playlists name their media with
relative URIs, so every part, segment and init a player fetches carries the credential
without the playlist's bytes depending on who asked: a cache keys the objects by the path
with that segment left out, and checks the segment before answering.

- ``expires``: Unix time in seconds after which the credential is refused.
- ``listener``: 12 characters of a keyed hash of the space and the person; it binds the
  credential to one person (the origin and the operator can tell whose it is), and reveals
  nothing to anyone else.
- ``sig``: ``base64url(MD5("{expires}.{listener}.{space} {secret}"))`` without padding,
  exactly what nginx's ``secure_link_md5`` computes, so the edge checks a credential with no
  round trip to the origin. MD5 is nginx's choice, not ours; with the secret at the end of
  the message and a fixed message shape it leaves no length-extension or chosen-prefix
  forgery, and a credential lives at most a minute.

Credentials are short-lived (``SALON_AUDIO_CREDENTIAL_SECONDS``, at most 60): a person who
is removed, banned or refunded cannot get a new one, so their audio stops within a minute,
and a shared URL is useful for no longer than that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from salon.clock import Clock
from salon.domain.errors import Forbidden

#: The credential's path segment (``{expires}.{listener}.{sig}``).
PATTERN = r"(\d{1,12})\.([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{22})"
_CREDENTIAL = re.compile(f"^{PATTERN}$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class AudioCredential:
    expires: int
    listener: str
    sig: str

    def __str__(self) -> str:
        return f"{self.expires}.{self.listener}.{self.sig}"


class AudioCredentials:
    """Issues and checks audio credentials with the secret the edge shares."""

    def __init__(self, secret: str, *, lifetime: int, clock: Clock) -> None:
        if not secret:
            raise ValueError("audio credentials need a secret")
        self.lifetime = lifetime
        self._secret = secret
        self._clock = clock

    def issue(self, *, space_id: str, user_id: int) -> AudioCredential:
        expires = int(self._clock.now().timestamp()) + self.lifetime
        listener = self._listener(space_id, user_id)
        return AudioCredential(expires, listener, self._sign(expires, listener, space_id))

    def listener_of(self, *, space_id: str, user_id: int) -> str:
        """The opaque listener tag a person's credentials for this space carry."""
        return self._listener(space_id, user_id)

    def check(self, credential: str, *, space_id: str) -> AudioCredential:
        """The credential if it opens this space's audio now; Forbidden saying why if not."""
        match = _CREDENTIAL.match(credential)
        if match is None:
            raise Forbidden("this audio credential is malformed; ask GET /listen for one")
        expires, listener, sig = int(match.group(1)), match.group(2), match.group(3)
        if not hmac.compare_digest(sig, self._sign(expires, listener, space_id)):
            raise Forbidden("this audio credential is not valid for this space")
        if expires < self._clock.now().timestamp():
            raise Forbidden("this audio credential has expired; ask GET /listen for a new one")
        return AudioCredential(expires, listener, sig)

    def _sign(self, expires: int, listener: str, space_id: str) -> str:
        message = f"{expires}.{listener}.{space_id} {self._secret}".encode()
        return _b64(hashlib.md5(message, usedforsecurity=True).digest())

    def _listener(self, space_id: str, user_id: int) -> str:
        key = self._secret.encode()
        digest = hmac.new(key, f"listener {space_id} {user_id}".encode(), hashlib.sha256)
        return _b64(digest.digest()[:9])
