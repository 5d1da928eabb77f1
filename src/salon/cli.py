"""The ``salon`` command: run the server and do the operator's chores."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler

from salon.config import get_settings
from salon.domain.errors import DomainError

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


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(name)s: %(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=console, rich_tracebacks=True, show_path=False)],
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run Salon (API, event streams, migrations on start) in this process."""
    import uvicorn

    from salon.app import create_app

    settings = get_settings()
    _setup_logging(settings.log_level)
    listen_host = host or settings.host
    listen_port = port or settings.port
    console.print(f"[bold]Salon[/] on http://{listen_host}:{listen_port}  (API docs: /docs)")
    uvicorn.run(
        create_app(settings),
        host=listen_host,
        port=listen_port,
        log_config=None,
        proxy_headers=True,
        ws="websockets-sansio",
        ws_ping_interval=20,
    )


async def _with_context(work: Callable[..., Awaitable[T]]) -> T:
    from salon.app import create_app

    app = create_app(get_settings())
    async with app.router.lifespan_context(app):
        result: T = await work(app.state.ctx)
        return result


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
        engine = create_engine(settings.database_url)
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
            ctx, handle=handle, display_name=display_name or handle, password=password
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
    server: ServerOpt = "http://127.0.0.1:8000",
) -> None:
    """Join a space's stage over WebRTC (WHIP) and speak a file or a tone."""
    from salon.bots.analysis import dominant_frequency
    from salon.bots.speaker import WhipRefused, WhipSpeaker
    from salon.bots.tracks import PcmTrack, read_audio
    from salon.bots.tracks import tone as make_tone
    from salon.media.levels import level_dbfs

    if (file is None) == (tone is None):
        raise typer.BadParameter("give exactly one of --file or --tone")
    pcm = read_audio(file) if file is not None else make_tone(tone or 440.0, 1.0)

    async def run() -> None:
        async with WhipSpeaker(server, space, token, PcmTrack(pcm)) as bot:
            console.print(f"[green]Speaking[/] in space {space} (session {bot.location})")
            elapsed = 0.0
            while seconds <= 0 or elapsed < seconds:
                await asyncio.sleep(1.0)
                elapsed += 1.0
                heard = bot.recent(1.0)
                console.print(
                    f"{elapsed:5.0f}s  connection {bot.pc.connectionState:<10} hearing "
                    f"{level_dbfs(heard):6.1f} dBFS, strongest {dominant_frequency(heard):6.0f} Hz"
                )
                if bot.closed.is_set():
                    console.print("[yellow]The server closed the connection.[/]")
                    return

    try:
        asyncio.run(run())
    except WhipRefused as exc:
        console.print(f"[red]Refused:[/] {exc}")
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        pass


@bot_app.command("listen")
def bot_listen(
    space: SpaceOpt,
    seconds: Annotated[float, typer.Option(help="How long to listen.")] = 10,
    token: Annotated[
        str | None, typer.Option(envvar="SALON_TOKEN", help="Personal API token (optional).")
    ] = None,
    server: ServerOpt = "http://127.0.0.1:8000",
) -> None:
    """Follow a space's LL-HLS stream and report what it hears, second by second."""
    import statistics

    from salon.bots.analysis import dominant_frequency
    from salon.bots.listener import HlsListener
    from salon.media.levels import level_dbfs

    headers = {"Authorization": f"Bearer {token}"} if token else None

    async def run() -> None:
        async with HlsListener(server, space, headers=headers) as hls:
            for second in range(1, int(seconds) + 1):
                audio = await hls.listen(1.0)
                delay = statistics.median(hls.delays[-5:]) if hls.delays else float("nan")
                console.print(
                    f"{second:5d}s  level {level_dbfs(audio):6.1f} dBFS, strongest "
                    f"{dominant_frequency(audio):6.0f} Hz, {delay * 1000:5.0f} ms behind live"
                )

    asyncio.run(run())


def main() -> None:
    app()
