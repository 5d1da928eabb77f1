"""A locally generated, self-signed TLS certificate for the edge's HTTPS port.

Good for ``localhost`` and the loopback addresses only: browsers and clients must be told to
trust it (or to skip verification). A real deployment gives nginx a real certificate.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: How long a generated certificate is valid, and how much of that must be left to reuse it.
LIFETIME = timedelta(days=90)
RENEW_BEFORE = timedelta(days=7)
NAMES = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    certificate: Path
    key: Path


def self_signed(now: datetime | None = None) -> tuple[bytes, bytes]:
    """A new P-256 key and a self-signed certificate for localhost, as PEM (cert, key)."""
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Salon edge (self-signed)")])
    alternatives: list[x509.GeneralName] = [x509.DNSName(n) for n in NAMES]
    alternatives += [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + LIFETIME)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _still_good(path: Path, now: datetime) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return certificate.not_valid_after_utc - now > RENEW_BEFORE


def ensure_certificate(directory: Path, now: datetime | None = None) -> CertificateFiles:
    """``directory/edge.crt`` and ``edge.key``: kept while valid for another week, else made
    anew. The key is readable by its owner only (nginx's master reads it before it drops
    privileges)."""
    now = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    files = CertificateFiles(directory / "edge.crt", directory / "edge.key")
    if files.key.is_file() and _still_good(files.certificate, now):
        return files
    certificate, key = self_signed(now)
    descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key)
    files.certificate.write_bytes(certificate)
    return files
