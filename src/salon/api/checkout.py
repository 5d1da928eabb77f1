"""The test provider's checkout page: TEST MODE, no money moves; Pay or Decline.

Served outside /api as plain HTML forms (same-origin POSTs, so the Origin check applies), and
left out of the API schema: it is a page for a person, not an endpoint for programs.
"""

from __future__ import annotations

from base64 import b64encode
from hashlib import sha256
from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

from salon.api.deps import Ctx, CurrentUser
from salon.api.schemas import PurchaseId
from salon.domain.tickets import PurchaseState, format_usd
from salon.services import tickets
from salon.views import PurchaseView

router = APIRouter(prefix="/checkout/test", include_in_schema=False)

#: The app's look (web/src/styles.css: its palette, surfaces and pill buttons), for a page
#: the web app does not render. Inline, and allowed by its hash only (see _CSP).
_STYLE = """
:root { color-scheme: dark light; --bg: #0f1117; --surface: #181b24; --border: #2c3140;
  --text: #eceef4; --muted: #9aa1b2; --accent: #7c5cff; --accent-text: #fff;
  --danger: #ff5c5c; --warn: #f5b84a; --radius: 12px; }
@media (prefers-color-scheme: light) {
  :root { --bg: #f6f7fb; --surface: #fff; --border: #dcdfe8; --text: #161925;
    --muted: #5b6275; --accent: #5b3df5; }
}
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.brand { display: block; max-width: 30rem; margin: 0 auto; padding: 1rem;
  font-weight: 800; font-size: 1.15rem; color: var(--text); text-decoration: none; }
.brand span { color: var(--accent); }
main { max-width: 30rem; margin: 0 auto 3rem; padding: 1.5rem; background: var(--surface);
  border: 1px solid var(--border); border-radius: var(--radius);
  box-shadow: 0 6px 24px rgba(0, 0, 0, 0.25); }
.banner { margin: 0 0 1rem; padding: 0.6rem 1rem; border-radius: 999px; text-align: center;
  background: var(--warn); color: #1a1300; font-weight: 800; letter-spacing: 0.03em; }
h1 { font-size: 1.35rem; margin: 0 0 0.75rem; overflow-wrap: anywhere; }
.price { font-size: 2rem; font-weight: 800; margin: 0.25rem 0; }
.muted { color: var(--muted); font-size: 0.9rem; }
.actions { display: flex; gap: 0.6rem; flex-wrap: wrap; margin: 1.25rem 0 0.5rem; }
form { margin: 0; }
button { font: inherit; font-weight: 700; cursor: pointer; border-radius: 999px;
  padding: 0.6rem 1.4rem; border: 1px solid var(--border); background: var(--bg);
  color: var(--text); }
button.pay { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button:focus-visible, a:focus-visible { outline: 3px solid #ffd166; outline-offset: 2px; }
a { color: var(--accent); }
"""

#: Nothing but this page's own style and same-origin form posts: no script at all.
_CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{b64encode(sha256(_STYLE.encode()).digest()).decode()}'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Test checkout — {title}</title>
<style>{style}</style>
</head>
<body>
<a class="brand" href="/"><span aria-hidden="true">◉</span> Salon</a>
<main>
<p class="banner" role="alert">TEST MODE — no real money moves</p>
<h1>Ticket: {title}</h1>
<p class="price">{price}</p>
<p class="muted">Purchase <code>{purchase}</code> is <strong>{state}</strong>.</p>
{actions}
<p><a href="{back}">Back to the space</a></p>
</main>
</body>
</html>
"""

_ACTIONS = """<div class="actions">
<form method="post" action="/checkout/test/{purchase}/complete">
<button type="submit" class="pay" aria-label="Pay {price} (test mode)">Pay {price}</button>
</form>
<form method="post" action="/checkout/test/{purchase}/decline">
<button type="submit" aria-label="Decline the payment (test mode)">Decline</button>
</form>
</div>"""


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
            style=_STYLE,
            title=escape(title),
            price=price,
            purchase=escape(purchase.id),
            state=escape(purchase.state.replace("_", " ")),
            actions=actions,
            back=escape(_back(purchase)),
        ),
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": _CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
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
