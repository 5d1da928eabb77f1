"""The API's interactive docs at /docs: Swagger UI from this package, never from a CDN.

FastAPI's own /docs page loads Swagger UI from a public CDN, so without internet it is blank.
Here the page loads the copies the web build ships (web/vite.config.ts copies them from the
pinned swagger-ui-dist, content-hashed under assets/, and names them in swagger-ui.json); the
web app's route serves those files like its own. ReDoc (/redoc) is not offered.

The page's one inline script (Swagger UI's start-up) is allowed by its SHA-256 in the page's
own Content-Security-Policy: no other inline script, nothing from another origin.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from salon.api.problems import problem
from salon.api.webapp import WEB_DIR

DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
#: Written by the web build: Swagger UI's file names under the build folder.
ASSETS_MANIFEST = "swagger-ui.json"

#: Salon's mark, as the web app's index.html has it.
FAVICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
    "%3Ccircle cx='8' cy='8' r='7' fill='%237c5cff'/%3E"
    "%3Ccircle cx='8' cy='8' r='3' fill='white'/%3E%3C/svg%3E"
)

#: Swagger UI sends the schema's address to a public validator for a badge unless told not to.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

router = APIRouter(include_in_schema=False)


class NotBuilt(Exception):
    """The web build, or Swagger UI in it, is missing."""


def swagger_ui_assets(web_dir: Path) -> dict[str, str]:
    """Swagger UI's script and style sheet, as paths under the build folder."""
    try:
        names = json.loads((web_dir / ASSETS_MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise NotBuilt(str(exc)) from exc
    wanted = ("swagger-ui-bundle.js", "swagger-ui.css")
    if not isinstance(names, dict) or not all(isinstance(names.get(k), str) for k in wanted):
        raise NotBuilt(f"{ASSETS_MANIFEST} does not name {', '.join(wanted)}")
    assets = {key: str(names[key]) for key in wanted}
    for path in assets.values():
        if not path.startswith("assets/") or not (web_dir / path).is_file():
            raise NotBuilt(f"{path} is not in the build")
    return assets


def content_security_policy(html: str) -> str:
    """A policy for one docs page: its own inline scripts by hash, everything else same-origin."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    )


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    html = bytes(page.body).decode()
    page.headers["Content-Security-Policy"] = content_security_policy(html)
    page.headers["X-Content-Type-Options"] = "nosniff"
    page.headers["Referrer-Policy"] = "same-origin"
    page.headers["Cache-Control"] = "no-cache"
    return page


def swagger_ui(openapi_url: str, *, root_path: str = "", web_dir: Path = WEB_DIR) -> Response:
    try:
        assets = swagger_ui_assets(web_dir)
    except NotBuilt:
        return problem(
            503,
            "Service Unavailable",
            "the API docs use Swagger UI from the web build, which is missing: run `make run`, "
            "or `npm --prefix web ci` and `npm --prefix web run build`; the API and its schema "
            f"at {openapi_url} work without it",
        )
    page = get_swagger_ui_html(
        openapi_url=root_path + openapi_url,
        title="Salon API",
        swagger_js_url=f"{root_path}/{assets['swagger-ui-bundle.js']}",
        swagger_css_url=f"{root_path}/{assets['swagger-ui.css']}",
        swagger_favicon_url=FAVICON,
        oauth2_redirect_url=root_path + OAUTH2_REDIRECT_PATH,
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    )
    return _with_policy(page)


def _root_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get(DOCS_PATH)
async def docs(request: Request) -> Response:
    return swagger_ui(request.app.openapi_url, root_path=_root_path(request))


@router.get(OAUTH2_REDIRECT_PATH)
async def oauth2_redirect() -> Response:
    return _with_policy(get_swagger_ui_oauth2_redirect_html())
