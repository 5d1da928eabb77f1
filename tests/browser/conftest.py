from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Playwright, async_playwright

from tests.browser.chromium import Screenshots


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The browser suite tests the client; the database backends are covered by integration/."""
    value: str = request.param
    return value


@pytest.fixture
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as running:
        yield running


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(request.node.name)
