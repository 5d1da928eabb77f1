"""What a notification says outside the web app (a push, an e-mail): title, line and link.

The web app words its bell itself; these are for channels that carry finished text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from salon.domain.notifications import Kind


@dataclass(frozen=True, slots=True)
class Text:
    title: str
    body: str
    #: Path on the instance (``/spaces/abc``), joined to the public URL by the sender.
    path: str


def render(
    kind: str,
    *,
    space_id: str | None,
    space_title: str | None,
    actor: str | None,
    count: int | None,
    scheduled_for: datetime | None,
) -> Text:
    """The words for one notification; an unknown kind gets a plain line, never an error."""
    title = f"“{space_title}”" if space_title else "a space"
    who = actor or "Someone"
    path = f"/spaces/{space_id}" if space_id else "/"
    when = scheduled_for.strftime("%a %d %b %Y, %H:%M UTC") if scheduled_for else "a new time"
    lines: dict[str, tuple[str, str]] = {
        Kind.SPACE_STARTED: ("Live now", f"{title}, which you asked to be reminded of, is live."),
        Kind.SPACE_CANCELLED: ("Cancelled", f"{title} was cancelled."),
        Kind.SPACE_RESCHEDULED: ("Moved", f"{title} moved to {when}."),
        Kind.HOST_LIVE: (f"{who} is live", f"{who} started {title}."),
        Kind.INVITED_TO_SPEAK: ("Invited to speak", f"{who} invited you to speak in {title}."),
        Kind.TICKET_BOUGHT: ("Your ticket", f"You have a ticket to {title}."),
        Kind.TICKET_REFUNDED: ("Refunded", f"Your ticket to {title} was refunded."),
        Kind.TICKET_SPACE_CANCELLED: (
            "Cancelled",
            f"{title} was cancelled; your ticket is refunded.",
        ),
        Kind.TICKETS_SOLD: (
            "Tickets sold",
            f"{count or 1} ticket{'' if count == 1 else 's'} sold for {title}.",
        ),
    }
    heading, line = lines.get(kind, ("Salon", f"News about {title}."))
    return Text(title=heading, body=line, path=path)
