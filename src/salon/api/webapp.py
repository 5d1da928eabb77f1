"""The web app: the built client (web/ → src/salon/web/) served at "/", routed in the browser.

Any path that is not the API, a file of the build, or another server route answers with the
app's index.html, so links such as /spaces/abc open the right page directly. Built files are
named by content hash under assets/, so they are cached for good; index.html never is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from salon.api.problems import allowed_methods, method_not_allowed, problem

#: Where `npm run build` writes the client (see web/vite.config.ts).
WEB_DIR = Path(__file__).resolve().parent.parent / "web"

_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"

#: hls.js feeds MediaSource from blob: URLs and may run a blob: worker; the event stream is a
#: WebSocket to this same host. Nothing else is loaded from anywhere.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

router = APIRouter(include_in_schema=False)


def _built_file(web_dir: Path, path: str) -> Path | None:
    """The build's own file at `path`, never anything outside the build folder."""
    if not path:
        return None
    candidate = (web_dir / path).resolve()
    if not candidate.is_relative_to(web_dir.resolve()) or not candidate.is_file():
        return None
    return candidate


def serve(path: str, web_dir: Path = WEB_DIR, app: Any = None) -> Response:
    if path == "api" or path.startswith("api/"):
        # A GET to an API path that answers other methods (a POST-only action): 405, not 404.
        if app is not None and allowed_methods(app, f"/{path}"):
            return method_not_allowed(app, "GET", f"/{path}")
        return problem(404, "Not Found", f"no API endpoint at /{path}")
    found = _built_file(web_dir, path)
    if found is not None:
        cache = _IMMUTABLE if path.startswith("assets/") else _REVALIDATE
        return FileResponse(found, headers={**_HEADERS, "Cache-Control": cache})
    index = web_dir / "index.html"
    if not index.is_file():
        return problem(
            503,
            "Service Unavailable",
            "the web app is not built: run `make run`, or `npm --prefix web ci` and "
            "`npm --prefix web run build`; the API works without it",
        )
    return FileResponse(index, headers={**_HEADERS, "Cache-Control": _REVALIDATE})


@router.get("/{path:path}")
async def web_app(path: str, request: Request) -> Response:
    return serve(path, app=request.app)
