"""Schemathesis hooks for the stateful run (test_schemathesis_follows_every_link).

A host has at most one live and one scheduled space, so after the fuzzer's first space every
``POST /api/spaces`` would answer 409 and the links from a new space (start, join, hand)
would be followed once at most. Each space the run creates is closed right away (ended, or
cancelled if scheduled): the next one can be created, and its links followed (against a
closed space they answer 409, as documented).
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis

import tests.schemathesis_hooks  # noqa: F401  (the shared hooks: SDP bodies as text)


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    if case.method.upper() != "POST" or case.path != "/api/spaces" or response.status_code != 201:
        return
    space_id = response.json()["id"]
    headers = {"Authorization": f"Bearer {os.environ['SALON_FUZZ_TOKEN']}"}
    base = os.environ["SALON_FUZZ_URL"]
    with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        if http.post(f"/api/spaces/{space_id}/end").status_code == 409:
            http.post(f"/api/spaces/{space_id}/cancel")
