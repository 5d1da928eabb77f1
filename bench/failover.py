"""Failover: how soon a live space is heard again after the node running its media is killed,
and how three nodes share the media leases (and CPU) of many live spaces.

Three ``salon serve`` children run on 127.0.0.1 on one throwaway PostgreSQL database
(``salon_bench_<hex>``, dropped at the end) and one Redis key prefix (deleted at the end),
each with its own var directory and port, recordings in one shared folder, the default
media lease of 3 s (``--lease``). The bots are ``salon.bots``' own, in this process.

1. Failover (``--kills``, default 5). For each kill, a fresh live space: its host is created
   through node k mod 3, and whichever node takes the space's media lease is the owner. Two
   speaker bots (the host at 300 Hz, a speaker at 660 Hz; ``StageBot``) and one listener bot
   (``HlsListener``) connect through a node that is *not* the owner. Once each speaker hears the
   other's tone and the listener hears both (by signal, ``tone_strength`` > 0.05), the owner
   is killed with SIGKILL. From that moment (polled every 50 ms) the bench notes: (a) the
   database shows another node holding a live lease; the ``media_moved`` event reaching the
   bots' node; each speaker's new offer answered; the listener's first part of the new run;
   (b) each speaker hearing the other's tone again; (c) the listener hearing both tones again.
   Only audio that arrived 0.5 s or more after the kill counts (bytes in flight at the kill
   are from the dead owner); a speaker "hears" when its last 0.25 s of audio has the tone,
   the listener when its last 0.384 s (two parts) has both. Then the bots stop, the space
   ends, and the killed node is started again (same port and var directory) before the next.
2. Leases and CPU (``--spaces``, default 20). Live spaces are added one at a time, created
   through node i mod 3, each with one speaker bot (its host; a distinct tone) connected
   through node (i+1) mod 3; a space counts once its bot hears its (silent) mix-minus. After
   each, the machine's CPU is read over 2 s (/proc/stat); past ``--cpu-limit`` (70 % of the
   machine) no more are added (``--cpu-basis ours`` reads only the nodes' and the bots'
   share, for a machine others share). Then, over ``--seconds``: each node's CPU (% of one
   core, /proc/<pid>/stat), this process's (the bots'), the machine's, and each node's leases
   (from the database); last, each space's LL-HLS is fetched through the third node and
   checked for its tone.

Nothing is asserted on time; the goals (speakers heard again ≤ 10 s after the kill, listeners
≤ 12 s) are printed as met or not met by the worst kill.

Run: .venv/bin/python -m bench.failover [--kills 5] [--spaces 20] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiortc import MediaStreamTrack
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import connect

from bench.failover_cluster import (
    Account,
    Cluster,
    Meter,
    Node,
    cluster,
    lease,
    leases_by_url,
    machine,
    register,
    save,
)
from salon.bots.analysis import tone_strength
from salon.bots.listener import HlsListener
from salon.bots.stage_bot import StageBot
from salon.bots.tracks import PcmTrack, tone
from salon.media.pcm import SAMPLE_RATE, Pcm

console = Console() if sys.stdout.isatty() else Console(width=140)

HOST_HZ, SPEAKER_HZ = 300.0, 660.0
#: A tone is heard when this share of the audio's energy is within ±10 Hz of it (the tests').
HEARD = 0.05
POLL_SECONDS = 0.05
#: Audio that arrived sooner than this after the kill may be the dead owner's, in flight.
GUARD_SECONDS = 0.5
SPEAKER_WINDOW = 0.25
LISTENER_WINDOW = 0.384  # two 192 ms parts
GOAL_SPEAKERS, GOAL_LISTENER = 10.0, 12.0
NODES = 3
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def hears(audio: Pcm, frequencies: tuple[float, ...], seconds: float) -> bool:
    """The last ``seconds`` of ``audio`` carry every one of ``frequencies``."""
    needed = int(seconds * SAMPLE_RATE)
    if len(audio) < needed:
        return False
    tail = audio[-needed:]
    return all(tone_strength(tail, f) > HEARD for f in frequencies)


def speaker_hears(bot: StageBot, frequency: float, since: float) -> bool:
    now = time.monotonic()
    return hears(bot.status(max(since, now - 1.0)).audio, (frequency,), SPEAKER_WINDOW)


def listener_hears(listener: HlsListener, since: float) -> bool:
    now = time.monotonic()
    audio = listener.status(max(since, now - 2.0)).audio
    return hears(audio, (HOST_HZ, SPEAKER_HZ), LISTENER_WINDOW)


async def stop_tasks(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def task_outcome(task: asyncio.Task[Any]) -> str:
    """'running', or how a bot stopped by itself."""
    if not task.done():
        return "running"
    if task.cancelled():
        return "cancelled"
    exc = task.exception()
    return f"stopped: {exc}" if exc is not None else "stopped"


async def end_space(base_url: str, account: Account, space_id: str) -> None:
    """The host ends the space through ``base_url`` (its session cookie works on every node)."""
    with contextlib.suppress(httpx.HTTPError, RuntimeError):
        await account.ok("POST", f"{base_url}/api/spaces/{space_id}/end")


async def wait_for_lease(db: asyncpg.Connection, space_id: str, within: float = 15) -> str:
    """The URL of the node that holds the space's live lease, once one does."""
    async with asyncio.timeout(within):
        while True:
            _, url = await lease(db, space_id)
            if url is not None:
                return url
            await asyncio.sleep(POLL_SECONDS)


@dataclass
class Moments:
    """Seconds from the kill to each first occurrence (None: not within the wait)."""

    killed: float
    seen: dict[str, float | None] = field(default_factory=dict)

    def note(self, name: str, happened: bool) -> None:
        if self.seen.get(name) is None and happened:
            self.seen[name] = round(time.monotonic() - self.killed, 3)

    def missing(self, names: list[str]) -> bool:
        return any(self.seen.get(name) is None for name in names)


async def watch_lease(
    db: asyncpg.Connection, space_id: str, old_node: str | None, lease_s: float
) -> dict[str, Any]:
    """Poll (every 25 ms) until another node holds a live lease on the space: when it was
    seen (time.monotonic), when it was claimed (time.time: its ``media_lease_until`` less
    the lease, as the claiming node set it) and by whom."""
    while True:
        row = await db.fetchrow(
            "SELECT media_node, media_url, media_lease_until FROM spaces "
            "WHERE id = $1 AND media_lease_until > now()",
            space_id,
        )
        if row is not None and row["media_node"] != old_node:
            return {
                "seen": time.monotonic(),
                "claimed": row["media_lease_until"].timestamp() - lease_s,
                "url": row["media_url"],
            }
        await asyncio.sleep(0.025)


async def watch_media_moved(url: str, space_id: str, noted: list[float]) -> None:
    """Note when each ``media_moved`` event reaches the bots' node's event stream."""
    ws_url = url.replace("http://", "ws://") + f"/api/spaces/{space_id}/events"
    with contextlib.suppress(Exception):
        async with connect(ws_url) as ws:
            async for message in ws:
                if json.loads(message).get("type") == "media_moved":
                    noted.append(time.monotonic())


# ---------------------------------------------------------------- 1. failover


async def one_kill(
    nodes: Cluster, db: asyncpg.Connection, number: int, *, recover_within: float
) -> dict[str, Any]:
    creator = nodes.nodes[number % NODES]
    host = await register(creator.url)
    space = await host.ok("POST", "/api/spaces", json={"title": f"Failover {number + 1}"})
    sid = str(space["id"])
    first_url = await wait_for_lease(db, sid)
    owner = nodes.node_at(first_url)
    assert owner is not None, first_url
    old_node, _ = await lease(db, sid)
    near = nodes.nodes[(owner.index + 1) % NODES]  # the bots' node: not the owner
    run: dict[str, Any] = {
        "kill": number + 1,
        "space": sid,
        "created_through": creator.name,
        "owner": owner.name,
        "bots_through": near.name,
    }
    speaker = await register(near.url)
    await speaker.ok("POST", f"/api/spaces/{sid}/join")
    await speaker.ok("POST", f"/api/spaces/{sid}/hand")
    await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")
    bots = {
        "host": StageBot(near.url, sid, await host.token(), lambda: PcmTrack(tone(HOST_HZ, 1.0))),
        "speaker": StageBot(
            near.url, sid, await speaker.token(), lambda: PcmTrack(tone(SPEAKER_HZ, 1.0))
        ),
    }
    hearing_other = {"host": SPEAKER_HZ, "speaker": HOST_HZ}
    moved: list[float] = []
    tasks: list[asyncio.Task[Any]] = []
    async with HlsListener(near.url, sid) as listener:
        try:
            tasks = [
                asyncio.create_task(bots["host"].run()),
                asyncio.create_task(bots["speaker"].run()),
                asyncio.create_task(listener.run()),
                asyncio.create_task(watch_media_moved(near.url, sid, moved)),
            ]
            began = time.monotonic()

            def all_hear(since: float) -> bool:
                return all(
                    speaker_hears(bots[name], hearing_other[name], since) for name in bots
                ) and listener_hears(listener, since)

            while not all_hear(0.0):
                if time.monotonic() - began > 30 or any(t.done() for t in tasks[:3]):
                    run["error"] = "the bots did not all hear both tones before the kill"
                    run["bots"] = [task_outcome(t) for t in tasks[:3]]
                    return run
                await asyncio.sleep(POLL_SECONDS)
            run["before_kill_s"] = round(time.monotonic() - began, 2)
            await asyncio.sleep(1.0)  # steady
            offers = {name: bot.offers for name, bot in bots.items()}
            resyncs = listener.resyncs

            killed, killed_wall = time.monotonic(), time.time()
            owner.kill()
            await owner.wait()
            row = await db.fetchrow(
                "SELECT media_node, media_lease_until FROM spaces WHERE id = $1", sid
            )
            if row is not None and row["media_node"] == old_node:  # its last renewal
                run["old_lease_ran_out_s"] = round(
                    row["media_lease_until"].timestamp() - killed_wall, 3
                )
            leased = asyncio.create_task(watch_lease(db, sid, old_node, nodes.lease_seconds))
            tasks.append(leased)
            at = Moments(killed)
            guard = killed + GUARD_SECONDS
            wanted = ["lease_seen", "host_heard", "speaker_heard", "listener_heard"]
            while at.missing(wanted) and time.monotonic() - killed < recover_within:
                if leased.done() and at.seen.get("lease_seen") is None:
                    taken = leased.result()
                    at.seen["lease_seen"] = round(taken["seen"] - killed, 3)
                    at.seen["lease"] = round(taken["claimed"] - killed_wall, 3)
                    new_owner = nodes.node_at(taken["url"])
                    run["new_owner"] = new_owner.name if new_owner else taken["url"]
                for name, bot in bots.items():
                    at.note(f"{name}_offer", bot.offers > offers[name])
                    at.note(f"{name}_heard", speaker_hears(bot, hearing_other[name], guard))
                at.note("listener_first_part", listener.resyncs > resyncs)
                at.note("listener_heard", listener_hears(listener, guard))
                await asyncio.sleep(POLL_SECONDS)
            after = [moment for moment in moved if moment >= killed]
            if after:  # the event's own arrival time, not the poll's
                at.seen["media_moved"] = round(after[0] - killed, 3)
            run.update({f"{name}_s": at.seen.get(name) for name in MOMENTS})
            heard = [at.seen.get("host_heard"), at.seen.get("speaker_heard")]
            run["speakers_heard_s"] = (
                None if None in heard else max(h for h in heard if h is not None)
            )
            run["listener_heard_s"] = at.seen.get("listener_heard")
            run["offers"] = {name: bot.offers for name, bot in bots.items()}
            run["listener_resyncs"] = listener.resyncs
            run["bots"] = [task_outcome(t) for t in tasks[:3]]
            return run
        finally:
            await stop_tasks(tasks)
            await end_space(near.url, host, sid)
            await host.aclose()
            await speaker.aclose()
            if not owner.running:
                run["restart_s"] = round(await owner.start(), 2)


#: What each kill notes, in the order things happen ("lease": claimed, by the lease's own
#: time; "lease_seen": found in the database by the 25 ms poll).
MOMENTS = [
    "lease",
    "lease_seen",
    "media_moved",
    "host_offer",
    "speaker_offer",
    "host_heard",
    "speaker_heard",
    "listener_first_part",
    "listener_heard",
]


def spread(values: list[float | None]) -> dict[str, Any]:
    got = [v for v in values if v is not None]
    if not got:
        return {"n": 0, "missing": len(values)}
    return {
        "n": len(got),
        "missing": len(values) - len(got),
        "median_s": round(statistics.median(got), 2),
        "min_s": round(min(got), 2),
        "max_s": round(max(got), 2),
    }


async def failover(nodes: Cluster, kills: int, recover_within: float) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    db = await asyncpg.connect(nodes.dsn)
    try:
        for number in range(kills):
            run = await one_kill(nodes, db, number, recover_within=recover_within)
            runs.append(run)
            console.print(f"kill {number + 1}/{kills}: {brief(run)}")
            await asyncio.sleep(1.0)
    finally:
        await db.close()
    return runs


def brief(run: dict[str, Any]) -> str:
    if "error" in run:
        return f"{run['error']} ({'; '.join(run.get('bots', []))})"

    def s(key: str) -> str:
        value = run.get(key)
        return "—" if value is None else f"{value:.2f} s"

    return (
        f"{run['owner']} killed (bots through {run['bots_through']}), its lease ran out "
        f"{s('old_lease_ran_out_s')}, taken {s('lease_s')} "
        f"→ {run.get('new_owner', '?')}, speakers {s('speakers_heard_s')}, "
        f"listener {s('listener_heard_s')}"
    )


# ---------------------------------------------------------------- 2. leases and CPU


def tone_source(frequency: float) -> Callable[[], MediaStreamTrack]:
    """A bot's microphone: a steady tone (a new track for each connection)."""
    return lambda: PcmTrack(tone(frequency, 1.0))


@dataclass
class LiveSpace:
    index: int
    space_id: str
    host: Account
    frequency: float
    bot: StageBot
    task: asyncio.Task[None]
    created_through: Node
    bots_through: Node


def ours_pct(cpu: dict[str, float], nodes: Cluster) -> float:
    """The nodes' and the bots' CPU together, as % of the machine (all its cores)."""
    used = sum(cpu[node.name] for node in nodes.nodes) + cpu["bots"]
    return round(used / (os.cpu_count() or 1), 1)


async def load(
    nodes: Cluster, spaces: int, seconds: float, cpu_limit: float, basis: str
) -> dict[str, Any]:
    live: list[LiveSpace] = []
    ramp: list[dict[str, Any]] = []
    stopped_because = ""
    pids = {node.name: node.pid for node in nodes.nodes} | {"bots": os.getpid()}
    db = await asyncpg.connect(nodes.dsn)
    try:
        for index in range(spaces):
            creator = nodes.nodes[index % NODES]
            through = nodes.nodes[(index + 1) % NODES]
            frequency = 200.0 + 40.0 * index
            host = await register(creator.url)
            sid = str((await host.ok("POST", "/api/spaces", json={"title": f"Load {index}"}))["id"])
            bot = StageBot(through.url, sid, await host.token(), tone_source(frequency))
            task = asyncio.create_task(bot.run())
            live.append(LiveSpace(index, sid, host, frequency, bot, task, creator, through))
            began = time.monotonic()
            while not bot.hearing and not task.done():
                if time.monotonic() - began > 20:
                    break
                await asyncio.sleep(POLL_SECONDS)
            if not bot.hearing:
                stopped_because = f"space {index + 1}'s bot did not connect ({task_outcome(task)})"
                break
            joined = round(time.monotonic() - began, 2)
            await asyncio.sleep(1.0)
            meter = Meter(pids).start()
            await asyncio.sleep(2.0)
            cpu = meter.read()
            cpu["ours"] = ours_pct(cpu, nodes)
            ramp.append({"spaces": index + 1, "bot_connected_s": joined, "cpu_pct": cpu})
            console.print(
                f"  {index + 1} space(s): machine {cpu['machine']:.0f} %, of it ours "
                f"{cpu['ours']:.0f} % (nodes {', '.join(f'{cpu[n.name]:.0f}' for n in nodes.nodes)}"
                f" % of a core, bots {cpu['bots']:.0f} %)"
            )
            if cpu_limit and cpu[basis] > cpu_limit:
                whose = "the machine's CPU" if basis == "machine" else "the nodes' and bots' CPU"
                stopped_because = (
                    f"{whose} passed {cpu_limit:g} % of the machine ({cpu[basis]:.0f} %) "
                    f"with {index + 1} spaces"
                )
                break
        ids = [space.space_id for space in live]
        leases_before = await leases_by_url(db, ids)
        meter = Meter(pids).start()
        await asyncio.sleep(seconds)
        cpu = meter.read()
        leases_after = await leases_by_url(db, ids)
        hearing = sum(space.bot.hearing for space in live)
        tones = await asyncio.gather(*(hls_tone(nodes, space) for space in live))
        per_node = [
            {
                "node": node.name,
                "leases": leases_after.get(node.url, 0),
                "leases_at_window_start": leases_before.get(node.url, 0),
                "spaces_created_through": sum(1 for s in live if s.created_through is node),
                "bots_connected_through": sum(1 for s in live if s.bots_through is node),
                "cpu_pct": cpu[node.name],
            }
            for node in nodes.nodes
        ]
        return {
            "spaces_asked": spaces,
            "spaces_ran": len(live),
            "stopped_because": stopped_because,
            "window_s": seconds,
            "nodes": per_node,
            "nodes_cpu_pct_total": round(sum(cpu[node.name] for node in nodes.nodes), 1),
            "bots_cpu_pct": cpu["bots"],
            "machine_cpu_pct": cpu["machine"],
            "ours_cpu_pct_of_machine": ours_pct(cpu, nodes),
            "leases_total": sum(leases_after.values()),
            "leases_elsewhere": {
                url: n for url, n in leases_after.items() if nodes.node_at(url) is None
            },
            "bots_hearing_at_end": hearing,
            "spaces_with_tone_on_hls": sum(tones),
            "ramp": ramp,
        }
    finally:
        await stop_tasks([space.task for space in live])
        for space in live:
            await end_space(space.created_through.url, space.host, space.space_id)
            await space.host.aclose()
        await db.close()


async def hls_tone(nodes: Cluster, space: LiveSpace) -> bool:
    """A second of the space's LL-HLS, through the node neither creator nor the bot's,
    carries its speaker's tone."""
    url = nodes.nodes[(space.index + 2) % NODES].url
    with contextlib.suppress(Exception):
        async with HlsListener(url, space.space_id) as listener, asyncio.timeout(15):
            audio = await listener.listen(1.0)
            return tone_strength(audio, space.frequency) > HEARD
    return False


# ---------------------------------------------------------------- output


def show(title: str, headers: list[str], rows: list[list[object]]) -> None:
    table = Table(title=title, title_justify="left")
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    console.print(table)


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def goal(values: list[float | None], limit: float) -> dict[str, Any]:
    """Met when every kill was heard again within ``limit``."""
    over = sum(1 for v in values if v is None or v > limit)
    return {"goal_s": limit, "kills": len(values), "over_or_missing": over, "met": over == 0}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    done = [run for run in runs if "error" not in run]
    summary: dict[str, Any] = {
        "kills": len(runs),
        "kills_measured": len(done),
        **{
            name: spread([run.get(f"{name}_s") for run in done])
            for name in ["old_lease_ran_out", *MOMENTS]
        },
        "speakers_heard": spread([run.get("speakers_heard_s") for run in done]),
        "listener_heard": spread([run.get("listener_heard_s") for run in done]),
    }
    summary["goal_speakers"] = goal([run.get("speakers_heard_s") for run in runs], GOAL_SPEAKERS)
    summary["goal_listener"] = goal([run.get("listener_heard_s") for run in runs], GOAL_LISTENER)
    return summary


LABELS = {
    "old_lease_ran_out": "the dead owner's lease runs out",
    "lease": "another node claims the lease",
    "lease_seen": "… seen in the database (25 ms poll)",
    "media_moved": "media_moved reaches the bots' node",
    "host_offer": "host bot's new offer answered",
    "speaker_offer": "speaker bot's new offer answered",
    "host_heard": "host hears the speaker's tone again",
    "speaker_heard": "speaker hears the host's tone again",
    "speakers_heard": "speakers heard again (the later of the two)",
    "listener_first_part": "listener's first part of the new run",
    "listener_heard": "listener hears both tones again",
}


def report_failover(runs: list[dict[str, Any]], summary: dict[str, Any], lease_s: float) -> None:
    headers = ["kill", "killed", "bots via", "new owner", "lease", "media_moved",
               "offers host / speaker", "speakers heard", "listener 1st part",
               "listener heard"]  # fmt: skip
    rows: list[list[object]] = []
    for run in runs:
        if "error" in run:
            rows.append([run["kill"], run.get("owner", "?"), run["error"], *[""] * 7])
            continue
        rows.append(
            [run["kill"], run["owner"], run["bots_through"], run.get("new_owner", "—"),
             fmt(run["lease_s"]), fmt(run["media_moved_s"]),
             f"{fmt(run['host_offer_s'])} / {fmt(run['speaker_offer_s'])}",
             fmt(run["speakers_heard_s"]), fmt(run["listener_first_part_s"]),
             fmt(run["listener_heard_s"])]
        )  # fmt: skip
    show(f"Seconds from kill -9 of the owner, each kill (media lease {lease_s:g} s)", headers, rows)
    rows = []
    for name, label in LABELS.items():
        got = summary[name]
        kills = f"{got['n']}" + (f" ({got['missing']} missing)" if got["missing"] else "")
        if got["n"]:
            rows.append(
                [label, f"{got['median_s']:.2f}", f"{got['min_s']:.2f}", f"{got['max_s']:.2f}",
                 kills]
            )  # fmt: skip
        else:
            rows.append([label, "—", "—", "—", kills])
    show(
        "Seconds from the kill, over the kills",
        ["from the kill to", "median", "min", "max", "kills"],
        rows,
    )
    for label, key in (("speakers heard again", "goal_speakers"), ("listener", "goal_listener")):
        g = summary[key]
        verdict = "met" if g["met"] else f"not met ({g['over_or_missing']} of {g['kills']} over)"
        console.print(f"goal: {label} ≤ {g['goal_s']:g} s after the kill, every kill: {verdict}")


def report_load(result: dict[str, Any]) -> None:
    rows: list[list[object]] = [
        [row["node"], row["leases"], row["spaces_created_through"], row["bots_connected_through"],
         f"{row['cpu_pct']:.1f}"]
        for row in result["nodes"]
    ]  # fmt: skip
    rows.append(["all nodes", result["leases_total"], result["spaces_ran"], result["spaces_ran"],
                 f"{result['nodes_cpu_pct_total']:.1f}"])  # fmt: skip
    rows.append(["bots (this process)", "", "", "", f"{result['bots_cpu_pct']:.1f}"])
    show(
        f"{result['spaces_ran']} of {result['spaces_asked']} live spaces, one speaker each, "
        f"over {result['window_s']:g} s (CPU in % of one core; the machine "
        f"{result['machine_cpu_pct']:.0f} % of all its cores, of it nodes + bots "
        f"{result['ours_cpu_pct_of_machine']:.0f} %)",
        ["node", "leases", "spaces created through", "bots through", "CPU %"],
        rows,
    )
    if result["stopped_because"]:
        console.print(f"ramp stopped: {result['stopped_because']}")
    console.print(
        f"bots hearing at the end: {result['bots_hearing_at_end']}/{result['spaces_ran']}; "
        f"spaces whose LL-HLS carries their tone: "
        f"{result['spaces_with_tone_on_hls']}/{result['spaces_ran']}"
    )


# ---------------------------------------------------------------- main


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """aiortc and the bots log at every reconnection; keep the tables readable."""
    names = ("aiortc", "aioice", "salon", "websockets", "httpx")
    previous = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="salon-bench-failover-") as tmp:
        console.print(f"starting {NODES} nodes (media lease {args.lease:g} s, PostgreSQL, Redis) …")
        async with cluster(
            Path(tmp),
            nodes=NODES,
            admin_dsn=args.postgres,
            redis_url=args.redis,
            lease_seconds=args.lease,
        ) as nodes:
            try:
                result: dict[str, Any] = {}
                began = time.monotonic()
                if args.kills:
                    runs = await failover(nodes, args.kills, args.recover_within)
                    result["failover"] = {"runs": runs, "summary": summarise(runs)}
                    result["failover_wall_s"] = round(time.monotonic() - began, 1)
                if args.spaces:
                    began = time.monotonic()
                    console.print(f"adding up to {args.spaces} live spaces …")
                    result["load"] = await load(
                        nodes, args.spaces, args.seconds, args.cpu_limit, args.cpu_basis
                    )
                    result["load_wall_s"] = round(time.monotonic() - began, 1)
                return result
            except BaseException:
                for node in nodes.nodes:
                    tail = node.log_tail(1500).strip()
                    if tail:
                        console.print(f"[dim]{node.name}'s log:\n{tail}[/]")
                raise


def main() -> None:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--kills", type=int, default=5, help="owner kills to time (0: skip)")
    parser.add_argument(
        "--spaces", type=int, default=20, help="live spaces for the lease/CPU part (0: skip)"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="the CPU measuring window")
    parser.add_argument(
        "--cpu-limit",
        type=float,
        default=70.0,
        help="stop adding spaces once the machine's CPU (%% of all cores) passes this (0: never)",
    )
    parser.add_argument(
        "--cpu-basis",
        choices=["machine", "ours"],
        default="machine",
        help="what --cpu-limit reads: the whole machine (/proc/stat), or only the nodes and "
        "the bots (for a machine others share)",
    )
    parser.add_argument(
        "--lease", type=float, default=3.0, help="SALON_MEDIA_LEASE_SECONDS of the nodes"
    )
    parser.add_argument(
        "--recover-within", type=float, default=30.0, help="how long to wait after each kill"
    )
    parser.add_argument("--postgres", default=ADMIN_DSN, help="PostgreSQL admin database")
    parser.add_argument("--redis", default=REDIS_URL, help="Redis URL")
    args = parser.parse_args()
    if not 0 <= args.kills <= 20:
        parser.error("--kills is 0 to 20")
    if not 0 <= args.spaces <= 50:
        parser.error("--spaces is 0 to 50")
    if not args.kills and not args.spaces:
        parser.error("nothing to do: --kills and --spaces are both 0")
    if not 1 <= args.seconds <= 60:
        parser.error("--seconds is 1 to 60")
    if not 1 <= args.lease <= 60:
        parser.error("--lease is 1 to 60 (the nodes' own limits)")
    if not 5 <= args.recover_within <= 120:
        parser.error("--recover-within is 5 to 120")
    host = machine()
    started = time.monotonic()
    with quiet_logs():
        result = asyncio.run(run(args))
    data: dict[str, Any] = {
        "parameters": {
            "nodes": NODES,
            "kills": args.kills,
            "spaces": args.spaces,
            "seconds": args.seconds,
            "cpu_limit_pct": args.cpu_limit,
            "cpu_limit_basis": args.cpu_basis,
            "media_lease_seconds": args.lease,
            "recover_within_s": args.recover_within,
            "same_space_each_kill": False,
            "heard_threshold_tone_strength": HEARD,
            "speaker_window_s": SPEAKER_WINDOW,
            "listener_window_s": LISTENER_WINDOW,
            "guard_after_kill_s": GUARD_SECONDS,
            "poll_s": POLL_SECONDS,
        },
        "summary": {},
        "runs": {},
        "wall_s": round(time.monotonic() - started, 1),
    }
    host["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    if "failover" in result:
        failed = result["failover"]
        report_failover(failed["runs"], failed["summary"], args.lease)
        data["summary"]["failover"] = failed["summary"]
        data["runs"]["failover"] = failed["runs"]
        data["failover_wall_s"] = result["failover_wall_s"]
    if "load" in result:
        loaded = result["load"]
        report_load(loaded)
        ramp = loaded.pop("ramp")
        data["summary"]["load"] = loaded
        data["runs"]["load_ramp"] = ramp
        data["load_wall_s"] = result["load_wall_s"]
    path = save("failover", data, host=host)
    console.print(f"saved {path.relative_to(path.parent.parent.parent)} ({data['wall_s']:.0f} s)")


if __name__ == "__main__":
    main()
