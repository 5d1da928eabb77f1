"""The pinned aiortc adjustments are in place (the GStreamer interop tests show what they fix)."""

from __future__ import annotations

from aiortc.rtcdtlstransport import SRTP_AES128_CM_SHA1_80, RTCCertificate
from OpenSSL import SSL

from salon.media import aiortc_fixes, peer  # noqa: F401  (importing the peer applies them)


def _ciphers_offered() -> list[str]:
    context = RTCCertificate.generateCertificate()._create_ssl_context(
        srtp_profiles=[SRTP_AES128_CM_SHA1_80]
    )
    names: list[str] = SSL.Connection(context).get_cipher_list()
    return names


def test_a_dtls_client_offers_rsa_suites_too() -> None:
    offered = _ciphers_offered()
    assert "ECDHE-RSA-AES128-GCM-SHA256" in offered
    assert "ECDHE-ECDSA-AES128-GCM-SHA256" in offered
    # Forward secrecy only, as before (the TLS_ names are TLS 1.3 suites, unused by DTLS 1.2).
    assert all(name.startswith(("ECDHE-", "TLS_")) for name in offered)


def test_applying_twice_changes_nothing() -> None:
    aiortc_fixes.apply()
    aiortc_fixes.apply()
    assert _ciphers_offered().count("ECDHE-RSA-AES128-GCM-SHA256") == 1
