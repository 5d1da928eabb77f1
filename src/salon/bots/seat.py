"""A speaking bot's own seat, as its space's events tell it (pure: no I/O, no clock).

The server says whether someone is muted but not who muted them, so the bot follows the
events: a ``muted`` event names who did it. The bot unmutes itself only when the mute is its
own: the mute every new speaker comes on stage with, or a self-mute. A host's mute is never
overridden, and neither is a mute made while the bot was not listening (it cannot tell whose).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

STAGE_ROLES = frozenset({"host", "cohost", "speaker"})

#: Why the seat is muted: ``seat`` (new speakers come on stage muted), ``self``, ``host``
#: (a host or co-host), ``unknown`` (muted while the bot's event stream was down), or ``none``.
MuteCause = Literal["none", "seat", "self", "host", "unknown"]


class Seat:
    """Role and microphone of the bot's account in one space; fed every event in order."""

    def __init__(self, *, stay_muted: bool = False) -> None:
        #: The bot was asked to keep its microphone shut (``--muted``): it never unmutes, and
        #: mutes itself when it finds its seat open.
        self.stay_muted = stay_muted
        self.user_id: int | None = None
        self.handle = ""
        self.role: str | None = None
        self.muted = False
        self.cause: MuteCause = "none"

    @property
    def known(self) -> bool:
        """A snapshot has told who the bot is."""
        return self.user_id is not None

    @property
    def on_stage(self) -> bool:
        return self.role in STAGE_ROLES

    @property
    def should_unmute(self) -> bool:
        """On stage and muted by nobody but itself."""
        return (
            not self.stay_muted and self.on_stage and self.muted and self.cause in ("seat", "self")
        )

    @property
    def should_mute(self) -> bool:
        """Asked to stay muted, on stage, and the microphone open."""
        return self.stay_muted and self.on_stage and not self.muted

    @property
    def muted_by_host(self) -> bool:
        return self.muted and self.cause == "host"

    def describe(self) -> str:
        """The seat in a few words, for the bot's status line ("unmuted" when on air)."""
        if not self.on_stage:
            return "not on the stage"
        if not self.muted:
            return "unmuted"
        if self.cause == "host":
            return "muted by the host"
        if self.cause == "unknown" and not self.stay_muted:
            return "muted while disconnected (by whom is unknown): not unmuting"
        return "muted (--muted)" if self.stay_muted else "muted"

    def apply(self, event: Mapping[str, Any]) -> None:
        """Take one event of the space's stream into account (others' events change nothing)."""
        kind = event.get("type")
        if kind == "snapshot":
            self._snapshot(event)
            return
        if self.user_id is None or event.get("user_id") != self.user_id:
            return
        if kind == "muted":
            self.muted = True
            self.cause = "self" if event.get("by") == self.user_id else "host"
        elif kind == "unmuted":
            self.muted, self.cause = False, "none"
        elif kind == "role_changed":
            self._role(str(event["role"]), str(event["previous"]))
        elif kind == "participant_left":
            self._role("listener", self.role or "listener")

    def _role(self, role: str, previous: str) -> None:
        self.role = role
        if role not in STAGE_ROLES:
            self.muted, self.cause = False, "none"
        elif previous not in STAGE_ROLES:
            # The server brings every new speaker on stage muted.
            self.muted, self.cause = True, "seat"

    def _snapshot(self, event: Mapping[str, Any]) -> None:
        me = event.get("space", {}).get("me")
        if me is None:
            self.role = None
            return
        first = self.user_id is None
        was_on_stage, was_muted = self.on_stage, self.muted
        self.user_id = int(me["user"]["id"])
        self.handle = str(me["user"]["handle"])
        self.role = str(me["role"])
        self.muted = bool(me["muted"])
        if not self.muted:
            self.cause = "none"
        elif first or not was_on_stage:
            # Muted as it came on stage: the seat's own mute (the server does not say who
            # muted a seat, so a host's mute from before the bot started looks the same).
            self.cause = "seat"
        elif not was_muted:
            self.cause = "unknown"
