"""How Salon's processes run uvicorn: the same options for ``salon serve``, the origin inside
``salon edge`` and the tests' servers."""

from __future__ import annotations

from typing import Any

from salon.api.hls_protocol import HotPathProtocol
from salon.config import Settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` (and ``uvicorn.run``) besides app and address."""
    return {
        "log_config": None,
        # Client addresses from X-Forwarded-For, from the proxies the operator trusts only.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.trusted_proxies,
        # HTTP/1.1 through httptools, with the live LL-HLS hot path answered in it.
        "http": HotPathProtocol,
        "ws": "websockets-sansio",
        "ws_ping_interval": 20,
    }
