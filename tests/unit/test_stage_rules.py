"""Stage rules: who may do what, to whom, and how many seats each role has."""

from __future__ import annotations

from itertools import product

import pytest

from salon.domain.errors import Conflict, DomainError, Forbidden
from salon.domain.stage import (
    CAPS,
    Role,
    StageAction,
    check_may,
    check_may_act_on,
    check_seat_free,
    describe,
    role_after_cohost_dismissed,
)

A = StageAction

#: The product's stage table, written out: what each role may do at all.
MAY: dict[Role, frozenset[StageAction]] = {
    Role.HOST: frozenset(
        {
            A.APPROVE,
            A.DENY,
            A.INVITE,
            A.MUTE,
            A.MOVE_TO_AUDIENCE,
            A.REMOVE,
            A.APPOINT_COHOST,
            A.DISMISS_COHOST,
            A.END,
        }
    ),
    Role.COHOST: frozenset({A.APPROVE, A.DENY, A.INVITE, A.MUTE, A.MOVE_TO_AUDIENCE, A.REMOVE}),
    Role.SPEAKER: frozenset(),
    Role.LISTENER: frozenset(),
}

#: Whom each targeted action makes sense on.
TARGETS: dict[StageAction, frozenset[Role]] = {
    A.APPROVE: frozenset({Role.LISTENER}),
    A.DENY: frozenset({Role.LISTENER}),
    A.INVITE: frozenset({Role.LISTENER}),
    A.MUTE: frozenset({Role.COHOST, Role.SPEAKER}),
    A.MOVE_TO_AUDIENCE: frozenset({Role.COHOST, Role.SPEAKER}),
    A.REMOVE: frozenset({Role.COHOST, Role.SPEAKER, Role.LISTENER}),
    A.APPOINT_COHOST: frozenset({Role.SPEAKER, Role.LISTENER}),
    A.DISMISS_COHOST: frozenset({Role.COHOST}),
}

#: Who each role may act on: nobody acts on the host; co-hosts do not act on co-hosts.
OUTRANKS: dict[Role, frozenset[Role]] = {
    Role.HOST: frozenset({Role.COHOST, Role.SPEAKER, Role.LISTENER}),
    Role.COHOST: frozenset({Role.SPEAKER, Role.LISTENER}),
    Role.SPEAKER: frozenset({Role.LISTENER}),
    Role.LISTENER: frozenset(),
}

ROLE_WORDS = {
    Role.HOST: "host",
    Role.COHOST: "co-host",
    Role.SPEAKER: "speaker",
    Role.LISTENER: "listener",
}


def test_the_table_covers_every_role_and_action() -> None:
    assert set(MAY) == set(Role)
    assert set(TARGETS) == set(StageAction) - {A.END}


@pytest.mark.parametrize(("actor", "action"), list(product(Role, StageAction)))
def test_check_may_follows_the_product_table(actor: Role, action: StageAction) -> None:
    if action in MAY[actor]:
        check_may(actor, action)
        return
    with pytest.raises(Forbidden) as caught:
        check_may(actor, action)
    message = caught.value.detail
    assert message.startswith(f"{describe(actor)} cannot ")
    assert ROLE_WORDS[actor] in message
    assert "cohost" not in message
    assert "_" not in message


@pytest.mark.parametrize(
    ("actor", "action", "message"),
    [
        (Role.COHOST, A.APPOINT_COHOST, "a co-host cannot appoint co-hosts"),
        (Role.COHOST, A.DISMISS_COHOST, "a co-host cannot dismiss co-hosts"),
        (Role.COHOST, A.END, "a co-host cannot end the space"),
        (Role.SPEAKER, A.MUTE, "a speaker cannot mute speakers"),
        (Role.LISTENER, A.APPROVE, "a listener cannot approve requests to speak"),
        (Role.LISTENER, A.REMOVE, "a listener cannot remove people from the space"),
    ],
)
def test_check_may_messages(actor: Role, action: StageAction, message: str) -> None:
    with pytest.raises(Forbidden) as caught:
        check_may(actor, action)
    assert caught.value.detail == message
    assert caught.value.status == 403


def _expected(actor: Role, action: StageAction, target: Role) -> type[DomainError] | None:
    if action not in MAY[actor] or target not in OUTRANKS[actor]:
        return Forbidden
    if target not in TARGETS[action]:
        return Conflict
    return None


@pytest.mark.parametrize(("actor", "action", "target"), list(product(Role, TARGETS, Role)))
def test_check_may_act_on_every_combination(actor: Role, action: StageAction, target: Role) -> None:
    expected = _expected(actor, action, target)
    if expected is None:
        check_may_act_on(actor, action, target)
        return
    with pytest.raises(DomainError) as caught:
        check_may_act_on(actor, action, target)
    assert type(caught.value) is expected
    assert "cohost" not in caught.value.detail
    assert "_" not in caught.value.detail


@pytest.mark.parametrize("actor", [Role.HOST, Role.COHOST])
@pytest.mark.parametrize("action", [A.MUTE, A.MOVE_TO_AUDIENCE, A.REMOVE])
def test_nobody_acts_on_the_host(actor: Role, action: StageAction) -> None:
    with pytest.raises(Forbidden) as caught:
        check_may_act_on(actor, action, Role.HOST)
    assert caught.value.detail == f"{describe(actor)} cannot act on the host"


@pytest.mark.parametrize("action", [A.MUTE, A.MOVE_TO_AUDIENCE, A.REMOVE])
def test_a_cohost_cannot_act_on_another_cohost(action: StageAction) -> None:
    with pytest.raises(Forbidden) as caught:
        check_may_act_on(Role.COHOST, action, Role.COHOST)
    assert caught.value.detail == "a co-host cannot act on a co-host"


@pytest.mark.parametrize("action", [A.MUTE, A.MOVE_TO_AUDIENCE, A.REMOVE, A.DISMISS_COHOST])
def test_the_host_acts_on_cohosts(action: StageAction) -> None:
    check_may_act_on(Role.HOST, action, Role.COHOST)


@pytest.mark.parametrize(
    ("actor", "action", "target", "words"),
    [
        (Role.HOST, A.MUTE, Role.LISTENER, ("mute", "a listener")),
        (Role.COHOST, A.MUTE, Role.LISTENER, ("mute", "a listener")),
        (Role.HOST, A.APPROVE, Role.SPEAKER, ("approve", "a speaker")),
        (Role.COHOST, A.APPROVE, Role.SPEAKER, ("approve", "a speaker")),
        (Role.COHOST, A.DENY, Role.SPEAKER, ("deny", "a speaker")),
        (Role.HOST, A.INVITE, Role.COHOST, ("invite", "a co-host")),
        (Role.HOST, A.MOVE_TO_AUDIENCE, Role.LISTENER, ("move", "audience", "a listener")),
        (Role.HOST, A.APPOINT_COHOST, Role.COHOST, ("appoint", "co-host")),
        (Role.HOST, A.DISMISS_COHOST, Role.SPEAKER, ("dismiss", "co-host", "a speaker")),
        (Role.HOST, A.DISMISS_COHOST, Role.LISTENER, ("dismiss", "co-host", "a listener")),
    ],
)
def test_target_role_conflicts(
    actor: Role, action: StageAction, target: Role, words: tuple[str, ...]
) -> None:
    with pytest.raises(Conflict) as caught:
        check_may_act_on(actor, action, target)
    assert caught.value.status == 409
    for word in words:
        assert word in caught.value.detail


def test_conflict_message_names_the_action_and_the_target() -> None:
    with pytest.raises(Conflict) as caught:
        check_may_act_on(Role.COHOST, A.MUTE, Role.LISTENER)
    assert caught.value.detail == "cannot mute speakers: that person is a listener"


@pytest.mark.parametrize(
    ("actor", "action", "target"),
    [
        (Role.COHOST, A.APPROVE, Role.LISTENER),
        (Role.COHOST, A.DENY, Role.LISTENER),
        (Role.COHOST, A.INVITE, Role.LISTENER),
        (Role.COHOST, A.MUTE, Role.SPEAKER),
        (Role.COHOST, A.MOVE_TO_AUDIENCE, Role.SPEAKER),
        (Role.COHOST, A.REMOVE, Role.SPEAKER),
        (Role.COHOST, A.REMOVE, Role.LISTENER),
        (Role.HOST, A.APPOINT_COHOST, Role.SPEAKER),
        (Role.HOST, A.APPOINT_COHOST, Role.LISTENER),
        (Role.HOST, A.REMOVE, Role.LISTENER),
    ],
)
def test_allowed_actions_pass(actor: Role, action: StageAction, target: Role) -> None:
    check_may_act_on(actor, action, target)


def test_caps_are_the_thirteen_seat_stage() -> None:
    assert dict(CAPS) == {Role.HOST: 1, Role.COHOST: 2, Role.SPEAKER: 10}


@pytest.mark.parametrize(("role", "cap"), [(Role.HOST, 1), (Role.COHOST, 2), (Role.SPEAKER, 10)])
def test_seat_free_below_the_cap(role: Role, cap: int) -> None:
    check_seat_free(role, {})
    for seated in range(cap):
        check_seat_free(role, {role: seated})


@pytest.mark.parametrize(
    ("role", "cap", "message"),
    [
        (Role.HOST, 1, "all 1 host seats are taken"),
        (Role.COHOST, 2, "all 2 co-host seats are taken"),
        (Role.SPEAKER, 10, "all 10 speaker seats are taken"),
    ],
)
def test_seat_taken_at_the_cap(role: Role, cap: int, message: str) -> None:
    for seated in (cap, cap + 1):
        with pytest.raises(Conflict) as caught:
            check_seat_free(role, {role: seated})
        assert caught.value.detail == message


def test_other_roles_do_not_count_against_a_cap() -> None:
    full_elsewhere = {Role.HOST: 1, Role.COHOST: 2, Role.LISTENER: 10_000}
    check_seat_free(Role.SPEAKER, full_elsewhere)
    check_seat_free(Role.SPEAKER, {**full_elsewhere, Role.SPEAKER: 9})
    with pytest.raises(Conflict):
        check_seat_free(Role.COHOST, full_elsewhere)


@pytest.mark.parametrize("listeners", [0, 1, 10, 13, 1_000_000])
def test_listeners_are_unlimited(listeners: int) -> None:
    full_stage = {Role.HOST: 1, Role.COHOST: 2, Role.SPEAKER: 10, Role.LISTENER: listeners}
    check_seat_free(Role.LISTENER, full_stage)


@pytest.mark.parametrize(
    ("speakers", "expected"),
    [(0, Role.SPEAKER), (9, Role.SPEAKER), (10, Role.LISTENER), (11, Role.LISTENER)],
)
def test_role_after_cohost_dismissed(speakers: int, expected: Role) -> None:
    seated = {Role.HOST: 1, Role.COHOST: 2, Role.SPEAKER: speakers}
    assert role_after_cohost_dismissed(seated) is expected


def test_role_after_cohost_dismissed_with_nobody_counted() -> None:
    assert role_after_cohost_dismissed({}) is Role.SPEAKER
