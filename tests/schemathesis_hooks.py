"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by test_schemathesis)."""

from __future__ import annotations

from typing import Any

import schemathesis

# WHIP/WHEP offers are SDP text: send generated strings as they are.
schemathesis.serializer.alias("application/sdp", "text/plain")
# Trickle ICE fragments (RFC 8840) are SDP lines too.
schemathesis.serializer.alias("application/trickle-ice-sdpfrag", "text/plain")

#: The bell's long-poll waits up to ``timeout`` seconds (25 by default) for news the fuzzer
#: never makes: ask it not to wait, in every phase, unless the value itself is what a case is
#: about (out of range, not a number).
WAIT_PATH = "/api/me/notifications/wait"


@schemathesis.hook
def before_call(ctx: schemathesis.HookContext, case: Any, kwargs: dict[str, Any]) -> None:
    if case.operation.path != WAIT_PATH:
        return
    query = case.query if isinstance(case.query, dict) else {}
    timeout = query.get("timeout")
    if (
        timeout is None
        or (isinstance(timeout, int | float) and 0 < timeout <= 30)
        or (
            isinstance(timeout, str)
            and timeout.replace(".", "", 1).isdigit()
            and float(timeout) <= 30
        )
    ):
        case.query = {**query, "timeout": 0}
