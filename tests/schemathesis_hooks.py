"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by test_schemathesis)."""

from __future__ import annotations

import schemathesis

# WHIP offers are SDP text: send generated strings as they are.
schemathesis.serializer.alias("application/sdp", "text/plain")

#: The bell's long-poll waits up to ``timeout`` seconds (25 by default) for news the fuzzer
#: never makes: ask it not to wait, unless the value itself is what a case is about.
WAIT_PATH = "/api/me/notifications/wait"


@schemathesis.hook
def map_query(ctx: schemathesis.HookContext, query: dict[str, object] | None) -> object:
    operation = getattr(ctx, "operation", None)
    if operation is None or operation.path != WAIT_PATH:
        return query
    query = dict(query or {})
    timeout = query.get("timeout")
    if timeout is None or (isinstance(timeout, int | float) and 0 < timeout <= 30):
        query["timeout"] = 0
    return query
