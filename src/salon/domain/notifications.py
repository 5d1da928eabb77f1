"""What people are told, and who is told what when a space goes live, is cancelled or moves.

Pure rules: the kinds, the key that makes each notification exactly-once per person, and the
audiences a fan-out walks, in order. ``services/notifications.py`` does the writing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class Kind(StrEnum):
    #: A space you set a reminder on went live / was cancelled / moved.
    SPACE_STARTED = "space_started"
    SPACE_CANCELLED = "space_cancelled"
    SPACE_RESCHEDULED = "space_rescheduled"
    #: Someone you follow went live.
    HOST_LIVE = "host_live"
    INVITED_TO_SPEAK = "invited_to_speak"
    #: The buyer's own purchase, refund, and a cancelled space they hold a ticket to.
    TICKET_BOUGHT = "ticket_bought"
    TICKET_REFUNDED = "ticket_refunded"
    TICKET_SPACE_CANCELLED = "ticket_space_cancelled"
    #: The host's sales of one space, grouped while unread.
    TICKETS_SOLD = "tickets_sold"


class Audience(StrEnum):
    """Whom a fan-out tells, one group after another."""

    TICKET_HOLDERS = "ticket_holders"
    REMINDED = "reminded"
    FOLLOWERS = "followers"


class Fanout(StrEnum):
    """Why a fan-out was committed: one row per change, however large the audience."""

    LIVE = "live"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"


#: Each fan-out's audiences, in order, and what each is told. People in two audiences are told
#: once (the notifications share a key), by the first: a ticket holder with a reminder hears
#: about the ticket, a follower with a reminder about the reminder.
AUDIENCES: dict[Fanout, tuple[tuple[Audience, Kind], ...]] = {
    Fanout.LIVE: ((Audience.REMINDED, Kind.SPACE_STARTED), (Audience.FOLLOWERS, Kind.HOST_LIVE)),
    Fanout.CANCELLED: (
        (Audience.TICKET_HOLDERS, Kind.TICKET_SPACE_CANCELLED),
        (Audience.REMINDED, Kind.SPACE_CANCELLED),
    ),
    Fanout.RESCHEDULED: ((Audience.REMINDED, Kind.SPACE_RESCHEDULED),),
}

#: The bell keeps a notification this long.
KEEP = timedelta(days=30)
#: People told per transaction in a fan-out: no lock is held across batches.
FANOUT_BATCH = 500


def fanout_key(fanout: Fanout, space_id: str, scheduled_for: datetime | None = None) -> str:
    """The key every notification of one fan-out shares (unique per person)."""
    if fanout is Fanout.RESCHEDULED:
        assert scheduled_for is not None
        return f"{fanout}:{space_id}:{scheduled_for.isoformat()}"
    return f"{fanout}:{space_id}"
