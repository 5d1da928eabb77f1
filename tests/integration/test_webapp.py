"""The built web app is served at "/", with client-side routes falling back to index.html."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.responses import FileResponse

from salon.api.webapp import WEB_DIR, serve
from tests.harness import Server, client, problem


@pytest.fixture
def build(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Salon</title>")
    (tmp_path / "assets" / "app-1a2b3c.js").write_text("console.log('salon')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("not for the web")
    return tmp_path


def served_file(response: object) -> Path:
    assert isinstance(response, FileResponse)
    return Path(response.path)


def test_hashed_assets_are_cached_for_good(build: Path) -> None:
    response = serve("assets/app-1a2b3c.js", build)
    assert served_file(response) == build / "assets" / "app-1a2b3c.js"
    assert "immutable" in response.headers["cache-control"]


def test_other_build_files_revalidate(build: Path) -> None:
    response = serve("favicon.svg", build)
    assert served_file(response) == build / "favicon.svg"
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["", "spaces/abc123", "users/ada", "signin", "assets/missing.js"])
def test_client_routes_get_the_app(build: Path, path: str) -> None:
    response = serve(path, build)
    assert served_file(response) == build / "index.html"
    assert response.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["../secret.txt", "assets/../../secret.txt", "/etc/passwd"])
def test_nothing_outside_the_build_is_served(build: Path, path: str) -> None:
    assert served_file(serve(path, build)) == build / "index.html"


def test_unknown_api_paths_stay_json_404(build: Path) -> None:
    response = serve("api/nowhere", build)
    assert response.status_code == 404
    assert response.media_type == "application/problem+json"


def test_missing_build_says_how_to_build(tmp_path: Path) -> None:
    response = serve("", tmp_path / "nothing")
    assert response.status_code == 503
    assert b"npm" in bytes(response.body)


async def test_the_server_serves_the_real_build(server: Server) -> None:
    assert (WEB_DIR / "index.html").is_file(), "make builds the web app before the tests"
    async with client(server) as anonymous:
        home = await anonymous.get("/")
        assert home.status_code == 200
        assert home.headers["content-type"].startswith("text/html")
        room = await anonymous.get("/spaces/abc123")
        assert room.text == home.text
        problem(await anonymous.get("/api/nowhere"), 404)
        assert (await anonymous.get("/healthz")).json()["status"] == "ok"
        assert (await anonymous.get("/docs")).status_code == 200
