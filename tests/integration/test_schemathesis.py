"""Schemathesis fuzzes every operation in the OpenAPI schema against a real server.

Two runs per database: one with generated path values (mostly unknown ids), one seeded with a
real handle, space and participant so generated requests reach the deeper rules. Checks: no 5xx,
documented status codes and content types, responses that match their schemas, and invalid
input refused.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import Server
from tests.integration.ticketing import seller, ticketed_space

ROOT = Path(__file__).resolve().parents[2]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)


@pytest.mark.parametrize("mode", ["generated", "seeded"])
async def test_schemathesis_finds_no_errors(server: Server, tmp_path: Path, mode: str) -> None:
    admin = await server.person("fuzz_admin")
    other = await server.person("fuzz_other")
    token = (await admin.ok("POST", "/api/me/tokens", json={"name": "schemathesis"}))["token"]
    space = await admin.create_space("Fuzzed space", topics=["testing"])
    await other.join(space["id"])
    await other.ok("POST", f"/api/spaces/{space['id']}/hand")

    config = tmp_path / "schemathesis.toml"
    lines = ['headers = { Authorization = "Bearer ${SALON_FUZZ_TOKEN}" }']
    if mode == "seeded":
        lines += [
            "[parameters]",
            f'handle = "{other.handle}"',
            f'space_id = "{space["id"]}"',
            f"user_id = {other.id}",
        ]
    config.write_text("\n".join(lines) + "\n")

    result = await _schemathesis(
        server,
        config,
        token,
        hooks="tests.schemathesis_hooks",
        # Revoking the run's own token would turn the rest into 401s; test_accounts covers it.
        args=["--exclude-path", "/api/me/tokens/{token_id}", "--max-examples", "25"],
        phases="examples,coverage,fuzzing",
        seed="20261124",
    )
    assert result.returncode == 0, result.stdout[-6000:]


async def _schemathesis(
    server: Server,
    config: Path,
    token: str,
    *,
    hooks: str,
    args: list[str],
    phases: str,
    seed: str,
) -> subprocess.CompletedProcess[str]:
    """Schemathesis' CLI against the server's schema, as the fuzzer's token."""
    return await _run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            CHECKS,
            *args,
            "--workers",
            "1",
            "--phases",
            phases,
            "--seed",
            seed,
        ],
        env={
            **os.environ,
            "SALON_FUZZ_TOKEN": token,
            "SALON_FUZZ_URL": server.url,
            "SCHEMATHESIS_HOOKS": hooks,
            "PYTHONPATH": str(ROOT),
        },
        cwd=config.parent,
    )


async def _run(
    args: list[str], *, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    # cwd: schemathesis keeps a cache folder in its working directory.
    return await asyncio.to_thread(
        subprocess.run, args, capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


_TRANSITION = re.compile(r'"transition":\{"id":"([^"]+)"')
#: The links the schema declares (api/links.py); the stateful phase must follow every one.
LINKS = (
    "GetSpace",
    "StartSpace",
    "JoinSpace",
    "RaiseHand",
    "ApproveSpeaker",
    "RevokeToken",
    "ReadPurchase",
)


async def test_schemathesis_follows_every_link(server: Server, tmp_path: Path) -> None:
    """Stateful: sequences built from the schema's links (space → start/join/hand → approve,
    token → revoke, purchase → read), with no 5xx and no schema violation."""
    fuzzer = await server.person("fuzz_admin")  # the first account: an admin
    token = (await fuzzer.ok("POST", "/api/me/tokens", json={"name": "schemathesis"}))["token"]
    # Someone else's live space the fuzzer has joined (so raising a hand answers 200 and the
    # approval link is followed, refused since the fuzzer does not moderate it), and someone
    # else's ticketed space (so a purchase is made and read).
    host = await seller(server, fuzzer, "fuzz_host")
    live = (await host.create_space("Fuzzed live space"))["id"]
    await fuzzer.join(live)
    other = await seller(server, fuzzer, "fuzz_seller")
    sold = (await ticketed_space(other))["id"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        'headers = { Authorization = "Bearer ${SALON_FUZZ_TOKEN}" }\n'
        # Only the links the schema declares: they are what this test is about.
        "[phases.stateful.inference]\nalgorithms = []\n"
        "[[operations]]\n"
        'include-path = "/api/spaces/{space_id}/hand"\n'
        f'parameters = {{ space_id = "{live}" }}\n'
        "[[operations]]\n"
        'include-path = "/api/spaces/{space_id}"\n'
        f'parameters = {{ space_id = "{live}" }}\n'
        "[[operations]]\n"
        'include-path = "/api/spaces/{space_id}/tickets"\n'
        f'parameters = {{ space_id = "{sold}" }}\n'
    )
    result = await _schemathesis(
        server,
        config,
        token,
        hooks="tests.schemathesis_stateful_hooks",
        args=[
            *("--report", "ndjson", "--report-dir", str(tmp_path / "report")),
            *("--max-examples", "300"),
        ],
        phases="stateful",
        seed="20261206",
    )
    assert result.returncode == 0, result.stdout[-6000:]
    # Each link followed at least once: the transitions the run's report records.
    followed: set[str] = set()
    for report in (tmp_path / "report").glob("*.ndjson"):
        followed |= set(_TRANSITION.findall(report.read_text()))
    names = {transition.split("] ", 1)[1].split(" -> ", 1)[0] for transition in followed}
    assert names >= set(LINKS), (sorted(set(LINKS) - names), sorted(followed))
    print("\n".join(["", "links followed:", *sorted(followed)]))
