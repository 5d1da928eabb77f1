"""Who sits on the stage, how many, and who may do what to whom."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from salon.domain.errors import Conflict, Forbidden


class Role(StrEnum):
    HOST = "host"
    COHOST = "cohost"
    SPEAKER = "speaker"
    LISTENER = "listener"


STAGE_ROLES = frozenset({Role.HOST, Role.COHOST, Role.SPEAKER})
MODERATORS = frozenset({Role.HOST, Role.COHOST})

#: Seats per role on one stage (13 in all).
CAPS: Mapping[Role, int] = {Role.HOST: 1, Role.COHOST: 2, Role.SPEAKER: 10}

_RANK: Mapping[Role, int] = {Role.HOST: 3, Role.COHOST: 2, Role.SPEAKER: 1, Role.LISTENER: 0}


class StageAction(StrEnum):
    APPROVE = "approve"
    DENY = "deny"
    INVITE = "invite"
    MUTE = "mute"
    MOVE_TO_AUDIENCE = "move_to_audience"
    REMOVE = "remove"
    APPOINT_COHOST = "appoint_cohost"
    DISMISS_COHOST = "dismiss_cohost"
    END = "end"


_ALLOWED: Mapping[StageAction, frozenset[Role]] = {
    StageAction.APPROVE: MODERATORS,
    StageAction.DENY: MODERATORS,
    StageAction.INVITE: MODERATORS,
    StageAction.MUTE: MODERATORS,
    StageAction.MOVE_TO_AUDIENCE: MODERATORS,
    StageAction.REMOVE: MODERATORS,
    StageAction.APPOINT_COHOST: frozenset({Role.HOST}),
    StageAction.DISMISS_COHOST: frozenset({Role.HOST}),
    StageAction.END: frozenset({Role.HOST}),
}

#: The roles a target must hold for the action to make sense.
_TARGETS: Mapping[StageAction, frozenset[Role]] = {
    StageAction.APPROVE: frozenset({Role.LISTENER}),
    StageAction.DENY: frozenset({Role.LISTENER}),
    StageAction.INVITE: frozenset({Role.LISTENER}),
    StageAction.MUTE: frozenset({Role.COHOST, Role.SPEAKER}),
    StageAction.MOVE_TO_AUDIENCE: frozenset({Role.COHOST, Role.SPEAKER}),
    StageAction.REMOVE: frozenset({Role.COHOST, Role.SPEAKER, Role.LISTENER}),
    StageAction.APPOINT_COHOST: frozenset({Role.SPEAKER, Role.LISTENER}),
    StageAction.DISMISS_COHOST: frozenset({Role.COHOST}),
}

_WORDS: Mapping[StageAction, str] = {
    StageAction.APPROVE: "approve requests to speak",
    StageAction.DENY: "deny requests to speak",
    StageAction.INVITE: "invite listeners to speak",
    StageAction.MUTE: "mute speakers",
    StageAction.MOVE_TO_AUDIENCE: "move speakers to the audience",
    StageAction.REMOVE: "remove people from the space",
    StageAction.APPOINT_COHOST: "appoint co-hosts",
    StageAction.DISMISS_COHOST: "dismiss co-hosts",
    StageAction.END: "end the space",
}

_ARTICLE: Mapping[Role, str] = {
    Role.HOST: "the host",
    Role.COHOST: "a co-host",
    Role.SPEAKER: "a speaker",
    Role.LISTENER: "a listener",
}


def describe(role: Role) -> str:
    return _ARTICLE[role]


def check_may(actor: Role, action: StageAction) -> None:
    """Raise Forbidden unless ``actor`` may perform ``action`` at all."""
    if actor not in _ALLOWED[action]:
        raise Forbidden(f"{describe(actor)} cannot {_WORDS[action]}")


def check_may_act_on(actor: Role, action: StageAction, target: Role) -> None:
    """Raise unless ``actor`` may perform ``action`` on someone holding ``target``.

    Forbidden when the actor lacks the right or does not outrank the target (nobody acts on
    the host; a co-host cannot act on another co-host); Conflict when the target's role makes
    the action meaningless (muting a listener, approving a speaker).
    """
    check_may(actor, action)
    if _RANK[target] >= _RANK[actor]:
        raise Forbidden(f"{describe(actor)} cannot act on {describe(target)}")
    if target not in _TARGETS[action]:
        raise Conflict(f"cannot {_WORDS[action]}: that person is {describe(target)}")


def check_seat_free(role: Role, seated: Mapping[Role, int]) -> None:
    """Raise Conflict when every seat of ``role`` is taken.

    Call while holding the space's lock, with ``seated`` counted inside that lock, so two
    approvals racing for the last seat cannot both pass.
    """
    cap = CAPS.get(role)
    if cap is not None and seated.get(role, 0) >= cap:
        noun = {Role.HOST: "host", Role.COHOST: "co-host", Role.SPEAKER: "speaker"}[role]
        raise Conflict(f"all {cap} {noun} seats are taken")


def role_after_cohost_dismissed(seated: Mapping[Role, int]) -> Role:
    """A dismissed co-host keeps a speaker seat when one is free, else joins the audience."""
    return Role.SPEAKER if seated.get(Role.SPEAKER, 0) < CAPS[Role.SPEAKER] else Role.LISTENER
