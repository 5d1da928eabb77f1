"""OpenAPI links (3.0, "Link Object"): how one operation's answer feeds the next, so clients
and stateful testers (Schemathesis) can follow a space from creation to its stage, a token to
its revocation, a purchase to its reading."""

from __future__ import annotations

from typing import Any


def link(path: str, method: str, description: str, **parameters: str) -> dict[str, Any]:
    """A link to the operation at ``path`` (as the schema spells it) and ``method``, with each
    of its parameters taken from a runtime expression (``$response.body#/id``, ...)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {
        "operationRef": f"#/paths/{pointer}/{method.lower()}",
        "description": description,
        "parameters": parameters,
    }


def links(status: int, description: str, **named: dict[str, Any]) -> dict[int | str, Any]:
    """``responses=`` for a route: the answer ``status`` with these links."""
    return {status: {"description": description, "links": named}}


SPACE = "$response.body#/id"

_SPACE_ACTIONS = {
    "StartSpace": link(
        "/api/spaces/{space_id}/start", "post", "Start a scheduled space", space_id=SPACE
    ),
    "JoinSpace": link("/api/spaces/{space_id}/join", "post", "Enter the space", space_id=SPACE),
    "RaiseHand": link("/api/spaces/{space_id}/hand", "post", "Ask to speak", space_id=SPACE),
}
#: A new space: read it, start it, join it, ask to speak in it.
NEW_SPACE_LINKS = links(
    201,
    "The space",
    GetSpace=link("/api/spaces/{space_id}", "get", "Read the space", space_id=SPACE),
    **_SPACE_ACTIONS,
)
#: A space read: the same actions.
SPACE_LINKS = links(200, "The space", **_SPACE_ACTIONS)

HAND_LINKS = links(
    200,
    "The person, hand raised",
    ApproveSpeaker=link(
        "/api/spaces/{space_id}/participants/{user_id}/approve",
        "post",
        "A host or co-host brings them on stage",
        space_id="$request.path.space_id",
        user_id="$response.body#/user/id",
    ),
)

TOKEN_LINKS = links(
    201,
    "The new token (its secret shown only now)",
    RevokeToken=link(
        "/api/me/tokens/{token_id}", "delete", "Revoke it", token_id="$response.body#/id"
    ),
)

_READ_PURCHASE = link(
    "/api/purchases/{purchase_id}", "get", "How it went", purchase_id="$response.body#/id"
)
#: A purchase (new, 201, or the one already in progress, 200): read how it went.
PURCHASE_LINKS = {
    **links(201, "The purchase, its seat held", ReadPurchase=_READ_PURCHASE),
    **links(200, "Your purchase already in progress", ReadPurchase=_READ_PURCHASE),
}
