"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by test_schemathesis)."""

from __future__ import annotations

import schemathesis

# WHIP offers are SDP text: send generated strings as they are.
schemathesis.serializer.alias("application/sdp", "text/plain")
