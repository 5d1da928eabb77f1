"""Web Push: the instance's VAPID key (kept in the database), browsers' subscriptions, and
sending one notification to one browser (``pywebpush``: RFC 8291 encryption, RFC 8292
VAPID, over RFC 8030)."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select

from salon.domain.errors import Invalid, NotFound
from salon.services.context import Context
from salon.services.deliveries import DeliveryFailed, Outgoing
from salon.store.models import InstanceKey, PushSubscription, User

VAPID = "vapid"
#: How long a push service keeps a message for a browser that is offline.
TTL_SECONDS = 24 * 3600
TIMEOUT_SECONDS = 10.0


async def vapid_key(ctx: Context) -> Vapid02:
    """The instance's VAPID key: made once, by whichever node asks first, and kept in the
    database so every node signs with it (never in a node's var/ folder)."""
    async with ctx.transaction() as tx:
        row = await tx.session.get(InstanceKey, VAPID)
        if row is None:
            key = Vapid02()
            key.generate_keys()
            tx.session.add(
                InstanceKey(
                    name=VAPID,
                    private_key=key.private_pem().decode(),
                    public_key=_application_server_key(key),
                    created_at=ctx.clock.now(),
                )
            )
            await tx.session.flush()  # two nodes racing: the loser's commit is a 409, retried
            return key
        return Vapid02.from_pem(row.private_key.encode())


async def public_key(ctx: Context) -> str:
    """The key browsers subscribe with (``applicationServerKey``), base64url."""
    if not ctx.settings.web_push:
        raise NotFound("this instance does not send Web Push (SALON_WEB_PUSH is off)")
    return _application_server_key(await vapid_key(ctx))


def _application_server_key(key: Vapid02) -> str:
    raw = key.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def subscribe(ctx: Context, *, user: User, endpoint: str, p256dh: str, auth: str) -> None:
    """Remember one browser's subscription for ``user`` (again: it moves to them)."""
    if not ctx.settings.web_push:
        raise NotFound("this instance does not send Web Push (SALON_WEB_PUSH is off)")
    if urlsplit(endpoint).scheme not in ("https", "http"):
        raise Invalid("a push endpoint is an http(s) URL")
    async with ctx.transaction() as tx:
        existing = (
            await tx.session.execute(
                select(PushSubscription).where(PushSubscription.endpoint == endpoint)
            )
        ).scalar_one_or_none()
        if existing is not None:
            existing.user_id, existing.p256dh, existing.auth = user.id, p256dh, auth
            return
        tx.session.add(
            PushSubscription(
                user_id=user.id,
                endpoint=endpoint,
                p256dh=p256dh,
                auth=auth,
                created_at=ctx.clock.now(),
            )
        )


async def unsubscribe(ctx: Context, *, user: User, endpoint: str) -> None:
    async with ctx.transaction() as tx:
        gone = await tx.session.execute(
            delete(PushSubscription).where(
                PushSubscription.endpoint == endpoint, PushSubscription.user_id == user.id
            )
        )
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise NotFound("no such push subscription of yours")


def topic(notification_id: int) -> str:
    """RFC 8030 Topic: a repeat of the same notification replaces the undelivered one."""
    return f"salon-n{notification_id}"


async def send(ctx: Context, item: Outgoing) -> None:
    """Push ``item`` to its browser; a subscription the push service no longer knows is
    forgotten (permanent failure)."""
    async with ctx.transaction() as tx:
        subscription = await tx.session.get(PushSubscription, int(item.target))
    if subscription is None:
        raise DeliveryFailed("the browser unsubscribed", permanent=True)
    key = await vapid_key(ctx)
    payload = json.dumps(
        {
            "id": item.notification_id,
            "kind": item.kind,
            "title": item.text.title,
            "body": item.text.body,
            "url": ctx.settings.public_url.rstrip("/") + item.text.path,
        }
    )
    contact = ctx.settings.push_contact or f"mailto:salon@{ctx.settings.public_host}"
    try:
        await asyncio.to_thread(
            webpush,
            {
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            payload,
            vapid_private_key=key,
            vapid_claims={"sub": contact},
            ttl=TTL_SECONDS,
            timeout=TIMEOUT_SECONDS,
            headers={"Topic": topic(item.notification_id), "Urgency": "normal"},
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            async with ctx.transaction() as tx:
                await tx.session.execute(
                    delete(PushSubscription).where(PushSubscription.id == subscription.id)
                )
            raise DeliveryFailed(
                f"the push service forgot the browser ({status})", permanent=True
            ) from exc
        raise DeliveryFailed(f"push service answered {status}: {exc}") from exc
    except OSError as exc:
        raise DeliveryFailed(f"push service unreachable: {exc}") from exc
