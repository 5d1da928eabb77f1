"""Routes for the ways notifications leave the app: Web Push subscriptions, and e-mail
(the address, its confirmation link, the kinds mailed, the unsubscribe link)."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel

from salon.api.deps import Ctx, CurrentUser
from salon.api.problems import COMMON_PROBLEMS
from salon.api.schemas import EmailIn, EmailKindsIn, PushSubscriptionIn
from salon.domain.notifications import email_kinds
from salon.services import mail, push

router = APIRouter(prefix="/api", tags=["notifications"], responses=COMMON_PROBLEMS)

Token = Annotated[str, Query(min_length=10, max_length=500, pattern=r"^[A-Za-z0-9_.-]+$")]
Endpoint = Annotated[str, Query(min_length=8, max_length=1000, pattern=r"^https?://")]


class PushKey(BaseModel):
    public_key: str


class EmailSettings(BaseModel):
    #: Whether this instance sends e-mail at all (SALON_SMTP_HOST).
    enabled: bool
    email: str | None
    confirmed: bool
    kinds: list[str]


@router.get("/push/key")
async def push_key(ctx: Ctx) -> PushKey:
    """The key a browser subscribes with (``applicationServerKey``); 404 when this instance
    sends no pushes."""
    return PushKey(public_key=await push.public_key(ctx))


@router.post("/me/push-subscriptions", status_code=status.HTTP_204_NO_CONTENT)
async def add_push_subscription(body: PushSubscriptionIn, ctx: Ctx, user: CurrentUser) -> None:
    """Send this browser pushes (its ``PushSubscription.toJSON()``)."""
    await push.subscribe(
        ctx, user=user, endpoint=body.endpoint, p256dh=body.keys.p256dh, auth=body.keys.auth
    )


@router.delete("/me/push-subscriptions", status_code=status.HTTP_204_NO_CONTENT)
async def remove_push_subscription(endpoint: Endpoint, ctx: Ctx, user: CurrentUser) -> None:
    await push.unsubscribe(ctx, user=user, endpoint=endpoint)


@router.get("/me/email")
async def get_email(ctx: Ctx, user: CurrentUser) -> EmailSettings:
    return _email_settings(ctx, user.email, user.email_confirmed_at is not None, user.email_kinds)


@router.put("/me/email")
async def set_email(body: EmailIn, ctx: Ctx, user: CurrentUser) -> EmailSettings:
    """Set the address (a confirmation link is sent to it; nothing else is until it is
    opened) or remove it (null)."""
    confirmed = await mail.set_address(ctx, user=user, address=body.email)
    address = None if body.email is None else mail.check_address(body.email)
    return _email_settings(ctx, address, confirmed, user.email_kinds)


@router.put("/me/email/kinds")
async def set_email_kinds(body: EmailKindsIn, ctx: Ctx, user: CurrentUser) -> EmailSettings:
    kinds = await mail.set_kinds(ctx, user=user, kinds=body.kinds)
    return _email_settings(ctx, user.email, user.email_confirmed_at is not None, kinds)


@router.get("/email/confirm", response_class=RedirectResponse, status_code=303)
async def confirm_email(token: Token, ctx: Ctx) -> RedirectResponse:
    """The link in the confirmation e-mail: confirms, then opens Settings."""
    await mail.confirm(ctx, token=token)
    return RedirectResponse("/settings?email=confirmed", status_code=303)


@router.get("/email/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_page(token: Token) -> HTMLResponse:
    """The unsubscribe link opens a page with one button (a link alone changes nothing:
    mail scanners follow links)."""
    return HTMLResponse(
        _page(
            "Stop these e-mails?",
            '<form method="post"><button type="submit">Unsubscribe</button></form>',
        )
    )


@router.post("/email/unsubscribe", response_class=HTMLResponse)
async def unsubscribe(token: Token, ctx: Ctx) -> HTMLResponse:
    """Unsubscribe from the kind the link was for (also RFC 8058 one-click)."""
    kind = await mail.unsubscribe(ctx, token=token)
    return HTMLResponse(
        _page(
            "Unsubscribed",
            f"<p>You will no longer get “{html.escape(kind.replace('_', ' '))}” e-mails. "
            'Choose others in <a href="/settings">Settings</a>.</p>',
        )
    )


def _email_settings(
    ctx: Ctx, address: str | None, confirmed: bool, chosen: list[str] | None
) -> EmailSettings:
    return EmailSettings(
        enabled=ctx.settings.email_enabled,
        email=address,
        confirmed=confirmed,
        kinds=sorted(email_kinds(chosen)),
    )


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Salon</title>"
        '<body style="font-family: system-ui, sans-serif; max-width: 30rem; margin: 3rem auto;'
        ' padding: 0 1rem"><h1>'
        f"{html.escape(title)}</h1>{body}</body></html>"
    )
