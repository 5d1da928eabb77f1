"""The edge's configuration rendering and certificate (pure, no servers)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from cryptography import x509

from salon.edge.certificate import ensure_certificate
from salon.edge.render import EdgeLayout, TemplateError, fill, render_nginx, render_varnish

SECRET = "0123456789abcdef0123456789abcdef"


def layout(tmp_path: Path, **changes: object) -> EdgeLayout:
    values: dict[str, object] = {
        "origin_port": 8000,
        "http_port": 8080,
        "https_port": 8443,
        "varnish_port": 6081,
        "edge_secret": SECRET,
        "certificate": tmp_path / "edge.crt",
        "certificate_key": tmp_path / "edge.key",
        "logs": tmp_path / "logs",
        "runtime": tmp_path / "run",
        **changes,
    }
    return EdgeLayout(**values)  # type: ignore[arg-type]


def test_nginx_gets_ports_paths_and_the_secret(tmp_path: Path) -> None:
    text = render_nginx(layout(tmp_path, worker_user="nobody nogroup"))
    assert "{{" not in text
    assert "listen 127.0.0.1:8080;" in text
    assert "listen 127.0.0.1:8443 ssl http2;" in text
    assert "server 127.0.0.1:8000;" in text
    assert "server 127.0.0.1:6081;" in text
    assert f'secure_link_md5 "$salon_expires.$salon_listener.$salon_space {SECRET}";' in text
    assert "user nobody nogroup;" in text
    assert f"proxy_temp_path {tmp_path}/run/nginx-temp/proxy;" in text
    assert "\nuser " not in render_nginx(layout(tmp_path))


def test_varnish_gets_the_origin(tmp_path: Path) -> None:
    text = render_varnish(layout(tmp_path, origin_port=9123))
    assert "{{" not in text
    assert '.port = "9123";' in text


@pytest.mark.parametrize(
    "changes",
    [
        {"edge_secret": 'short"'},
        {"edge_secret": "a$b" * 8},
        {"edge_secret": "has space " * 3},
        {"http_port": 8443},
        {"origin_port": 70000},
        {"logs": Path("/tmp/with space")},
        {"worker_user": "nobody; daemon on"},
    ],
)
def test_unsafe_values_are_refused(tmp_path: Path, changes: dict[str, object]) -> None:
    with pytest.raises(TemplateError):
        render_nginx(layout(tmp_path, **changes))


def test_an_unknown_placeholder_is_refused() -> None:
    with pytest.raises(TemplateError):
        fill("listen {{ nope }};", {})


def test_certificate_for_loopback_kept_while_valid(tmp_path: Path) -> None:
    files = ensure_certificate(tmp_path)
    assert files.key.stat().st_mode & 0o777 == 0o600
    certificate = x509.load_pem_x509_certificate(files.certificate.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    again = ensure_certificate(tmp_path)
    assert again.certificate.read_bytes() == files.certificate.read_bytes()
