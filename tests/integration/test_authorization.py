"""The authorization matrix of the stage: every forbidden action is refused and changes nothing.

The scene: one live space with

    host       the host (and the instance admin)
    cohost1/2  the two co-hosts, microphones open
    speaker    a speaker, microphone open
    speaker2   another speaker, microphone open
    muted      a speaker who came on stage and stayed muted
    raised     a listener who asked to speak
    listener   a listener
    removed    someone the host removed (barred from coming back)
    outsider   an account that never joined

Each refusal is checked twice: the answer (status, problem+json, a detail) and the state of the
space afterwards (the space, its participants, the standing of everyone else), which must be
exactly what it was before. Since a refusal changes nothing, the refusals of a module share one
scene per database (and one ended copy of it); a case that did change it throws it away, so the
next case starts from a fresh one. The controls, which do change things, build their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
import pytest_asyncio

from salon.config import Settings
from tests.harness import (
    BACKENDS,
    FAST_HASHING,
    OffsetClock,
    Person,
    Server,
    throwaway_database,
)

NAMES = (
    "host",
    "cohost1",
    "cohost2",
    "speaker",
    "speaker2",
    "muted",
    "raised",
    "listener",
    "removed",
    "outsider",
)
REACTION = {"emoji": "👏"}

APPROVE = "/participants/{target}/approve"
DENY = "/participants/{target}/deny"
INVITE = "/participants/{target}/invite"
MUTE = "/participants/{target}/mute"
UNMUTE = "/participants/{target}/unmute"
MOVE = "/participants/{target}/move-to-audience"
REMOVE = "/participants/{target}/remove"
COHOST = "/cohosts/{target}"  # PUT appoints, DELETE dismisses
END = "/end"
JOIN = "/join"
HAND = "/hand"
REACT = "/reactions"
ACCEPT = "/invitation/accept"
LEAVE_STAGE = "/stage/leave"
TICKETS = "/tickets"  # buy one


@dataclass
class Scene:
    server: Server
    space_id: str
    people: dict[str, Person]
    anon: httpx.AsyncClient

    def url(self, template: str, target: str | None) -> str:
        path = template.format(target=self.people[target].id) if target else template
        return f"/api/spaces/{self.space_id}{path}"

    async def state(self) -> dict[str, Any]:
        """All one can observe of the space: itself, who is in it, the standing of the others."""
        space = await self.anon.get(f"/api/spaces/{self.space_id}")
        people = await self.anon.get(f"/api/spaces/{self.space_id}/participants")
        assert space.status_code == 200, space.text
        assert people.status_code == 200, people.text
        present = {row["user"]["id"] for row in people.json()}
        others = {
            name: (await person.ok("GET", f"/api/spaces/{self.space_id}"))["me"]
            for name, person in self.people.items()
            if person.id not in present
        }
        return {"space": space.json(), "participants": people.json(), "others": others}

    async def close(self) -> None:
        await self.anon.aclose()
        for person in self.people.values():
            await person.close()


async def build_scene(server: Server) -> Scene:
    people = {name: await server.person(name) for name in NAMES}
    host = people["host"]
    space_id = (await host.create_space("Who may do what"))["id"]
    scene = Scene(server, space_id, people, httpx.AsyncClient(base_url=server.url, timeout=30))
    for name in NAMES[1:-1]:
        await people[name].join(space_id)
    for name in ("cohost1", "cohost2"):
        await host.ok("PUT", scene.url(COHOST, name))
        await people[name].ok("POST", scene.url(UNMUTE, name))
    for name in ("speaker", "speaker2", "muted"):
        await people[name].ok("POST", scene.url(HAND, None))
        await host.ok("POST", scene.url(APPROVE, name))
    for name in ("speaker", "speaker2"):
        await people[name].ok("POST", scene.url(UNMUTE, name))
    await people["raised"].ok("POST", scene.url(HAND, None))
    await host.ok("POST", scene.url(REMOVE, "removed"))
    return scene


@pytest.fixture
async def scene(server: Server) -> AsyncIterator[Scene]:
    """A scene of one's own, for tests that change it."""
    built = await build_scene(server)
    try:
        yield built
    finally:
        await built.close()


@asynccontextmanager
async def running_server(backend: str, tmp: Path) -> AsyncIterator[Server]:
    """As the ``make_server`` fixture does, for a server shared by a module's refusals."""
    async with throwaway_database(backend, str(tmp)) as url:
        settings = Settings(
            database_url=url,
            var_dir=tmp / "var",
            host_min_followers=0,
            sweep_interval_seconds=0.05,
            **FAST_HASHING,
        )
        async with Server(settings, OffsetClock()) as server:
            yield server


class SharedScenes:
    """Scenes shared by the refusals, which change nothing; one that did spoils its scene.

    A spoiled scene is thrown away and the next test gets a fresh one, so a failing case
    never leaks into the cases after it.
    """

    def __init__(self, backend: str, tmp: pytest.TempPathFactory) -> None:
        self.backend = backend
        self.tmp = tmp
        self.stacks: dict[bool, AsyncExitStack] = {}
        self.scenes: dict[bool, Scene] = {}

    async def get(self, *, ended: bool) -> Scene:
        if ended not in self.scenes:
            stack = AsyncExitStack()
            self.stacks[ended] = stack
            server = await stack.enter_async_context(
                running_server(self.backend, self.tmp.mktemp("scene"))
            )
            scene = await build_scene(server)
            stack.push_async_callback(scene.close)
            if ended:
                await scene.people["host"].ok("POST", scene.url(END, None))
            self.scenes[ended] = scene
        return self.scenes[ended]

    async def spoil(self, *, ended: bool) -> None:
        self.scenes.pop(ended, None)
        stack = self.stacks.pop(ended, None)
        if stack is not None:
            await stack.aclose()

    async def close(self) -> None:
        for ended in list(self.stacks):
            await self.spoil(ended=ended)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_backend(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(
    shared_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[SharedScenes]:
    scenes = SharedScenes(shared_backend, tmp_path_factory)
    try:
        yield scenes
    finally:
        await scenes.close()


async def test_the_scene_is_as_described(scene: Scene) -> None:
    state = await scene.state()
    present = {
        row["user"]["handle"]: (row["role"], row["muted"], row["hand_raised"], row["invited"])
        for row in state["participants"]
    }
    assert present == {
        "host": ("host", False, False, False),
        "cohost1": ("cohost", False, False, False),
        "cohost2": ("cohost", False, False, False),
        "speaker": ("speaker", False, False, False),
        "speaker2": ("speaker", False, False, False),
        "muted": ("speaker", True, False, False),
        "raised": ("listener", False, True, False),
        "listener": ("listener", False, False, False),
    }
    assert state["space"]["state"] == "live"
    assert state["space"]["audience_count"] == 2  # listeners not on the stage
    assert state["others"]["removed"]["present"] is False
    assert state["others"]["removed"]["role"] == "listener"
    assert state["others"]["outsider"] is None


class Case(NamedTuple):
    actor: str
    method: str
    path: str
    target: str | None
    status: int
    body: dict[str, str] | None = None


def case_id(case: Case) -> str:
    path = case.path.format(target=case.target) if case.target else case.path
    return f"{case.actor} {case.method} {path} -> {case.status}"


FORBIDDEN = [
    # A listener moderates nothing.
    Case("listener", "POST", APPROVE, "raised", 403),
    Case("listener", "POST", DENY, "raised", 403),
    Case("listener", "POST", INVITE, "raised", 403),
    Case("listener", "POST", MUTE, "speaker", 403),
    Case("listener", "POST", MOVE, "speaker", 403),
    Case("listener", "POST", REMOVE, "raised", 403),
    Case("listener", "PUT", COHOST, "raised", 403),
    Case("listener", "DELETE", COHOST, "cohost1", 403),
    Case("listener", "POST", END, None, 403),
    Case("raised", "POST", APPROVE, "raised", 403),
    # A speaker speaks; they do not moderate.
    Case("speaker", "POST", MUTE, "speaker2", 403),
    Case("speaker", "POST", MUTE, "cohost1", 403),
    Case("speaker", "POST", MUTE, "host", 403),
    Case("speaker", "POST", APPROVE, "raised", 403),
    Case("speaker", "POST", DENY, "raised", 403),
    Case("speaker", "POST", INVITE, "listener", 403),
    Case("speaker", "POST", MOVE, "speaker2", 403),
    Case("speaker", "POST", REMOVE, "listener", 403),
    Case("speaker", "POST", REMOVE, "speaker2", 403),
    Case("speaker", "PUT", COHOST, "listener", 403),
    Case("speaker", "POST", END, None, 403),
    # A co-host neither appoints nor dismisses co-hosts, nor ends the space...
    Case("cohost1", "PUT", COHOST, "raised", 403),
    Case("cohost1", "PUT", COHOST, "speaker", 403),
    Case("cohost1", "DELETE", COHOST, "cohost2", 403),
    Case("cohost1", "DELETE", COHOST, "cohost1", 403),
    Case("cohost1", "POST", END, None, 403),
    # ... nor acts on the host or on the other co-host.
    Case("cohost1", "POST", MUTE, "host", 403),
    Case("cohost1", "POST", REMOVE, "host", 403),
    Case("cohost1", "POST", MOVE, "host", 403),
    Case("cohost1", "POST", MUTE, "cohost2", 403),
    Case("cohost1", "POST", REMOVE, "cohost2", 403),
    Case("cohost1", "POST", MOVE, "cohost2", 403),
    # Nobody acts on the host, not even the host.
    Case("host", "POST", REMOVE, "host", 403),
    Case("host", "POST", MOVE, "host", 403),
    # Nobody opens someone else's microphone.
    Case("host", "POST", UNMUTE, "muted", 403),
    Case("cohost1", "POST", UNMUTE, "muted", 403),
    Case("speaker", "POST", UNMUTE, "muted", 403),
    Case("listener", "POST", UNMUTE, "muted", 403),
    # Someone removed cannot come back, nor act.
    Case("removed", "POST", JOIN, None, 403),
    Case("removed", "POST", HAND, None, 403),
    Case("removed", "POST", REACT, None, 403, REACTION),
    Case("removed", "POST", MUTE, "speaker", 403),
    Case("removed", "POST", APPROVE, "raised", 403),
    Case("removed", "POST", ACCEPT, None, 403),
    # Someone who has not joined has no say on the stage.
    Case("outsider", "POST", HAND, None, 403),
    Case("outsider", "POST", APPROVE, "raised", 403),
    Case("outsider", "POST", DENY, "raised", 403),
    Case("outsider", "POST", INVITE, "listener", 403),
    Case("outsider", "POST", MUTE, "speaker", 403),
    Case("outsider", "POST", UNMUTE, "outsider", 403),
    Case("outsider", "POST", MOVE, "speaker", 403),
    Case("outsider", "POST", REMOVE, "listener", 403),
    Case("outsider", "PUT", COHOST, "listener", 403),
    Case("outsider", "POST", ACCEPT, None, 403),
    Case("outsider", "POST", LEAVE_STAGE, None, 403),
    Case("outsider", "POST", REACT, None, 403, REACTION),
    Case("outsider", "POST", END, None, 403),
    # Anonymous requests are not signed in at all.
    Case("anonymous", "POST", JOIN, None, 401),
    Case("anonymous", "POST", HAND, None, 401),
    Case("anonymous", "DELETE", HAND, None, 401),
    Case("anonymous", "POST", APPROVE, "raised", 401),
    Case("anonymous", "POST", DENY, "raised", 401),
    Case("anonymous", "POST", INVITE, "listener", 401),
    Case("anonymous", "POST", MUTE, "speaker", 401),
    Case("anonymous", "POST", UNMUTE, "muted", 401),
    Case("anonymous", "POST", MOVE, "speaker", 401),
    Case("anonymous", "POST", REMOVE, "listener", 401),
    Case("anonymous", "PUT", COHOST, "listener", 401),
    Case("anonymous", "DELETE", COHOST, "cohost1", 401),
    Case("anonymous", "POST", ACCEPT, None, 401),
    Case("anonymous", "POST", LEAVE_STAGE, None, 401),
    Case("anonymous", "POST", REACT, None, 401, REACTION),
    Case("anonymous", "POST", "/leave", None, 401),
    Case("anonymous", "POST", END, None, 401),
    Case("anonymous", "POST", TICKETS, None, 401),
    # A free space sells no tickets (ticketed spaces: test_tickets.py).
    Case("listener", "POST", TICKETS, None, 409),
    Case("outsider", "POST", TICKETS, None, 409),
]


async def send(scene: Scene, case: Case) -> httpx.Response:
    url = scene.url(case.path, case.target)
    kwargs: dict[str, Any] = {} if case.body is None else {"json": case.body}
    if case.actor == "anonymous":
        return await scene.anon.request(case.method, url, **kwargs)
    return await scene.people[case.actor].http.request(case.method, url, **kwargs)


def check_answer(response: httpx.Response, case: Case) -> None:
    """The expected status; any error is a problem+json body with a detail."""
    assert response.status_code == case.status, (
        f"{case_id(case)}: got {response.status_code}: {response.text}"
    )
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
        problem = response.json()
        assert problem["status"] == case.status, problem
        assert problem["detail"], problem


async def refuse(shared: SharedScenes, case: Case, *, ended: bool) -> None:
    scene = await shared.get(ended=ended)
    try:
        before = await scene.state()
        if ended:
            assert before["space"]["state"] == "ended"
            assert before["participants"] == []
        response = await send(scene, case)
        after = await scene.state()
        check_answer(response, case)
        assert after == before, f"{case_id(case)} changed the space"
    except BaseException:
        await shared.spoil(ended=ended)
        raise


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case", FORBIDDEN, ids=case_id)
async def test_a_forbidden_action_is_refused_and_changes_nothing(
    shared: SharedScenes, case: Case
) -> None:
    await refuse(shared, case, ended=False)


ALLOWED = [
    # Controls: the same routes do work for whoever may use them, and do change the space.
    Case("cohost1", "POST", APPROVE, "raised", 200),
    Case("cohost1", "POST", DENY, "raised", 200),
    Case("cohost1", "POST", INVITE, "listener", 200),
    Case("cohost1", "POST", MUTE, "speaker", 200),
    Case("cohost1", "POST", MOVE, "speaker", 200),
    Case("cohost1", "POST", REMOVE, "listener", 204),
    Case("host", "DELETE", COHOST, "cohost1", 200),
    Case("host", "POST", END, None, 200),
    Case("muted", "POST", UNMUTE, "muted", 200),
    Case("outsider", "POST", JOIN, None, 200),
]


@pytest.mark.parametrize("case", ALLOWED, ids=case_id)
async def test_the_same_action_works_for_whoever_may(scene: Scene, case: Case) -> None:
    before = await scene.state()
    check_answer(await send(scene, case), case)
    assert await scene.state() != before


ON_ENDED = [
    Case("host", "POST", APPROVE, "raised", 409),
    Case("host", "POST", DENY, "raised", 409),
    Case("host", "POST", INVITE, "listener", 409),
    Case("host", "POST", MUTE, "speaker", 409),
    Case("host", "POST", REMOVE, "listener", 409),
    Case("host", "PUT", COHOST, "listener", 409),
    Case("host", "DELETE", COHOST, "cohost1", 409),
    Case("host", "POST", JOIN, None, 409),
    Case("host", "POST", REACT, None, 409, REACTION),
    Case("host", "POST", END, None, 409),
    Case("cohost1", "POST", APPROVE, "raised", 409),
    Case("cohost1", "POST", MUTE, "speaker", 409),
    Case("speaker", "POST", UNMUTE, "speaker", 409),
    Case("speaker", "POST", LEAVE_STAGE, None, 409),
    Case("muted", "POST", UNMUTE, "muted", 409),
    Case("listener", "POST", JOIN, None, 409),
    Case("listener", "POST", HAND, None, 409),
    Case("listener", "POST", REACT, None, 409, REACTION),
    Case("raised", "DELETE", HAND, None, 409),
    Case("outsider", "POST", JOIN, None, 409),
    Case("outsider", "POST", TICKETS, None, 409),
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case", ON_ENDED, ids=case_id)
async def test_nobody_acts_on_an_ended_space(shared: SharedScenes, case: Case) -> None:
    await refuse(shared, case, ended=True)
