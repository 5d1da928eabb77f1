"""The stage's state machine, through the API and the live event stream.

Requests to speak, approvals and denials, invitations, microphones, moving people around,
co-hosts, removal, and the seat caps (1 host, 2 co-hosts, 10 speakers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.harness import Person, Server

REACTION = {"emoji": "👋"}


@dataclass
class Room:
    """A live space and its host, with shortcuts to the stage routes."""

    server: Server
    host: Person
    id: str

    def url(self, path: str = "", who: Person | int | None = None) -> str:
        if who is None:
            return f"/api/spaces/{self.id}{path}"
        user_id = who if isinstance(who, int) else who.id
        return f"/api/spaces/{self.id}/participants/{user_id}{path}"

    async def listener(self, handle: str | None = None) -> Person:
        person = await self.server.person(handle)
        await person.join(self.id)
        return person

    async def speaker(self, handle: str | None = None) -> Person:
        """A listener who asked to speak and whom the host approved (so, muted)."""
        person = await self.listener(handle)
        await person.ok("POST", self.url("/hand"))
        await self.host.ok("POST", self.url("/approve", person))
        return person

    async def cohost(self, handle: str | None = None) -> Person:
        person = await self.listener(handle)
        await self.host.ok("PUT", self.url(f"/cohosts/{person.id}"))
        return person

    async def rows(self) -> dict[int, dict[str, Any]]:
        """Everyone present, by user id."""
        rows = await self.host.ok("GET", self.url("/participants"))
        return {row["user"]["id"]: row for row in rows}

    async def standing(self, who: Person) -> tuple[str, bool, bool, bool] | None:
        """(role, muted, hand_raised, invited) of someone present, None if absent."""
        row = (await self.rows()).get(who.id)
        if row is None:
            return None
        return row["role"], row["muted"], row["hand_raised"], row["invited"]


def brief(row: dict[str, Any]) -> tuple[str, bool, bool, bool]:
    return row["role"], row["muted"], row["hand_raised"], row["invited"]


def payload(event: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: event[key] for key in keys}


@pytest.fixture
async def room(server: Server) -> Room:
    host = await server.person("host")
    space = await host.create_space("On stage")
    return Room(server, host, space["id"])


# Requests to speak


async def test_raising_and_withdrawing_a_hand_is_idempotent(room: Room) -> None:
    async with room.host.events(room.id) as stream:
        ann = await room.listener("ann")
        row = await ann.ok("POST", room.url("/hand"))
        assert brief(row) == ("listener", False, True, False)
        assert await ann.ok("POST", room.url("/hand")) == row
        assert await room.standing(ann) == ("listener", False, True, False)
        raised = await stream.next("hand_raised")
        assert payload(raised, "space_id", "user_id") == {"space_id": room.id, "user_id": ann.id}

        row = await ann.ok("DELETE", room.url("/hand"))
        assert brief(row) == ("listener", False, False, False)
        assert await ann.ok("DELETE", room.url("/hand")) == row
        assert await room.standing(ann) == ("listener", False, False, False)
        lowered = await stream.next("hand_lowered")
        assert payload(lowered, "user_id", "reason") == {"user_id": ann.id, "reason": "withdrawn"}

        # A marker event: everything before it has been delivered.
        await room.host.ok("POST", room.url("/reactions"), json=REACTION)
        await stream.next("reaction")
        kinds = [event["type"] for event in stream.seen]
        assert kinds.count("hand_raised") == 1
        assert kinds.count("hand_lowered") == 1


async def test_someone_on_the_stage_cannot_ask_to_speak(room: Room) -> None:
    bob = await room.speaker("bob")
    await bob.call("POST", room.url("/hand"), status=409)
    await room.host.call("POST", room.url("/hand"), status=409)
    assert await room.standing(bob) == ("speaker", True, False, False)


# Approval, microphones


async def test_approve_then_microphone_is_the_speakers_own(room: Room) -> None:
    ann = await room.listener("ann")
    await ann.ok("POST", room.url("/hand"))
    async with room.host.events(room.id) as stream:
        row = await room.host.ok("POST", room.url("/approve", ann))
        # New speakers come on stage muted.
        assert brief(row) == ("speaker", True, False, False)
        assert await room.standing(ann) == ("speaker", True, False, False)
        lowered = await stream.next("hand_lowered")
        assert payload(lowered, "user_id", "reason") == {"user_id": ann.id, "reason": "approved"}
        changed = await stream.next("role_changed")
        assert payload(changed, "space_id", "user_id", "role", "previous") == {
            "space_id": room.id,
            "user_id": ann.id,
            "role": "speaker",
            "previous": "listener",
        }

        row = await ann.ok("POST", room.url("/unmute", ann))
        assert brief(row) == ("speaker", False, False, False)
        unmuted = await stream.next("unmuted")
        assert payload(unmuted, "user_id") == {"user_id": ann.id}

        row = await room.host.ok("POST", room.url("/mute", ann))
        assert brief(row) == ("speaker", True, False, False)
        assert await room.standing(ann) == ("speaker", True, False, False)
        muted = await stream.next("muted")
        assert payload(muted, "user_id", "by") == {"user_id": ann.id, "by": room.host.id}

        # Only she can open her microphone again.
        await room.host.call("POST", room.url("/unmute", ann), status=403)
        assert await room.standing(ann) == ("speaker", True, False, False)
        await ann.ok("POST", room.url("/unmute", ann))
        assert await room.standing(ann) == ("speaker", False, False, False)
        unmuted = await stream.next("unmuted")
        assert payload(unmuted, "user_id") == {"user_id": ann.id}

        # And she can close it herself.
        row = await ann.ok("POST", room.url("/mute", ann))
        assert row["muted"] is True
        muted = await stream.next("muted")
        assert payload(muted, "user_id", "by") == {"user_id": ann.id, "by": ann.id}


async def test_muting_and_unmuting_twice_changes_nothing_more(room: Room) -> None:
    ann = await room.speaker("ann")
    async with room.host.events(room.id) as stream:
        await ann.ok("POST", room.url("/unmute", ann))
        await ann.ok("POST", room.url("/unmute", ann))
        await room.host.ok("POST", room.url("/mute", ann))
        await room.host.ok("POST", room.url("/mute", ann))
        await room.host.ok("POST", room.url("/reactions"), json=REACTION)
        await stream.next("reaction")
        kinds = [event["type"] for event in stream.seen]
        assert kinds.count("unmuted") == 1
        assert kinds.count("muted") == 1
    assert await room.standing(ann) == ("speaker", True, False, False)


async def test_a_listener_has_no_microphone(room: Room) -> None:
    ann = await room.listener("ann")
    await ann.call("POST", room.url("/unmute", ann), status=409)
    await ann.call("POST", room.url("/mute", ann), status=409)
    await room.host.call("POST", room.url("/mute", ann), status=409)
    assert await room.standing(ann) == ("listener", False, False, False)


async def test_a_cohost_mutes_a_speaker(room: Room) -> None:
    cleo = await room.cohost("cleo")
    ann = await room.speaker("ann")
    await ann.ok("POST", room.url("/unmute", ann))
    async with room.host.events(room.id) as stream:
        row = await cleo.ok("POST", room.url("/mute", ann))
        assert brief(row) == ("speaker", True, False, False)
        muted = await stream.next("muted")
        assert payload(muted, "user_id", "by") == {"user_id": ann.id, "by": cleo.id}


async def test_deny_clears_the_request(room: Room) -> None:
    ann = await room.listener("ann")
    await ann.ok("POST", room.url("/hand"))
    async with room.host.events(room.id) as stream:
        row = await room.host.ok("POST", room.url("/deny", ann))
        assert brief(row) == ("listener", False, False, False)
        lowered = await stream.next("hand_lowered")
        assert payload(lowered, "user_id", "reason") == {"user_id": ann.id, "reason": "denied"}
    assert await room.standing(ann) == ("listener", False, False, False)
    # Nothing left to approve or deny; she may ask again.
    await room.host.call("POST", room.url("/approve", ann), status=409)
    await room.host.call("POST", room.url("/deny", ann), status=409)
    await ann.ok("POST", room.url("/hand"))
    assert await room.standing(ann) == ("listener", False, True, False)


async def test_approving_someone_who_did_not_ask_is_a_conflict(room: Room) -> None:
    ann = await room.listener("ann")
    bob = await room.speaker("bob")
    await room.host.call("POST", room.url("/approve", ann), status=409)
    await room.host.call("POST", room.url("/deny", ann), status=409)
    await room.host.call("POST", room.url("/approve", bob), status=409)
    assert await room.standing(ann) == ("listener", False, False, False)
    assert await room.standing(bob) == ("speaker", True, False, False)


async def test_a_target_not_in_the_space_is_not_found(room: Room) -> None:
    outsider = await room.server.person("outsider")
    gone = await room.listener("gone")
    await gone.ok("POST", room.url("/leave"))
    for who in (outsider, gone, 2_000_000):
        for method, path in (
            ("POST", "/approve"),
            ("POST", "/deny"),
            ("POST", "/invite"),
            ("POST", "/mute"),
            ("POST", "/move-to-audience"),
            ("POST", "/remove"),
        ):
            await room.host.call(method, room.url(path, who), status=404)
        user_id = who if isinstance(who, int) else who.id
        await room.host.call("PUT", room.url(f"/cohosts/{user_id}"), status=404)
        await room.host.call("DELETE", room.url(f"/cohosts/{user_id}"), status=404)
    assert set(await room.rows()) == {room.host.id}


# Invitations


async def test_an_invited_listener_accepts(room: Room) -> None:
    ann = await room.listener("ann")
    async with room.host.events(room.id) as stream:
        row = await room.host.ok("POST", room.url("/invite", ann))
        assert brief(row) == ("listener", False, False, True)
        assert await room.standing(ann) == ("listener", False, False, True)
        invited = await stream.next("invited")
        assert payload(invited, "user_id", "by") == {"user_id": ann.id, "by": room.host.id}

        row = await ann.ok("POST", room.url("/invitation/accept"))
        assert brief(row) == ("speaker", True, False, False)
        assert await room.standing(ann) == ("speaker", True, False, False)
        answered = await stream.next("invitation_answered")
        assert payload(answered, "user_id", "accepted") == {"user_id": ann.id, "accepted": True}
        changed = await stream.next("role_changed")
        assert payload(changed, "user_id", "role", "previous") == {
            "user_id": ann.id,
            "role": "speaker",
            "previous": "listener",
        }
    # The invitation is used up.
    await ann.call("POST", room.url("/invitation/accept"), status=409)
    await room.host.call("POST", room.url("/invite", ann), status=409)


async def test_an_invited_listener_declines(room: Room) -> None:
    cleo = await room.cohost("cleo")
    bob = await room.listener("bob")
    async with room.host.events(room.id) as stream:
        await cleo.ok("POST", room.url("/invite", bob))
        invited = await stream.next("invited")
        assert payload(invited, "user_id", "by") == {"user_id": bob.id, "by": cleo.id}
        row = await bob.ok("POST", room.url("/invitation/decline"))
        assert brief(row) == ("listener", False, False, False)
        answered = await stream.next("invitation_answered")
        assert payload(answered, "user_id", "accepted") == {"user_id": bob.id, "accepted": False}
    assert await room.standing(bob) == ("listener", False, False, False)
    await bob.call("POST", room.url("/invitation/decline"), status=409)
    await bob.call("POST", room.url("/invitation/accept"), status=409)
    assert await room.standing(bob) == ("listener", False, False, False)


async def test_an_invitation_names_who_sent_it_wherever_the_invitee_reads_it(room: Room) -> None:
    """The invitee's page may never see the ``invited`` event (it followed the audience view,
    or it reloaded): their standing itself names the inviter, while the invitation is open,
    even once the inviter is gone."""
    cleo = await room.cohost("cleo")
    bob = await room.listener("bob")
    row = await cleo.ok("POST", room.url("/invite", bob))
    cleo_named = {"id": cleo.id, "handle": "cleo", "display_name": "cleo", "verified": False}
    assert row["invited_by"] == cleo_named
    assert (await room.rows())[bob.id]["invited_by"] == cleo_named
    await cleo.ok("POST", room.url("/leave"))
    assert (await bob.join(room.id))["invited_by"] == cleo_named
    assert (await bob.ok("GET", room.url()))["me"]["invited_by"] == cleo_named
    async with bob.events(room.id) as stream:
        (mine,) = [p for p in stream.snapshot["participants"] if p["user"]["id"] == bob.id]
        assert mine["invited_by"] == cleo_named
    # Answered, the invitation names nobody; the next one names its own sender.
    assert (await bob.ok("POST", room.url("/invitation/decline")))["invited_by"] is None
    assert (await room.rows())[bob.id]["invited_by"] is None
    row = await room.host.ok("POST", room.url("/invite", bob))
    assert row["invited_by"]["id"] == room.host.id
    row = await bob.ok("POST", room.url("/invitation/accept"))
    assert (row["role"], row["invited_by"]) == ("speaker", None)


# Moving people around


async def test_move_a_speaker_to_the_audience(room: Room) -> None:
    ann = await room.speaker("ann")
    await ann.ok("POST", room.url("/unmute", ann))
    async with room.host.events(room.id) as stream:
        row = await room.host.ok("POST", room.url("/move-to-audience", ann))
        assert brief(row) == ("listener", False, False, False)
        changed = await stream.next("role_changed")
        assert payload(changed, "user_id", "role", "previous") == {
            "user_id": ann.id,
            "role": "listener",
            "previous": "speaker",
        }
    assert await room.standing(ann) == ("listener", False, False, False)
    space = await room.host.ok("GET", room.url())
    assert [row["user"]["id"] for row in space["stage"]] == [room.host.id]
    await room.host.call("POST", room.url("/move-to-audience", ann), status=409)


async def test_the_host_moves_a_cohost_to_the_audience(room: Room) -> None:
    cleo = await room.cohost("cleo")
    row = await room.host.ok("POST", room.url("/move-to-audience", cleo))
    assert brief(row) == ("listener", False, False, False)
    assert await room.standing(cleo) == ("listener", False, False, False)


async def test_speakers_and_cohosts_leave_the_stage_but_not_the_host(room: Room) -> None:
    ann = await room.speaker("ann")
    cleo = await room.cohost("cleo")
    async with room.host.events(room.id) as stream:
        row = await ann.ok("POST", room.url("/stage/leave"))
        assert brief(row) == ("listener", False, False, False)
        changed = await stream.next("role_changed")
        assert payload(changed, "user_id", "role", "previous") == {
            "user_id": ann.id,
            "role": "listener",
            "previous": "speaker",
        }
        row = await cleo.ok("POST", room.url("/stage/leave"))
        assert brief(row) == ("listener", False, False, False)
        changed = await stream.next("role_changed")
        assert payload(changed, "user_id", "role", "previous") == {
            "user_id": cleo.id,
            "role": "listener",
            "previous": "cohost",
        }
    await ann.call("POST", room.url("/stage/leave"), status=409)
    await room.host.call("POST", room.url("/stage/leave"), status=409)
    await room.host.call("POST", room.url("/leave"), status=409)
    assert await room.standing(room.host) == ("host", False, False, False)
    assert await room.standing(ann) == ("listener", False, False, False)
    assert await room.standing(cleo) == ("listener", False, False, False)


# Co-hosts


async def test_appoint_cohosts_from_the_audience_and_from_the_stage(room: Room) -> None:
    ann = await room.listener("ann")
    bob = await room.speaker("bob")
    await bob.ok("POST", room.url("/unmute", bob))
    async with room.host.events(room.id) as stream:
        row = await room.host.ok("PUT", room.url(f"/cohosts/{ann.id}"))
        # Off the floor, on stage muted; from the stage, the microphone stays as it was.
        assert brief(row) == ("cohost", True, False, False)
        changed = await stream.next("role_changed")
        assert payload(changed, "user_id", "role", "previous") == {
            "user_id": ann.id,
            "role": "cohost",
            "previous": "listener",
        }
        row = await room.host.ok("PUT", room.url(f"/cohosts/{bob.id}"))
        assert brief(row) == ("cohost", False, False, False)
        changed = await stream.next("role_changed")
        assert payload(changed, "user_id", "role", "previous") == {
            "user_id": bob.id,
            "role": "cohost",
            "previous": "speaker",
        }
    assert await room.standing(ann) == ("cohost", True, False, False)
    assert await room.standing(bob) == ("cohost", False, False, False)
    # A co-host is already a co-host.
    await room.host.call("PUT", room.url(f"/cohosts/{bob.id}"), status=409)

    # A co-host moderates: approves a request to speak.
    dan = await room.listener("dan")
    await dan.ok("POST", room.url("/hand"))
    row = await ann.ok("POST", room.url("/approve", dan))
    assert brief(row) == ("speaker", True, False, False)
    assert await room.standing(dan) == ("speaker", True, False, False)


async def test_a_third_cohost_is_refused(room: Room) -> None:
    await room.cohost("cleo")
    await room.cohost("dora")
    eve = await room.listener("eve")
    fay = await room.speaker("fay")
    await room.host.call("PUT", room.url(f"/cohosts/{eve.id}"), status=409)
    await room.host.call("PUT", room.url(f"/cohosts/{fay.id}"), status=409)
    assert await room.standing(eve) == ("listener", False, False, False)
    assert await room.standing(fay) == ("speaker", True, False, False)
    roles = [row["role"] for row in (await room.rows()).values()]
    assert roles.count("cohost") == 2


async def test_a_dismissed_cohost_keeps_a_free_speaker_seat(room: Room) -> None:
    cleo = await room.cohost("cleo")
    await cleo.ok("POST", room.url("/unmute", cleo))
    async with room.host.events(room.id) as stream:
        row = await room.host.ok("DELETE", room.url(f"/cohosts/{cleo.id}"))
        assert brief(row) == ("speaker", False, False, False)
        changed = await stream.next("role_changed")
        assert payload(changed, "user_id", "role", "previous") == {
            "user_id": cleo.id,
            "role": "speaker",
            "previous": "cohost",
        }
    assert await room.standing(cleo) == ("speaker", False, False, False)
    # No longer a co-host: nothing to dismiss, and no moderating.
    await room.host.call("DELETE", room.url(f"/cohosts/{cleo.id}"), status=409)
    ann = await room.listener("ann")
    await ann.ok("POST", room.url("/hand"))
    await cleo.call("POST", room.url("/approve", ann), status=403)


# Removal


async def test_remove_ejects_and_bars(room: Room) -> None:
    ann = await room.speaker("ann")
    await room.listener("bob")
    async with room.host.events(room.id) as stream, ann.events(room.id) as hers:
        await room.host.call("POST", room.url("/remove", ann), status=204)
        left = await stream.next("participant_left")
        assert payload(left, "user_id", "reason") == {"user_id": ann.id, "reason": "removed"}
        # Her own stream hears it, then is closed on her.
        assert (await hers.next("participant_left"))["user_id"] == ann.id
        with pytest.raises(ConnectionClosed):
            await hers.next()
        assert hers.ws.close_code == 4403
    assert await room.standing(ann) is None
    space = await room.host.ok("GET", room.url())
    assert [row["user"]["id"] for row in space["stage"]] == [room.host.id]
    assert space["audience_count"] == 1  # bob: a speaker removed was not in the audience

    await ann.call("POST", room.url("/join"), status=403)
    await ann.call("POST", room.url("/hand"), status=403)
    assert await room.standing(ann) is None
    mine = await ann.ok("GET", room.url())
    assert mine["me"]["present"] is False


async def test_a_cohost_removes_a_listener(room: Room) -> None:
    cleo = await room.cohost("cleo")
    bob = await room.listener("bob")
    await bob.ok("POST", room.url("/hand"))
    await cleo.call("POST", room.url("/remove", bob), status=204)
    assert await room.standing(bob) is None
    await bob.call("POST", room.url("/join"), status=403)


# Caps


async def test_the_speaker_seats_run_out_at_ten(room: Room) -> None:
    cleo = await room.cohost("cleo")
    speakers = [await room.speaker(f"s{n}") for n in range(9)]
    invitee = await room.listener("invitee")
    await room.host.ok("POST", room.url("/invite", invitee))
    speakers.append(await room.speaker("s9"))  # the tenth seat
    roles = [row["role"] for row in (await room.rows()).values()]
    assert roles.count("speaker") == 10

    asker = await room.listener("asker")
    await asker.ok("POST", room.url("/hand"))
    await room.host.call("POST", room.url("/approve", asker), status=409)
    await cleo.call("POST", room.url("/approve", asker), status=409)
    await invitee.call("POST", room.url("/invitation/accept"), status=409)
    late = await room.listener("late")
    await room.host.call("POST", room.url("/invite", late), status=409)
    assert await room.standing(asker) == ("listener", False, True, False)
    assert await room.standing(invitee) == ("listener", False, False, True)
    assert await room.standing(late) == ("listener", False, False, False)

    # A co-host dismissed now has no speaker seat to keep.
    row = await room.host.ok("DELETE", room.url(f"/cohosts/{cleo.id}"))
    assert brief(row) == ("listener", False, False, False)

    # A seat frees up: the pending invitation can now be accepted.
    await room.host.ok("POST", room.url("/move-to-audience", speakers[0]))
    row = await invitee.ok("POST", room.url("/invitation/accept"))
    assert row["role"] == "speaker"
    await room.host.call("POST", room.url("/approve", asker), status=409)
    roles = [row["role"] for row in (await room.rows()).values()]
    assert roles.count("speaker") == 10
