"""The ``salon`` command: run the server and do the operator's chores."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler

from salon.config import Settings, get_settings
from salon.domain.errors import DomainError

if TYPE_CHECKING:
    import uvicorn

    from salon.edge import OriginNode

T = TypeVar("T")

app = typer.Typer(
    help="Salon: self-hostable live audio rooms. Settings come from SALON_* variables.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="Database chores.", no_args_is_help=True)
user_app = typer.Typer(help="Account chores for operators.", no_args_is_help=True)
bot_app = typer.Typer(help="Bots that speak and listen, for demos, tests and load.")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(bot_app, name="bot")
console = Console()


def _setup_logging(level: str, *, quiet: tuple[str, ...] = ()) -> None:
    """Rich log lines at ``level``; the ``quiet`` loggers only from WARNING."""
    logging.basicConfig(
        level=level.upper(),
        format="%(name)s: %(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=console, rich_tracebacks=True, show_path=False)],
    )
    for name in quiet:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run Salon (API, event streams, migrations on start) in this process."""
    import uvicorn

    from salon.app import create_app
    from salon.serving import uvicorn_options

    settings = get_settings()
    _setup_logging(settings.log_level)
    _check_database(settings)
    listen_host = host or settings.host
    listen_port = port or settings.port
    # What this node is reached at (its media leases name it, for the other nodes).
    settings = settings.model_copy(update={"host": listen_host, "port": listen_port})
    console.print(f"[bold]Salon[/] on http://{listen_host}:{listen_port}  (API docs: /docs)")
    uvicorn.run(
        create_app(settings), host=listen_host, port=listen_port, **uvicorn_options(settings)
    )


@app.command()
def edge(
    origin_port: Annotated[
        int | None,
        typer.Option(
            help="Run the Salon origin in this process on this port (127.0.0.1) "
            "\\[default: 8000, unless --origin is given]."
        ),
    ] = None,
    origins: Annotated[
        list[str] | None,
        typer.Option(
            "--origin",
            help="A Salon node already running elsewhere, HOST:PORT; repeat for each node. "
            "The edge then fronts them and runs no origin itself.",
        ),
    ] = None,
    http_port: Annotated[int, typer.Option(help="The edge's HTTP/1.1 port.")] = 8080,
    https_port: Annotated[int, typer.Option(help="The edge's HTTPS (HTTP/2) port.")] = 8443,
    directory: Annotated[
        Path | None,
        typer.Option(help="Rendered configuration, certificate and logs \\[default: VAR_DIR/edge]"),
    ] = None,
    cache_size: Annotated[str, typer.Option(help="The audio cache's memory.")] = "256m",
    listen: Annotated[
        str,
        typer.Option(
            help="The address nginx listens on (0.0.0.0: every interface, as in a "
            "container). A local origin stays on 127.0.0.1."
        ),
    ] = "127.0.0.1",
) -> None:
    """Run Salon behind its caching edge: the origin on 127.0.0.1, nginx in front (HTTP/1.1,
    and HTTP/2 over TLS with a self-signed certificate) caching and collapsing its audio.
    Ctrl-C stops both. With --origin (repeated), front those nodes instead: nginx spreads
    requests over them and skips one that does not answer."""
    import uvicorn

    from salon.app import create_app
    from salon.edge import Edge, EdgeError
    from salon.serving import uvicorn_options

    settings = get_settings()
    _setup_logging(settings.log_level, quiet=("httpx",))
    if origins:
        if origin_port is not None:
            console.print("[red]error:[/] give either --origin-port or --origin, not both")
            raise typer.Exit(code=1)
        _front(
            origins,
            http_port=http_port,
            https_port=https_port,
            directory=directory or settings.var_dir / "edge",
            cache_size=cache_size,
            settings=settings,
            listen=listen,
        )
        return
    origin_port = origin_port or 8000
    _check_database(settings)
    settings = settings.model_copy(update={"host": "127.0.0.1", "port": origin_port})
    origin = _edge_origin(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=origin_port, **uvicorn_options(settings)
        )
    )
    front = Edge(
        origin_port=origin_port,
        http_port=http_port,
        https_port=https_port,
        directory=directory or settings.var_dir / "edge",
        edge_secret=settings.edge_secret(),
        cache_size=cache_size,
        listen=listen,
    )

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        async def serve_origin() -> None:
            try:
                await origin.serve()
            except SystemExit:  # uvicorn's answer to a port it cannot bind
                raise EdgeError(
                    f"the Salon origin could not start on 127.0.0.1:{origin_port} (see above)"
                ) from None

        serving = asyncio.create_task(serve_origin())
        try:
            with console.status(f"Starting the Salon origin on 127.0.0.1:{origin_port}…"):
                while not origin.started:
                    if serving.done():
                        serving.result()  # its error, if it has one
                        raise EdgeError("the Salon origin stopped while starting")
                    if stop.is_set():
                        raise EdgeError("stopped while starting")
                    await asyncio.sleep(0.05)
            with console.status("Starting nginx…"):
                await front.start()
            try:
                certificate = front.certificate.certificate if front.certificate else "?"
                console.print(
                    f"[bold]Salon[/] behind its edge on [bold]{front.http_url}[/] and "
                    f"[bold]{front.https_url}[/] (HTTP/2; self-signed certificate "
                    f"{certificate}); origin http://127.0.0.1:{origin_port}, logs in "
                    f"{front.logs}. Ctrl-C stops all."
                )
                watchers = {
                    asyncio.ensure_future(stop.wait()): "stop",
                    asyncio.ensure_future(front.wait()): "edge",
                    serving: "origin",
                }
                done, _ = await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
                for watcher in watchers:
                    if watcher is not serving:
                        watcher.cancel()
                which = watchers[done.pop()]
                if which == "edge":
                    raise EdgeError(f"the edge stopped by itself; see the logs in {front.logs}")
                if which == "origin":
                    raise EdgeError("the Salon origin stopped by itself")
            finally:
                with console.status("Stopping nginx…"):
                    await front.stop()
        finally:
            origin.should_exit = True
            await asyncio.gather(serving, return_exceptions=True)

    try:
        asyncio.run(run())
    except EdgeError as exc:
        console.print(f"[red]edge:[/] {exc}")
        raise typer.Exit(code=1) from None
    console.print("Stopped Salon and nginx.")


def _front(
    origins: list[str],
    *,
    http_port: int,
    https_port: int,
    directory: Path,
    cache_size: str,
    settings: Settings,
    listen: str,
) -> None:
    """``salon edge --origin …``: nginx in front of nodes running elsewhere."""
    from salon.edge import Edge, EdgeError, parse_origins

    if not (settings.secret_key or settings.edge_secret_key):
        console.print(
            "[red]error:[/] in front of other nodes the edge needs their SALON_SECRET_KEY "
            "(or SALON_EDGE_SECRET_KEY) to check audio credentials and report listeners"
        )
        raise typer.Exit(code=1)
    try:
        nodes = parse_origins(origins)
        front = Edge(
            origins=nodes,
            http_port=http_port,
            https_port=https_port,
            directory=directory,
            edge_secret=settings.edge_secret(),
            cache_size=cache_size,
            listen=listen,
        )
    except EdgeError as exc:
        console.print(f"[red]edge:[/] {exc}")
        raise typer.Exit(code=1) from None

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            with console.status("Starting nginx…"):
                starting = asyncio.ensure_future(front.start())
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not starting.done():
                    starting.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await starting
                    return
                starting.result()
            up = await _answering(nodes)
            certificate = front.certificate.certificate if front.certificate else "?"
            console.print(
                f"[bold]Salon's edge[/] on [bold]{front.http_url}[/] and "
                f"[bold]{front.https_url}[/] (HTTP/2; self-signed certificate {certificate}) "
                f"in front of {len(nodes)} node(s); logs in {front.logs}. Ctrl-C stops it."
            )
            for node, answers in zip(nodes, up, strict=True):
                state = "[green]answers /healthz[/]" if answers else "[yellow]not answering yet[/]"
                console.print(f"  origin {node}: {state}")
            stopping = asyncio.ensure_future(stop.wait())
            watching = asyncio.ensure_future(front.wait())
            done, _ = await asyncio.wait({stopping, watching}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            watching.cancel()
            if watching in done:
                raise EdgeError(f"{watching.result()} stopped by itself; see {front.logs}")
        finally:
            with console.status("Stopping nginx…"):
                await front.stop()

    try:
        asyncio.run(run())
    except EdgeError as exc:
        console.print(f"[red]edge:[/] {exc}")
        raise typer.Exit(code=1) from None
    console.print("Stopped nginx.")


async def _answering(nodes: Sequence[OriginNode]) -> list[bool]:
    """Which nodes answer /healthz with 200 now (each given 2 s)."""
    import httpx

    async def one(client: httpx.AsyncClient, node: OriginNode) -> bool:
        try:
            return (await client.get(f"{node.url}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    async with httpx.AsyncClient(timeout=2) as client:
        return list(await asyncio.gather(*(one(client, node) for node in nodes)))


@app.command()
def cluster(
    node_port: Annotated[
        list[int] | None,
        typer.Option(
            "--node-port",
            help="A node's port on 127.0.0.1; repeat once per node \\[default: 8001 8002 8003].",
        ),
    ] = None,
    http_port: Annotated[int, typer.Option(help="The edge's HTTP/1.1 port.")] = 8080,
    https_port: Annotated[int, typer.Option(help="The edge's HTTPS (HTTP/2) port.")] = 8443,
    database: Annotated[
        str, typer.Option(help="The cluster's own PostgreSQL database (created if missing).")
    ] = "salon_cluster",
    postgres: Annotated[
        str, typer.Option(help="The PostgreSQL server (a postgresql:// URL, no database).")
    ] = "postgresql://postgres@127.0.0.1:5432",
    redis: Annotated[str, typer.Option(help="The Redis the nodes share.")] = (
        "redis://127.0.0.1:6379/0"
    ),
    redis_prefix: Annotated[
        str, typer.Option(help="The cluster's own Redis key prefix.")
    ] = "salon-cluster:",
    directory: Annotated[
        Path | None,
        typer.Option(
            help="Secret key, recordings, nodes' var directories, edge and logs "
            "\\[default: VAR_DIR/cluster]"
        ),
    ] = None,
    cache_size: Annotated[str, typer.Option(help="The audio cache's memory.")] = "256m",
) -> None:
    """Run several Salon nodes on PostgreSQL and Redis behind the caching edge, all on
    127.0.0.1, for trying Salon as several nodes. Ctrl-C stops everything."""
    from salon.cluster import DEFAULT_NODE_PORTS, ClusterError, ClusterPlan, run_cluster

    settings = get_settings()
    # Each request of the health checks and listener reports is no news.
    _setup_logging(settings.log_level, quiet=("httpx", "alembic"))
    plan = ClusterPlan(
        directory=directory or settings.var_dir / "cluster",
        database=database,
        postgres=postgres,
        redis_url=redis,
        redis_prefix=redis_prefix,
        node_ports=tuple(node_port or DEFAULT_NODE_PORTS),
        http_port=http_port,
        https_port=https_port,
        cache_size=cache_size,
    )

    def say(line: str) -> None:
        console.print(line, highlight=False, soft_wrap=True)

    try:
        outcome = asyncio.run(run_cluster(plan, say=say, status=console.status))
    except ClusterError as exc:
        console.print(f"[red]cluster:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None
    console.print(f"Cluster {outcome}: its nodes and nginx are down.")


@app.command("cluster-clean")
def cluster_clean(
    database: Annotated[str, typer.Option(help="The cluster's database.")] = "salon_cluster",
    postgres: Annotated[str, typer.Option(help="The PostgreSQL server.")] = (
        "postgresql://postgres@127.0.0.1:5432"
    ),
    redis: Annotated[str, typer.Option(help="The Redis the nodes share.")] = (
        "redis://127.0.0.1:6379/0"
    ),
    redis_prefix: Annotated[
        str, typer.Option(help="The cluster's Redis key prefix (only its keys go).")
    ] = "salon-cluster:",
    directory: Annotated[
        Path | None, typer.Option(help="The cluster's folder \\[default: VAR_DIR/cluster]")
    ] = None,
) -> None:
    """Forget `salon cluster`'s state: drop its database, delete its Redis keys (its prefix
    only) and its folder. Refuses while the cluster runs."""
    from salon.cluster import ClusterError, ClusterPlan, clean_cluster

    settings = get_settings()
    plan = ClusterPlan(
        directory=directory or settings.var_dir / "cluster",
        database=database,
        postgres=postgres,
        redis_url=redis,
        redis_prefix=redis_prefix,
    )
    try:
        asyncio.run(clean_cluster(plan, lambda line: console.print(line, highlight=False)))
    except ClusterError as exc:
        console.print(f"[red]cluster-clean:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None


def _edge_origin(config: uvicorn.Config) -> uvicorn.Server:
    """uvicorn's server, leaving Ctrl-C to ``salon edge`` (which stops nginx too, then
    the origin)."""
    import uvicorn

    class Origin(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield

    return Origin(config)


async def _with_context(work: Callable[..., Awaitable[T]]) -> T:
    from salon.app import create_app

    app = create_app(get_settings())
    async with app.router.lifespan_context(app):
        result: T = await work(app.state.ctx)
        return result


def _check_database(settings: Settings) -> None:
    """Reach the database (and Redis, for several nodes) before serving: if this node cannot
    run as configured, say so in one line."""
    problems = [*settings.cluster_problems(), *settings.delivery_problems()]
    for problem in problems:
        console.print(f"[red]error:[/] {problem}")
    if problems:
        raise typer.Exit(code=1)
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from salon.store.db import OUTAGE_ERRORS, create_engine

    async def reach() -> None:
        timeout = settings.database_timeout_seconds
        engine = create_engine(settings.database_url, timeout=timeout, statement_timeout=timeout)
        try:
            async with asyncio.timeout(settings.database_timeout_seconds + 1):
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    unreachable: tuple[type[Exception], ...] = (OSError, *OUTAGE_ERRORS)
    try:
        asyncio.run(reach())
    except unreachable as exc:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        console.print(f"[red]error:[/] cannot reach the database at {where}: {reason}")
        raise typer.Exit(code=1) from None
    if settings.redis_url:
        _check_redis(settings)


def _check_redis(settings: Settings) -> None:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    async def reach() -> None:
        client = Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(reach())
    except (OSError, RedisError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        console.print(f"[red]error:[/] cannot reach Redis at {_redis_where(settings)}: {reason}")
        raise typer.Exit(code=1) from None


def _redis_where(settings: Settings) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(settings.redis_url)
    return f"{parts.hostname}:{parts.port or 6379}"


def _run(work: Callable[..., Awaitable[T]]) -> T:
    try:
        return asyncio.run(_with_context(work))
    except DomainError as exc:
        console.print(f"[red]error:[/] {exc.detail}")
        raise typer.Exit(code=1) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to the configured database."""
    from salon.store.db import create_engine
    from salon.store.migrate import upgrade

    settings = get_settings()

    async def go() -> None:
        engine = create_engine(
            settings.database_url, timeout=settings.database_timeout_seconds, statement_timeout=None
        )
        try:
            with console.status("Migrating…"):
                await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(go())
    console.print("[green]Database is up to date.[/]")


@user_app.command("create")
def user_create(
    handle: Annotated[str, typer.Argument(help="1-15 letters, digits or underscores.")],
    display_name: Annotated[str | None, typer.Option(help="Defaults to the handle.")] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
    admin: Annotated[bool, typer.Option("--admin", help="Make the account an admin.")] = False,
) -> None:
    """Create an account (the first one on an instance is always an admin)."""
    from salon.services import accounts
    from salon.services import admin as admin_service
    from salon.services.context import Context

    async def work(ctx: Context) -> str:
        user = await accounts.register(
            ctx,
            handle=handle,
            display_name=display_name or handle,
            password=password,
            by_operator=True,
        )
        if admin and not user.is_admin:
            await admin_service.promote(ctx, handle=handle)
        return "admin" if admin or user.is_admin else "member"

    kind = _run(work)
    console.print(f"[green]Created @{handle}[/] ({kind}).")


@user_app.command("promote")
def user_promote(handle: Annotated[str, typer.Argument(help="The account to make admin.")]) -> None:
    """Make an existing account an admin."""
    from salon.services import admin as admin_service
    from salon.services.context import Context

    async def work(ctx: Context) -> None:
        await admin_service.promote(ctx, handle=handle)

    _run(work)
    console.print(f"[green]@{handle} is now an admin.[/]")


ServerOpt = Annotated[str, typer.Option(help="Salon's base URL.")]
SpaceOpt = Annotated[str, typer.Option("--space", help="The space's id.")]
GiveUpOpt = Annotated[
    float,
    typer.Option(
        min=0.1, help="Stop (exit 1) after this many seconds in a row without hearing the space."
    ),
]


@bot_app.command("speak")
def bot_speak(
    space: SpaceOpt,
    token: Annotated[
        str, typer.Option(envvar="SALON_TOKEN", help="A stage member's personal API token.")
    ],
    file: Annotated[Path | None, typer.Option(help="A sound file to speak (loops).")] = None,
    tone: Annotated[
        float | None, typer.Option(help="Speak a sine tone of this pitch (Hz).")
    ] = None,
    seconds: Annotated[float, typer.Option(help="How long to speak; 0 = until Ctrl-C.")] = 0,
    muted: Annotated[
        bool, typer.Option("--muted", help="Hold the seat with the microphone shut.")
    ] = False,
    give_up_after: GiveUpOpt = 60.0,
    server: ServerOpt = "http://127.0.0.1:8000",
) -> None:
    """Hold a stage seat in a space and speak a file or a tone over WebRTC (WHIP).

    Keeps the space's event stream open (presence), unmutes itself unless a host muted it
    (or --muted), reconnects after drops and restarts, and prints each second what it heard
    in that second and whether it is unmuted. Exits 0 when the space ends, 1 on a refusal or
    after --give-up-after, 3 when the same account took the seat from another device or bot
    ("replaced by your other device": the newest connection wins).
    """
    import time

    from salon.bots.console import report_while, speaker_report
    from salon.bots.stage_bot import StageBot
    from salon.bots.tracks import PcmTrack, read_audio
    from salon.bots.tracks import tone as make_tone

    if (file is None) == (tone is None):
        raise typer.BadParameter("give exactly one of --file or --tone")
    pcm = read_audio(file) if file is not None else make_tone(tone or 440.0, 1.0)

    async def run() -> None:
        bot = StageBot(
            server, space, token, lambda: PcmTrack(pcm), give_up_after=give_up_after, muted=muted
        )
        began = time.monotonic()

        def tick(start: float, end: float) -> None:
            _say(speaker_report(bot, start, end, end - began).line)

        await report_while(bot.run(), tick, seconds=seconds)

    _run_bot(run)


@bot_app.command("listen")
def bot_listen(
    space: SpaceOpt,
    seconds: Annotated[float, typer.Option(help="How long to listen; 0 = until Ctrl-C.")] = 10,
    token: Annotated[
        str | None, typer.Option(envvar="SALON_TOKEN", help="Personal API token (optional).")
    ] = None,
    give_up_after: GiveUpOpt = 60.0,
    server: ServerOpt = "http://127.0.0.1:8000",
) -> None:
    """Follow a space's LL-HLS stream and report, second by second, the parts that arrived.

    Keeps following across errors and server restarts; exits 0 when the space ends.
    """
    import time

    from salon.bots.console import listener_report, report_while
    from salon.bots.listener import HlsListener

    headers = {"Authorization": f"Bearer {token}"} if token else None

    async def run() -> None:
        async with HlsListener(server, space, headers=headers, give_up_after=give_up_after) as hls:
            began = time.monotonic()

            def tick(start: float, end: float) -> None:
                _say(listener_report(hls, start, end, end - began).line)

            await report_while(hls.run(), tick, seconds=seconds)

    _run_bot(run)


@bot_app.command("whep")
def bot_whep(
    space: SpaceOpt,
    seconds: Annotated[float, typer.Option(help="How long to listen; 0 = until Ctrl-C.")] = 10,
    token: Annotated[
        str | None, typer.Option(envvar="SALON_TOKEN", help="Personal API token (optional).")
    ] = None,
    give_up_after: GiveUpOpt = 60.0,
    server: ServerOpt = "http://127.0.0.1:8000",
) -> None:
    """Listen to a space over WebRTC (WHEP) and report, second by second, what arrived.

    Offers again when its connection fails, closes or goes quiet, or its session ended
    (a failover, a restart), waiting out a 503's Retry-After; exits 0 when the space ends.
    """
    import time

    from salon.bots.console import report_while, whep_report
    from salon.bots.whep_listener import WhepListener

    async def run() -> None:
        async with WhepListener(server, space, token=token, give_up_after=give_up_after) as whep:
            began = time.monotonic()

            def tick(start: float, end: float) -> None:
                _say(whep_report(whep, start, end, end - began).line)

            await report_while(whep.run(), tick, seconds=seconds)

    _run_bot(run)


def _say(line: str, style: str = "") -> None:
    """One line, never wrapped (monitors read these line by line) and never markup."""
    console.print(line, style=style, markup=False, highlight=False, soft_wrap=True)


def _run_bot(work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a bot; when it stops, say why in one line and exit with its code."""
    from salon.bots.outcomes import BotStopped

    try:
        asyncio.run(work())
    except BotStopped as stop:
        _say(stop.line, "green" if stop.exit_code == 0 else "red")
        raise typer.Exit(code=stop.exit_code) from None
    except KeyboardInterrupt:
        pass


def main() -> None:
    app()
