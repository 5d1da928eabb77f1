"""The edge's configuration rendering and certificate (pure, no servers)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from cryptography import x509

from salon.edge import Edge, EdgeError, free_ports, parse_origins
from salon.edge.certificate import ensure_certificate
from salon.edge.render import (
    EdgeLayout,
    OriginNode,
    TemplateError,
    fill,
    parse_size,
    render_nginx,
)

SECRET = "0123456789abcdef0123456789abcdef"


def layout(tmp_path: Path, **changes: object) -> EdgeLayout:
    values: dict[str, object] = {
        "origins": (OriginNode("127.0.0.1", 8000),),
        "http_port": 8080,
        "https_port": 8443,
        "edge_secret": SECRET,
        "certificate": tmp_path / "edge.crt",
        "certificate_key": tmp_path / "edge.key",
        "logs": tmp_path / "logs",
        "runtime": tmp_path / "run",
        **changes,
    }
    return EdgeLayout(**values)  # type: ignore[arg-type]


def code(text: str) -> str:
    """The configuration without its comment lines (which show examples)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_nginx_gets_ports_paths_and_the_secret(tmp_path: Path) -> None:
    text = render_nginx(layout(tmp_path, worker_user="nobody nogroup"))
    assert "{{" not in text
    assert "listen 127.0.0.1:8080;" in text
    assert "listen 127.0.0.1:8443 ssl http2;" in text
    assert "server 127.0.0.1:8000;" in text
    assert f'secure_link_md5 "$salon_expires.$salon_listener.$salon_space {SECRET}";' in text
    assert "user nobody nogroup;" in text
    assert f"proxy_temp_path {tmp_path}/run/nginx-temp/proxy;" in text
    assert "\nuser " not in render_nginx(layout(tmp_path))


def test_the_audio_cache_is_loaded_sized_and_fetches_from_the_origins(tmp_path: Path) -> None:
    text = code(render_nginx(layout(tmp_path, audio_cache_bytes=parse_size("64m"))))
    assert "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;" in text
    assert "load_module /usr/lib/nginx/modules/ndk_http_module.so;" in text
    assert 'init_by_lua_block { require("salon_audio") }' in text
    assert f'require("salon_audio").init({64 * 1024 * 1024}, {{ "127.0.0.1:8000" }})' in text
    assert "lua_shared_dict salon_nodes 64k;" in text
    assert text.count('content_by_lua_block { require("salon_audio").serve() }') == 2
    # The cache connects to each node's address (names resolved by the caller).
    resolved = layout(
        tmp_path, origins=NODES, origin_addresses=("127.0.0.1:8001", "10.0.0.2:8000", "[::1]:8003")
    )
    assert 'init(268435456, { "127.0.0.1:8001", "10.0.0.2:8000", "[::1]:8003" })' in render_nginx(
        resolved
    )


@pytest.mark.parametrize(
    ("text", "size"), [("256m", 256 * 1024**2), ("1g", 1024**3), ("2048k", 2 * 1024**2)]
)
def test_cache_sizes_are_parsed(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "12x", "-1m", "1.5g", "256 m"])
def test_malformed_cache_sizes_are_refused(text: str) -> None:
    with pytest.raises(TemplateError):
        parse_size(text)


NODES = (OriginNode("127.0.0.1", 8001), OriginNode("10.0.0.2", 8000), OriginNode("[::1]", 8003))


def test_nginx_lists_every_node_and_skips_a_dead_one(tmp_path: Path) -> None:
    text = render_nginx(layout(tmp_path, origins=NODES))
    assert "{{" not in text
    text = code(text)
    upstream = text.split("upstream salon_origin {")[1].split("}")[0]
    servers = [line.strip() for line in upstream.splitlines() if line.strip().startswith("server")]
    assert servers == [
        "server 127.0.0.1:8001 max_fails=1 fail_timeout=5s;",
        "server 10.0.0.2:8000 max_fails=1 fail_timeout=5s;",
        "server [::1]:8003 max_fails=1 fail_timeout=5s;",
    ]
    # The keep-alive settings stay, and every origin location uses the whole group.
    assert "keepalive 64;" in upstream
    assert "keepalive_timeout 4s;" in upstream
    assert "proxy_connect_timeout 3s;" in text
    # Events and everything else (the audio cache fetches from the nodes itself).
    assert text.count("proxy_pass http://salon_origin;") == 2
    # One origin: a plain server line (nginx never skips a group's only server anyway).
    single = code(render_nginx(layout(tmp_path)))
    assert "server 127.0.0.1:8000;" in single
    assert "max_fails" not in single.split("upstream salon_origin {")[1].split("}")[0]


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("127.0.0.1:8001", OriginNode("127.0.0.1", 8001)),
        ("8002", OriginNode("127.0.0.1", 8002)),
        ("salon-node-1:8000", OriginNode("salon-node-1", 8000)),
        ("[::1]:8003", OriginNode("[::1]", 8003)),
    ],
)
def test_origins_are_parsed(text: str, node: OriginNode) -> None:
    assert parse_origins([text]) == (node,)


@pytest.mark.parametrize(
    "text", ["127.0.0.1", "127.0.0.1:", "::1:8000", "host name:80", "a;b:80", "x:99999", ""]
)
def test_malformed_origins_are_refused(text: str) -> None:
    with pytest.raises(EdgeError):
        parse_origins([text])


@pytest.mark.parametrize(
    "changes",
    [
        {"edge_secret": 'short"'},
        {"edge_secret": "a$b" * 8},
        {"edge_secret": "has space " * 3},
        {"http_port": 8443},
        {"origin_addresses": ('10.0.0.1:80"',)},
        {"origin_addresses": ("10.0.0.1:80", "10.0.0.2:80")},
        {"origins": (OriginNode("127.0.0.1", 70000),)},
        {"origins": (OriginNode("127.0.0.1", 8080),)},
        {"origins": (OriginNode("127.0.0.1", 8001), OriginNode("127.0.0.1", 8001))},
        {"origins": ()},
        {"origins": (OriginNode('a"b', 8001),)},
        {"logs": Path("/tmp/with space")},
        {"worker_user": "nobody; daemon on"},
        {"audio_cache_bytes": 1024},
        {"lua_modules": Path("/usr/lib/with space")},
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


def test_nginx_can_listen_on_every_interface(tmp_path: Path) -> None:
    text = render_nginx(layout(tmp_path, listen="0.0.0.0"))
    assert "listen 0.0.0.0:8080;" in text
    assert "listen 0.0.0.0:8443 ssl http2;" in text
    edge = Edge(
        origins=["node1:8000"],
        listen="0.0.0.0",
        directory=tmp_path,
        edge_secret=SECRET,
        http_port=8080,
    )
    # This machine reaches a wildcard listener on loopback.
    assert edge.http_url == "http://127.0.0.1:8080"
    assert edge.origins == (OriginNode("node1", 8000),)


def test_nginx_runs_one_worker_a_core_unless_told(tmp_path: Path) -> None:
    files = ensure_certificate(tmp_path / "tls")

    def rendered(workers: int | None = None) -> str:
        edge = Edge(origin_port=8000, directory=tmp_path, edge_secret=SECRET, workers=workers)
        return render_nginx(edge.layout(tmp_path / "run", files))

    assert "worker_processes auto;" in rendered()
    assert "worker_processes 1;" in rendered(workers=1)
    with pytest.raises(EdgeError, match="at least one nginx worker"):
        Edge(origin_port=8000, directory=tmp_path, edge_secret=SECRET, workers=0)


def test_free_ports_are_different() -> None:
    ports = free_ports(20)
    assert len(set(ports)) == 20
