"""How a bot stops: one line to print and an exit code, never a traceback."""

from __future__ import annotations

import httpx


class BotStopped(Exception):
    """The bot is done; ``line`` says why in one sentence, ``exit_code`` is the command's."""

    exit_code = 1

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


class SpaceOver(BotStopped):
    """The space ended (or was cancelled): the bot's work is done."""

    exit_code = 0


class Refused(BotStopped):
    """The server will not let the bot do its work (token, removal, not on the stage, ...)."""


#: What a bot (and the web app) says when a newer connection of the same person took the seat.
REPLACED_LINE = "replaced by your other device"


class Replaced(BotStopped):
    """A newer connection of the same person (a browser, another bot) took the seat: the
    newest wins, so the bot stops rather than take it back (exit code 3)."""

    exit_code = 3


class GaveUp(BotStopped):
    """Nothing worked for the bot's whole patience."""


def problem_detail(response: httpx.Response) -> str:
    """The ``detail`` of an RFC 9457 problem response, else the start of its body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return response.text.strip()[:200] or response.reason_phrase


def unreachable(exc: BaseException) -> str:
    """A network failure in a few words (``timed out``, ``cannot connect (...)``, ...)."""
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timed out"
    lines = str(exc).strip().splitlines()
    words = lines[0] if lines else type(exc).__name__
    if isinstance(exc, httpx.ConnectError | OSError):
        return f"cannot connect to the server ({words})"
    if isinstance(exc, httpx.TransportError):
        return f"connection lost ({words})"
    return words
