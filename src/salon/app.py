"""The ASGI app: wires settings, database, event bus and routes; runs the grace-period sweeper."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError

from salon import __version__
from salon.api import (
    accounts,
    admin,
    audience,
    channels,
    checkout,
    docs,
    events,
    media,
    notifications,
    ops,
    problems,
    replays,
    spaces,
    stage,
    tickets,
    users,
    webapp,
    whep,
    whip,
)
from salon.api.deps import SESSION_COOKIE
from salon.api.forward import Forwarder
from salon.api.hls_fast import HlsFastPath
from salon.api.middleware import AudioCors, OriginCheck, PrivateNoStore, RequestMetrics
from salon.api.webrtc_http import WebRtcCors
from salon.clock import Clock, SystemClock
from salon.config import Settings, get_settings
from salon.domain.audio_credentials import AudioCredentials
from salon.domain.reactions import SlidingWindowLimiter
from salon.events.bus import EventBus
from salon.events.memory import MemoryBus
from salon.events.redis_bus import RedisBus
from salon.media.engine import MediaEngine
from salon.media.hls.stream import SEGMENT_SECONDS
from salon.metrics import SWEEPS
from salon.ownership import MediaOwnership
from salon.payments import make_provider
from salon.services import audience as audience_service
from salon.services import deliveries, mail, payments, presence, push, reactions, recordings
from salon.services import notifications as notification_service
from salon.services.audience import AudienceMeter
from salon.services.audience_view import AudienceFeeds
from salon.services.connections import ConnectionCounts, Connections
from salon.services.context import Context, make_hasher
from salon.services.node_audience import NodeAudience
from salon.services.node_presence import NodeConnections
from salon.services.rate_limits import RateLimits
from salon.services.workers import kicked_forever
from salon.store.db import create_engine, create_sessionmaker
from salon.store.migrate import upgrade

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = settings.database_timeout_seconds
        migrator = create_engine(settings.database_url, timeout=timeout, statement_timeout=None)
        try:
            await upgrade(migrator)
        finally:
            await migrator.dispose()
        engine = create_engine(settings.database_url, timeout=timeout, statement_timeout=timeout)
        node = node_name()
        redis = _redis(settings)
        bus: EventBus
        if redis is None:
            bus = MemoryBus(max_queue=settings.event_queue_size)
        else:
            bus = RedisBus(
                redis, prefix=settings.redis_prefix, node=node, max_queue=settings.event_queue_size
            )
            await bus.start()
        ctx = Context(
            settings=settings,
            sessions=create_sessionmaker(engine),
            bus=bus,
            clock=clock,
            hasher=make_hasher(settings),
            rate_limits=RateLimits(
                storage=settings.rate_limit_storage_uri,
                per_address=settings.sign_in_limit_per_address,
                per_account=settings.sign_in_limit_per_account,
                reactions=SlidingWindowLimiter(
                    limit=settings.reaction_limit, window=settings.reaction_window_seconds
                ),
                prefix=settings.redis_prefix,
            ),
            audio_credentials=AudioCredentials(
                settings.edge_secret(), lifetime=settings.audio_credential_seconds, clock=clock
            ),
            payments=make_provider(settings),
            audience=AudienceMeter(
                clock=clock,
                segment_seconds=SEGMENT_SECONDS,
                window_seconds=settings.audience_window_seconds,
            ),
        )
        app.state.ctx = ctx
        app.state.node = node
        connections: ConnectionCounts
        if redis is None:
            connections = Connections(ctx)
        else:
            connections = NodeConnections(
                ctx,
                redis,
                prefix=settings.redis_prefix,
                node=node,
                heartbeat=settings.node_heartbeat_seconds,
            )
            await connections.beat()
        app.state.connections = connections
        # Connections that died with an earlier process (or node) never said so.
        if dropped := await presence.reconcile(ctx, is_connected=connections.is_connected):
            log.info("%d people in live spaces had no connection left: grace started", dropped)
        media_engine = MediaEngine(settings, bus, clock=clock)
        app.state.engine = media_engine
        app.state.audience_feeds = AudienceFeeds(ctx, speaking=media_engine.speaking)
        media_engine.listener_hooks.append(_count_players(ctx))
        ownership = MediaOwnership(
            ctx, media_engine, node=node, url=settings.own_url, several=redis is not None
        )
        app.state.ownership = ownership
        app.state.forwarder = Forwarder()
        node_audience = (
            None
            if redis is None
            else NodeAudience(
                redis,
                prefix=settings.redis_prefix,
                node=node,
                window_seconds=settings.audience_window_seconds,
            )
        )
        sweeper = asyncio.create_task(
            _sweep_forever(ctx, media_engine, node_audience), name="salon-sweeper"
        )
        bursts = asyncio.create_task(_send_bursts_forever(ctx), name="salon-reaction-bursts")
        # Fan-outs (a space going live tells its host's followers): at once after the commit
        # that added one, and every sweep for any another node left unfinished.
        fanout_kick = asyncio.Event()
        ctx.on_fanout = fanout_kick.set
        fanouts = asyncio.create_task(
            kicked_forever(
                ctx, fanout_kick, lambda: notification_service.run_fanouts(ctx), "fan-out"
            ),
            name="salon-fanouts",
        )
        # Pushes and e-mails (the outbox): at once after a commit that queued some.
        delivery_kick = asyncio.Event()
        ctx.on_delivery = delivery_kick.set
        senders: dict[str, deliveries.Sender] = {}
        if settings.web_push:
            senders[deliveries.PUSH] = push.send
        if settings.email_enabled:
            senders[deliveries.EMAIL] = mail.send
        sending = asyncio.create_task(
            kicked_forever(
                ctx, delivery_kick, lambda: deliveries.send_due(ctx, senders), "sending"
            ),
            name="salon-deliveries",
        )
        upkeep = asyncio.create_task(connections.run(), name="salon-node-heartbeat")
        leases = asyncio.create_task(ownership.run(), name="salon-media-leases")
        log.info(
            "salon %s ready as node %s (database: %s%s)",
            __version__,
            node,
            engine.url.render_as_string(),
            "" if redis is None else f"; Redis, key prefix {settings.redis_prefix!r}",
        )
        # Everything made so far lives as long as the process: out of the collector's sight,
        # the full collections a busy audience triggers stop walking it again and again.
        gc.freeze()
        try:
            yield
        finally:
            for task in (leases, sweeper, bursts, fanouts, sending, upkeep):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.audience_feeds.close()
            await ownership.close()
            await media_engine.close()
            await app.state.forwarder.close()
            await ctx.payments.close()
            await connections.close()
            await bus.close()
            if redis is not None:
                await redis.aclose()
            await engine.dispose()

    app = SalonApp(
        title="Salon",
        version=__version__,
        summary="Live audio rooms: spaces, a stage, and everyone listening.",
        lifespan=lifespan,
        # /docs is api/docs.py (Swagger UI from the web build, not a CDN); no ReDoc.
        docs_url=None,
        redoc_url=None,
        # Metrics are Prometheus's (/metrics); FastAPI's OpenTelemetry hook, unused, cost
        # every request a look at the environment for a tracer provider.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    problems.install(app)
    for router in (
        # Before media: its /hls/audience.json paths are not media names.
        audience.router,
        replays.router,
        accounts.router,
        users.router,
        admin.router,
        spaces.router,
        stage.router,
        media.router,
        whip.router,
        whep.router,
        events.router,
        notifications.router,
        channels.router,
        tickets.router,
        checkout.router,
        ops.router,
        docs.router,
    ):
        app.include_router(router)
    # Last: it answers every GET path the routes above do not.
    app.include_router(webapp.router)
    app.add_middleware(
        OriginCheck,
        allowed=settings.allowed_origins,
        webrtc_allowed=settings.whip_allowed_origins,
    )
    app.add_middleware(WebRtcCors, allowed=settings.whip_allowed_origins)
    app.add_middleware(AudioCors)
    app.add_middleware(PrivateNoStore, session_cookie=SESSION_COOKIE)
    app.add_middleware(RequestMetrics)
    return app


class SalonApp(FastAPI):
    """FastAPI, and the live LL-HLS hot path the HTTP server answers before it
    (``hot_path``: ``api/hls_fast.py``, served by ``api/hls_protocol.py``).

    A player that keeps up asks ten times a second; answered in uvicorn's protocol, each of
    those requests skips the task, the ASGI messages, routing and every middleware.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hot_path = HlsFastPath(self.state)


PURGE_EVERY_SECONDS = 3600.0


def node_name() -> str:
    """This process's name among the nodes: host, process id and a random tail, so a
    restarted process is a new node (the old one's heartbeat lapses and it is reaped)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _redis(settings: Settings) -> Redis | None:
    if not settings.redis_url:
        return None
    # Bounded waits: a lost Redis is noticed in seconds (health checks on idle connections),
    # and a publish never hangs a request.
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=2,
        socket_timeout=2,
        health_check_interval=5,
    )


def _count_players(ctx: Context) -> Callable[[str, str, bool], None]:
    """The media engine's hook: players this origin serves itself (an edge reports its own)."""

    def hook(space_id: str, name: str, via_edge: bool) -> None:
        if not via_edge:
            ctx.audience.saw_request(space_id, name)

    return hook


async def _send_bursts_forever(ctx: Context) -> None:
    """A large audience's reactions, one burst per space per window."""
    while True:
        await asyncio.sleep(ctx.settings.reaction_burst_seconds)
        try:
            await reactions.send_bursts(ctx)
        except Exception:
            log.exception("reaction bursts failed; will try again")


async def _sweep_forever(
    ctx: Context, engine: MediaEngine, node_audience: NodeAudience | None
) -> None:
    """Grace periods every few seconds; expired recordings every hour. Among several nodes,
    players are counted across them and each announces the spaces whose media it runs."""
    loop = asyncio.get_running_loop()
    next_purge = loop.time()
    while True:
        await asyncio.sleep(ctx.settings.sweep_interval_seconds)
        try:
            await presence.sweep(ctx)
            await payments.sweep(ctx)  # lapsed ticket holds, the refund outbox
            if node_audience is None:
                await audience_service.announce_changes(ctx)
            else:
                try:
                    await node_audience.exchange(ctx.audience)
                except (RedisError, OSError) as exc:
                    log.warning("players not exchanged with the other nodes (%s)", exc)
                await audience_service.announce_changes(ctx, only=list(engine.rooms))
            SWEEPS.inc()
            if loop.time() >= next_purge:
                next_purge = loop.time() + PURGE_EVERY_SECONDS
                if removed := await recordings.purge_expired(ctx):
                    log.info("deleted %d expired recordings", removed)
                if forgotten := await notification_service.purge_old(ctx):
                    log.info("forgot %d notifications past 30 days", forgotten)
        except Exception:
            log.exception("sweep failed; will try again")
