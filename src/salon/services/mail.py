"""E-mail: a person's address (confirmed by a link before anything else is sent), which
kinds they want mailed, one-click unsubscribe, and sending over SMTP (``aiosmtplib``)."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr

import aiosmtplib
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from salon.config import Settings
from salon.domain.errors import Invalid, NotFound, Unavailable
from salon.domain.notifications import Kind, email_kinds
from salon.services.context import Context
from salon.services.deliveries import DeliveryFailed, Outgoing
from salon.store.models import User

SMTP_POLICY = SMTP.clone(max_line_length=998)
#: A confirmation link works this long.
CONFIRM_SECONDS = 2 * 24 * 3600
TIMEOUT_SECONDS = 10.0
EMAIL_MAX = 254


def _signer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key(), salt=f"salon-email-{purpose}")


def _link(settings: Settings, path: str) -> str:
    return settings.public_url.rstrip("/") + path


def check_address(address: str) -> str:
    """A plausible address (the link we send proves it); refused with the rule named."""
    address = address.strip()
    if len(address) > EMAIL_MAX:
        raise Invalid(f"an e-mail address is at most {EMAIL_MAX} characters")
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise Invalid("that is not an e-mail address (name@example.org)")
    return address


async def set_address(ctx: Context, *, user: User, address: str | None) -> bool:
    """Set (and send a confirmation link to) or remove the person's address; returns
    whether it is confirmed (the same, already confirmed address stays so, unmailed)."""
    if not ctx.settings.email_enabled:
        raise NotFound("this instance does not send e-mail (SALON_SMTP_HOST is unset)")
    address = None if address is None else check_address(address)
    async with ctx.transaction() as tx:
        row = await tx.session.get(User, user.id)
        assert row is not None
        if row.email != address:
            row.email = address
            row.email_confirmed_at = None
        confirmed = row.email_confirmed_at is not None
    if address is not None and not confirmed:
        token = _signer(ctx.settings, "confirm").dumps({"user": user.id, "email": address})
        message = _message(
            ctx.settings,
            to=address,
            subject="Confirm your e-mail for Salon",
            body=(
                f"Hello {user.display_name},\n\nTo get Salon's notifications at this address, "
                f"open this link:\n\n{_link(ctx.settings, '/api/email/confirm?token=' + token)}"
                "\n\nIf you did not ask for this, ignore this e-mail: nothing will be sent.\n"
            ),
            message_id=f"confirm-{user.id}-{_digest(address)}-{_digest(token)}",
        )
        try:
            await _send_message(ctx.settings, message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise Unavailable(f"the confirmation e-mail could not be sent ({exc})") from exc
    return confirmed


async def confirm(ctx: Context, *, token: str) -> None:
    """The link in the confirmation e-mail: the address is confirmed if it is still theirs."""
    try:
        claim = _signer(ctx.settings, "confirm").loads(token, max_age=CONFIRM_SECONDS)
    except SignatureExpired:
        raise Invalid("this confirmation link has expired; add the address again") from None
    except BadSignature:
        raise Invalid("this confirmation link is not valid") from None
    async with ctx.transaction() as tx:
        row = await tx.session.get(User, int(claim["user"]))
        if row is None or row.email != claim["email"]:
            raise Invalid("this address is no longer the one on the account")
        if row.email_confirmed_at is None:
            row.email_confirmed_at = ctx.clock.now()


async def set_kinds(ctx: Context, *, user: User, kinds: list[str]) -> list[str]:
    """Which kinds of notification are e-mailed to this person."""
    known = {str(kind) for kind in Kind}
    unknown = sorted(set(kinds) - known)
    if unknown:
        raise Invalid(f"unknown notification kinds: {', '.join(unknown)}")
    async with ctx.transaction() as tx:
        row = await tx.session.get(User, user.id)
        assert row is not None
        row.email_kinds = sorted(set(kinds))
        return row.email_kinds


def unsubscribe_token(settings: Settings, user_id: int, kind: str) -> str:
    return _signer(settings, "unsubscribe").dumps({"user": user_id, "kind": kind})


async def unsubscribe(ctx: Context, *, token: str) -> str:
    """The unsubscribe link (RFC 8058 one-click too): that kind is mailed no more. Returns
    the kind."""
    try:
        claim = _signer(ctx.settings, "unsubscribe").loads(token)
    except BadSignature:
        raise Invalid("this unsubscribe link is not valid") from None
    async with ctx.transaction() as tx:
        row = await tx.session.get(User, int(claim["user"]))
        if row is not None:
            row.email_kinds = sorted(email_kinds(row.email_kinds) - {claim["kind"]})
    return str(claim["kind"])


def message_id(settings: Settings, item: Outgoing) -> str:
    """The same Message-ID for every attempt of one delivery: a retry after a lost answer
    is recognised as the same mail."""
    return f"<salon-n{item.notification_id}-{_digest(item.target)}@{settings.public_host}>"


async def send(ctx: Context, item: Outgoing) -> None:
    settings = ctx.settings
    unsubscribe_link = _link(
        settings,
        "/api/email/unsubscribe?token=" + unsubscribe_token(settings, item.user_id, item.kind),
    )
    message = _message(
        settings,
        to=item.target,
        subject=f"{item.text.title}: {item.text.body}"[:180],
        body=(
            f"{item.text.body}\n\n{_link(settings, item.text.path)}\n\n"
            f"-- \nStop these e-mails: {unsubscribe_link}\n"
            f"Choose what is e-mailed: {_link(settings, '/settings')}\n"
        ),
        message_id=message_id(settings, item),
    )
    message["List-Unsubscribe"] = f"<{unsubscribe_link}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    try:
        await _send_message(settings, message)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"the address was refused: {exc}", permanent=True) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"SMTP: {exc}") from exc


def _message(
    settings: Settings, *, to: str, subject: str, body: str, message_id: str
) -> EmailMessage:
    # Lines up to RFC 5322's 998: a long link in List-Unsubscribe stays one plain line.
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = settings.smtp_from or formataddr(("Salon", f"salon@{settings.public_host}"))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = (
        message_id if message_id.startswith("<") else f"<{message_id}@{settings.public_host}>"
    )
    message.set_content(body)
    return message


async def _send_message(settings: Settings, message: EmailMessage) -> None:
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        use_tls=settings.smtp_security == "tls",
        start_tls=settings.smtp_security == "starttls",
        timeout=TIMEOUT_SECONDS,
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
