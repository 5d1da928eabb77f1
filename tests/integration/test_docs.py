"""/docs is Swagger UI from this server alone: every file it loads is the web build's own,
cached like the build's other hashed files, and its one inline script is allowed by hash."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from salon.api.docs import ASSETS_MANIFEST, swagger_ui
from tests.harness import Server, client


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The docs page does not depend on the database."""
    value: str = request.param
    return value


class _Page(HTMLParser):
    """Every URL a page loads (scripts, style sheets, icons) and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline: list[str] = []
        self._in_inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag in ("script", "img", "iframe") else found.get("href")
        if tag in ("script", "link", "img", "iframe") and url:
            self.loads.append(url)
        self._in_inline = tag == "script" and not found.get("src")
        if self._in_inline:
            self.inline.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_inline = False

    def handle_data(self, data: str) -> None:
        if self._in_inline:
            self.inline[-1] += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _directive(policy: str, name: str) -> list[str]:
    for directive in policy.split(";"):
        words = directive.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"no {name} in {policy}")


def _sha256(script: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"


async def test_docs_load_only_this_servers_files_and_they_are_served(server: Server) -> None:
    async with client(server) as anonymous:
        docs = await anonymous.get("/docs")
        assert docs.status_code == 200
        assert docs.headers["content-type"].startswith("text/html")
        assert docs.headers["cache-control"] == "no-cache"
        page = _parse(docs.text)
        # No address of another host anywhere (the SVG namespace is a name, not a load).
        assert set(re.findall(r"https?://[^'\"\s]+", docs.text)) == {"http://www.w3.org/2000/svg"}
        scripts = [url for url in page.loads if url.endswith(".js")]
        sheets = [url for url in page.loads if url.endswith(".css")]
        assert len(scripts) == 1, page.loads
        assert len(sheets) == 1, page.loads
        for url in page.loads:
            # Same origin: an absolute path on this host, or a data: URL (the icon).
            assert re.match(r"^/[^/]", url) or url.startswith("data:image/svg+xml,"), url
        for url, kind in ((scripts[0], "javascript"), (sheets[0], "text/css")):
            assert url.startswith("/assets/swagger-ui"), url
            asset = await anonymous.get(url)
            assert asset.status_code == 200, url
            assert kind in asset.headers["content-type"]
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert len(asset.content) > 100_000  # the real Swagger UI, not an index.html
            assert b"sourceMappingURL" not in asset.content[-200:]
        assert "SwaggerUIBundle" in (await anonymous.get(scripts[0])).text

        # The page asks for the schema on this host, and the schema is there.
        assert "url: '/openapi.json'" in docs.text
        schema = await anonymous.get("/openapi.json")
        assert schema.status_code == 200
        assert "/api/spaces" in schema.json()["paths"]


async def test_the_docs_policy_allows_their_inline_script_by_hash_only(server: Server) -> None:
    async with client(server) as anonymous:
        for path in ("/docs", "/docs/oauth2-redirect"):
            response = await anonymous.get(path)
            assert response.status_code == 200, path
            policy = response.headers["content-security-policy"]
            inline = _parse(response.text).inline
            assert len(inline) == 1, path
            assert set(_directive(policy, "script-src")) == {"'self'", _sha256(inline[0])}
            assert _directive(policy, "default-src") == ["'none'"]
            assert _directive(policy, "connect-src") == ["'self'"]
            assert _directive(policy, "frame-ancestors") == ["'none'"]
            assert response.headers["x-content-type-options"] == "nosniff"
        # The web app's own policy is unchanged: no inline script at all.
        home = await anonymous.get("/")
        assert _directive(home.headers["content-security-policy"], "script-src") == ["'self'"]


async def test_redoc_is_not_offered(server: Server) -> None:
    async with client(server) as anonymous:
        response = await anonymous.get("/redoc")
        # The web app's client-side routes answer it, as any unknown page.
        assert "redoc" not in response.text.lower()
        assert response.text == (await anonymous.get("/no-such-page")).text


def test_without_the_web_build_the_docs_say_how_to_build(tmp_path: Path) -> None:
    response = swagger_ui("/openapi.json", web_dir=tmp_path / "nothing")
    assert response.status_code == 503
    assert response.media_type == "application/problem+json"
    detail = json.loads(bytes(response.body))["detail"]
    assert "npm --prefix web run build" in detail
    assert "/openapi.json" in detail


@pytest.mark.parametrize(
    "manifest",
    [
        "not json",
        json.dumps({"swagger-ui.css": "assets/swagger-ui-1.css"}),
        json.dumps({"swagger-ui-bundle.js": "assets/gone.js", "swagger-ui.css": "assets/x.css"}),
        json.dumps({"swagger-ui-bundle.js": "../secret.js", "swagger-ui.css": "assets/x.css"}),
    ],
)
def test_a_build_without_swagger_ui_is_a_503_not_a_blank_page(
    tmp_path: Path, manifest: str
) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "x.css").write_text("body{}")
    (tmp_path / "secret.js").write_text("secret")
    (tmp_path / ASSETS_MANIFEST).write_text(manifest)
    response = swagger_ui("/openapi.json", web_dir=tmp_path)
    assert response.status_code == 503
    assert response.media_type == "application/problem+json"


def test_a_build_with_swagger_ui_gives_the_page(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "swagger-ui-bundle-1.js").write_text("var SwaggerUIBundle")
    (tmp_path / "assets" / "swagger-ui-2.css").write_text("body{}")
    names = {
        "swagger-ui-bundle.js": "assets/swagger-ui-bundle-1.js",
        "swagger-ui.css": "assets/swagger-ui-2.css",
    }
    (tmp_path / ASSETS_MANIFEST).write_text(json.dumps(names))
    response = swagger_ui("/openapi.json", root_path="/salon", web_dir=tmp_path)
    assert response.status_code == 200
    loads = _parse(bytes(response.body).decode()).loads
    assert "/salon/assets/swagger-ui-bundle-1.js" in loads
    assert "/salon/assets/swagger-ui-2.css" in loads
