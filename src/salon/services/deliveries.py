"""The outbox of pushes and e-mails: queued with the notification, sent after the commit.

A notification written in a transaction queues, in that transaction, one ``Delivery`` per
subscribed browser (Web Push) and one per confirmed address that chose its kind (e-mail).
``send_due`` sends what is due, at least once: a delivery is marked sent only after the
push service or the SMTP server took it, retried with doubling waits, and carries a stable
id (the push ``Topic``, the mail's ``Message-ID``) so a repeat replaces or is recognised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from salon.domain.notification_text import Text, render
from salon.domain.notifications import DELIVERY_ATTEMPTS, email_kinds, retry_after
from salon.metrics import DELIVERIES
from salon.services.context import Context, Tx
from salon.store.models import Delivery, Notification, PushSubscription, Space, User

log = logging.getLogger(__name__)

PUSH = "push"
EMAIL = "email"
#: How long a node holds a delivery it sends before another may try it.
CLAIM = timedelta(seconds=60)
BATCH = 20


class DeliveryFailed(Exception):
    """A send that did not go through; ``permanent`` when retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One delivery to send, with everything its channel needs."""

    delivery_id: int
    notification_id: int
    channel: str
    target: str
    kind: str
    user_id: int
    text: Text


#: A channel's sender: raises DeliveryFailed when it did not go through.
Sender = Callable[[Context, Outgoing], Awaitable[None]]


async def queue(tx: Tx, new: list[tuple[int, int]], *, kind: str, now: datetime) -> None:
    """Queue the pushes and e-mails of just-written notifications ((id, user id) pairs)."""
    settings = tx.settings
    if not new or settings is None or not (settings.web_push or settings.email_enabled):
        return
    people = {user_id for _, user_id in new}
    rows: list[dict[str, Any]] = []
    if settings.web_push:
        subscriptions: dict[int, list[int]] = {}
        for sub_id, user_id in await tx.session.execute(
            select(PushSubscription.id, PushSubscription.user_id).where(
                PushSubscription.user_id.in_(people)
            )
        ):
            subscriptions.setdefault(user_id, []).append(sub_id)
        rows += [
            _row(notification_id, PUSH, str(sub_id), now)
            for notification_id, user_id in new
            for sub_id in subscriptions.get(user_id, [])
        ]
    if settings.email_enabled:
        addresses = {
            user.id: user.email
            for user in await tx.session.scalars(
                select(User).where(User.id.in_(people), User.email_confirmed_at.is_not(None))
            )
            if user.email and kind in email_kinds(user.email_kinds)
        }
        rows += [
            _row(notification_id, EMAIL, addresses[user_id], now)
            for notification_id, user_id in new
            if user_id in addresses
        ]
    if rows:
        insert = (
            postgresql_insert
            if tx.session.get_bind().dialect.name == "postgresql"
            else sqlite_insert
        )
        await tx.session.execute(
            insert(Delivery)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["notification_id", "channel", "target"])
        )
        tx.deliveries = True


def _row(notification_id: int, channel: str, target: str, now: datetime) -> dict[str, Any]:
    return {
        "notification_id": notification_id,
        "channel": channel,
        "target": target,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_until": None,
        "sent_at": None,
        "failed_at": None,
        "last_error": None,
        "created_at": now,
    }


async def send_due(ctx: Context, senders: dict[str, Sender]) -> int:
    """Send every delivery that is due; returns how many went through."""
    sent = 0
    while batch := await _claim(ctx):
        results = await asyncio.gather(*(_send(ctx, senders, item) for item in batch))
        sent += sum(results)
    return sent


async def _claim(ctx: Context) -> list[Outgoing]:
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        due = (
            await tx.session.execute(
                select(Delivery, Notification, Space.title, User.display_name)
                .join(Notification, Notification.id == Delivery.notification_id)
                .outerjoin(Space, Space.id == Notification.space_id)
                .outerjoin(User, User.id == Notification.actor_id)
                .where(
                    Delivery.sent_at.is_(None),
                    Delivery.failed_at.is_(None),
                    Delivery.next_attempt_at <= now,
                    (Delivery.claimed_until.is_(None)) | (Delivery.claimed_until < now),
                )
                .order_by(Delivery.id)
                .limit(BATCH)
            )
        ).all()
        claimed = []
        for delivery, notification, space_title, actor in due:
            took = await tx.session.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery.id,
                    (Delivery.claimed_until.is_(None)) | (Delivery.claimed_until < now),
                )
                .values(claimed_until=now + CLAIM)
            )
            if took.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another node took it
            claimed.append(
                Outgoing(
                    delivery_id=delivery.id,
                    notification_id=notification.id,
                    channel=delivery.channel,
                    target=delivery.target,
                    kind=notification.kind,
                    user_id=notification.user_id,
                    text=render(
                        notification.kind,
                        space_id=notification.space_id,
                        space_title=space_title,
                        actor=actor,
                        count=notification.count,
                        scheduled_for=notification.scheduled_for,
                    ),
                )
            )
        return claimed


async def _send(ctx: Context, senders: dict[str, Sender], item: Outgoing) -> bool:
    sender = senders.get(item.channel)
    try:
        if sender is None:
            raise DeliveryFailed(f"{item.channel} is not turned on", permanent=True)
        await sender(ctx, item)
    except DeliveryFailed as exc:
        await _failed(ctx, item, str(exc), permanent=exc.permanent)
        return False
    except Exception as exc:
        log.exception("sending %s %d failed", item.channel, item.delivery_id)
        await _failed(ctx, item, f"{type(exc).__name__}: {exc}", permanent=False)
        return False
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        await tx.session.execute(
            update(Delivery)
            .where(Delivery.id == item.delivery_id)
            .values(sent_at=now, claimed_until=None, attempts=Delivery.attempts + 1)
        )
    DELIVERIES.labels(channel=item.channel, result="sent").inc()
    return True


async def _failed(ctx: Context, item: Outgoing, reason: str, *, permanent: bool) -> None:
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        row = await tx.session.get(Delivery, item.delivery_id, with_for_update=True)
        if row is None:
            return
        row.attempts += 1
        row.last_error = reason[:300]
        row.claimed_until = None
        if permanent or row.attempts >= DELIVERY_ATTEMPTS:
            row.failed_at = now
            DELIVERIES.labels(channel=item.channel, result="failed").inc()
        else:
            row.next_attempt_at = now + timedelta(seconds=retry_after(row.attempts))
            DELIVERIES.labels(channel=item.channel, result="retry").inc()
    log.warning("%s to %s not delivered (%s)", item.channel, item.user_id, reason)
