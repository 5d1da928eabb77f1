from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Media does not touch the database beyond admission checks: SQLite is enough here."""
    value: str = request.param
    return value
