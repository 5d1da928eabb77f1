"""``salon bot speak``, ``listen`` and ``whep`` as an operator runs them: when they stop they
say why in one line, with exit code 1 for a failure and 0 for a space that ended."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from salon.edge import free_port
from tests.harness import Server

#: A well-formed space id (the bots never get as far as finding out it does not exist).
NO_SPACE = "abcdefghijkl"
SPEAK = ["speak", "--token", "not-a-token", "--tone", "440"]
LISTEN = ["listen", "--seconds", "0"]
WHEP = ["whep", "--seconds", "0"]


def _bot(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "salon", "bot", *args],
        capture_output=True,
        text=True,
        # Wide, so a line is never wrapped by the terminal width (the bot never wraps its own).
        env={**os.environ, "COLUMNS": "300"},
        timeout=60,
    )


def _last_line(shown: subprocess.CompletedProcess[str]) -> str:
    output = shown.stdout + shown.stderr
    assert "Traceback" not in output, output
    lines = output.strip().splitlines()
    assert lines, "the bot said nothing"
    return lines[-1]


@pytest.mark.parametrize("command", [SPEAK, LISTEN, WHEP], ids=["speak", "listen", "whep"])
async def test_a_bot_that_reaches_no_server_gives_up_in_one_line(command: list[str]) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    args = [*command, "--space", NO_SPACE, "--server", nobody, "--give-up-after", "1"]
    shown = await asyncio.to_thread(_bot, args)
    assert shown.returncode == 1, shown.stdout + shown.stderr
    last = _last_line(shown)
    assert last.startswith("gave up after 1 s without"), last
    assert "cannot connect to the server" in last, last
    # Before it, only its per-second lines, each saying nothing arrived.
    for line in shown.stdout.strip().splitlines()[:-1]:
        assert "hearing nothing" in line or "no audio arrived" in line, line


async def test_refusals_and_a_space_that_ended_say_so_in_one_line(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Short"))["id"]
    base = ["--server", server.url, "--give-up-after", "30"]

    refused = await asyncio.to_thread(_bot, [*SPEAK, "--space", sid, *base])
    assert refused.returncode == 1
    assert "refused with HTTP 401" in _last_line(refused)

    for listening in (LISTEN, WHEP):
        missing = await asyncio.to_thread(_bot, [*listening, "--space", NO_SPACE, *base])
        assert missing.returncode == 1
        assert "refused with HTTP 404" in _last_line(missing)

    token = (await host.ok("POST", "/api/me/tokens", json={"name": "bot"}))["token"]
    await host.ok("POST", f"/api/spaces/{sid}/end")
    ended = await asyncio.to_thread(
        _bot, ["speak", "--token", token, "--tone", "440", "--space", sid, *base]
    )
    assert ended.returncode == 0
    assert _last_line(ended) == "the space has ended"
