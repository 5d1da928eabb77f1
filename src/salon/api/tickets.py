"""Routes for ticketed spaces: buying, one's purchases and tickets, the host's statement, and
the payment provider's webhook."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from salon.api.deps import Ctx, CurrentUser
from salon.api.links import PURCHASE_LINKS
from salon.api.problems import COMMON_PROBLEMS, problem_responses
from salon.api.schemas import PurchaseId, SpaceId
from salon.domain.errors import NotFound, TooLarge
from salon.services import payments, tickets
from salon.views import Eligibility, MyTicket, PurchaseView, TicketStatement, View

router = APIRouter(prefix="/api", tags=["tickets"], responses=COMMON_PROBLEMS)

MAX_WEBHOOK_BYTES = 1024 * 1024


@router.post(
    "/spaces/{space_id}/tickets",
    status_code=status.HTTP_201_CREATED,
    responses={
        **PURCHASE_LINKS,
        200: {**PURCHASE_LINKS[200], "model": PurchaseView},
        **problem_responses(503),
    },
)
async def buy_ticket(
    space_id: SpaceId, request: Request, response: Response, ctx: Ctx, user: CurrentUser
) -> PurchaseView:
    """Buy a ticket: holds a seat and returns the ``checkout_url`` to send the browser to.

    The seat is held for ``SALON_TICKET_HOLD_SECONDS``; the checkout comes back to
    ``/spaces/{id}?purchase={purchase_id}``, where ``GET /api/purchases/{id}`` tells how it
    went. 409 when sold out, over, already yours, or your own space.
    """
    view, created = await tickets.buy(
        ctx, actor=user, space_id=space_id, base_url=str(request.base_url)
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return view


@router.get("/purchases/{purchase_id}")
async def get_purchase(purchase_id: PurchaseId, ctx: Ctx, user: CurrentUser) -> PurchaseView:
    """One of your purchases (only its buyer sees it)."""
    return await tickets.get_purchase(ctx, actor=user, purchase_id=purchase_id)


@router.get("/me/tickets")
async def my_tickets(ctx: Ctx, user: CurrentUser) -> list[MyTicket]:
    """The tickets you hold, newest first."""
    return await tickets.my_tickets(ctx, user=user)


@router.get("/me/ticket-eligibility")
async def ticket_eligibility(ctx: Ctx, user: CurrentUser) -> Eligibility:
    """Whether you may sell tickets, and what is missing if not."""
    return await tickets.eligibility(ctx, user=user)


@router.get("/me/ticket-statement")
async def ticket_statement(ctx: Ctx, user: CurrentUser) -> TicketStatement:
    """Your ticket sales per space and in total: sold, gross, refunds, fees, net (USD cents)."""
    return await tickets.statement(ctx, user=user)


class WebhookReceipt(View):
    received: bool
    #: The event had been received before; it changed nothing this time.
    duplicate: bool


@router.post(
    "/payments/stripe/webhook",
    tags=["payments"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def stripe_webhook(request: Request, ctx: Ctx) -> WebhookReceipt:
    """Stripe's events (signed with ``Stripe-Signature``); each event acts at most once."""
    if ctx.payments.name != "stripe":
        raise NotFound("Stripe payments are not enabled on this instance")
    payload = await request.body()
    if len(payload) > MAX_WEBHOOK_BYTES:
        raise TooLarge(f"a webhook body is at most {MAX_WEBHOOK_BYTES} bytes")
    event = ctx.payments.parse_webhook(payload, request.headers)
    applied = await payments.apply_event(ctx, event)
    return WebhookReceipt(received=True, duplicate=not applied)
