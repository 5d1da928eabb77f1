"""The test provider's checkout page: TEST MODE, no money moves; Pay or Decline.

Served outside /api as plain HTML forms (same-origin POSTs, so the Origin check applies), and
left out of the API schema: it is a page for a person, not an endpoint for programs.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

from salon.api.deps import Ctx, CurrentUser
from salon.api.schemas import PurchaseId
from salon.domain.tickets import PurchaseState, format_usd
from salon.services import tickets
from salon.views import PurchaseView

router = APIRouter(prefix="/checkout/test", include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Test checkout — {title}</title>
<style>
body {{ font: 18px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 2rem auto;
  padding: 0 1rem; }}
.banner {{ background: #fde047; color: #000; border: 3px solid #000; padding: 1rem;
  font-weight: 700; font-size: 1.4rem; text-align: center; }}
button {{ font-size: 1.2rem; padding: .75rem 1.5rem; margin: .5rem .5rem 0 0; cursor: pointer; }}
</style>
</head>
<body>
<main>
<p class="banner" role="alert">TEST MODE — no real money moves</p>
<h1>Ticket: {title}</h1>
<p>Price: <strong>{price}</strong></p>
<p>Purchase <code>{purchase}</code> is <strong>{state}</strong>.</p>
{actions}
<p><a href="{back}">Back to the space</a></p>
</main>
</body>
</html>
"""

_ACTIONS = """<form method="post" action="/checkout/test/{purchase}/complete">
<button type="submit" aria-label="Pay {price} (test mode)">Pay</button>
</form>
<form method="post" action="/checkout/test/{purchase}/decline">
<button type="submit" aria-label="Decline the payment (test mode)">Decline</button>
</form>"""


def _back(purchase: PurchaseView) -> str:
    return f"/spaces/{purchase.space_id}?purchase={purchase.id}"


@router.get("/{purchase_id}", response_class=HTMLResponse)
async def page(purchase_id: PurchaseId, ctx: Ctx, user: CurrentUser) -> HTMLResponse:
    """The buyer's test checkout: the space, the price, Pay and Decline."""
    purchase, title = await tickets.testmode_checkout(ctx, actor=user, purchase_id=purchase_id)
    price = format_usd(purchase.amount_cents)
    actions = (
        _ACTIONS.format(purchase=escape(purchase.id), price=price)
        if purchase.state == PurchaseState.HELD
        else ""
    )
    return HTMLResponse(
        _PAGE.format(
            title=escape(title),
            price=price,
            purchase=escape(purchase.id),
            state=escape(purchase.state.replace("_", " ")),
            actions=actions,
            back=escape(_back(purchase)),
        ),
        headers={"Cache-Control": "no-store"},
    )


@router.post("/{purchase_id}/complete")
async def complete(purchase_id: PurchaseId, ctx: Ctx, user: CurrentUser) -> RedirectResponse:
    """Pay (in test mode): a ticket is issued, exactly once however often this is sent."""
    purchase = await tickets.finish_testmode_checkout(
        ctx, actor=user, purchase_id=purchase_id, paid=True
    )
    return RedirectResponse(_back(purchase), status_code=303)


@router.post("/{purchase_id}/decline")
async def decline(purchase_id: PurchaseId, ctx: Ctx, user: CurrentUser) -> RedirectResponse:
    """Decline (in test mode): the held seat is freed."""
    purchase = await tickets.finish_testmode_checkout(
        ctx, actor=user, purchase_id=purchase_id, paid=False
    )
    return RedirectResponse(_back(purchase), status_code=303)
