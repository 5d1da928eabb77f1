"""Settings, read once from the environment (``SALON_*``) or a ``.env`` file."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import socket
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

import limits
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob an operator can turn; each maps to ``SALON_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SALON_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/salon.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    database_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Longest wait to connect to PostgreSQL, for a pooled connection, or for "
        "one statement; past it a request answers 503.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Path("var")
    host_min_followers: int = Field(default=600, ge=0)
    registration: Literal["open", "closed"] = Field(
        default="open",
        description="open: anyone may sign up (the first account is the admin); closed: "
        "accounts come from `salon user create` only.",
    )
    host_grace_seconds: float = Field(default=300.0, gt=0)
    presence_grace_seconds: float = Field(default=30.0, gt=0)
    sweep_interval_seconds: float = Field(default=1.0, gt=0)
    schedule_max_days: int = Field(default=14, ge=1)
    reaction_limit: int = Field(default=10, ge=1, description="Reactions per person per window.")
    reaction_window_seconds: float = Field(default=10.0, gt=0)
    reaction_aggregate_above: int = Field(
        default=100,
        ge=0,
        description="Above this audience, reactions travel as counts per emoji per window "
        "(reaction_burst) instead of one event per person.",
    )
    reaction_burst_seconds: float = Field(default=1.0, gt=0, le=10)
    audience_window_seconds: float = Field(
        default=10.0,
        ge=2,
        le=60,
        description="The window over which players are counted from the audio they fetch.",
    )
    audience_view_wait_seconds: float = Field(
        default=10.0,
        gt=0,
        le=30,
        description="How long a blocking request for the next audience view waits.",
    )
    sign_in_limit_per_address: str = Field(
        default="10/5minutes",
        description="Failed sign-ins allowed from one client address (a `limits` rate).",
    )
    sign_in_limit_per_account: str = Field(
        default="20/15minutes",
        description="Failed sign-ins on one account before the addresses that failed on it "
        "are refused (others, its owner's, still sign in).",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate limits are counted: memory:// or a `limits` storage URI "
        "such as redis://127.0.0.1:6379 (shared by every node).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Peers whose X-Forwarded-For names the client (the shipped edge's nginx "
        "runs on this machine).",
    )
    redis_url: str = Field(
        default="",
        description="Redis shared by every node (redis://host:6379/0). Set it to run several "
        "nodes: events, presence and rate limits then go through Redis; empty: one process "
        "keeps them in memory.",
    )
    redis_prefix: str = Field(
        default="salon:",
        max_length=64,
        description="Prefix of every Redis key and channel of this instance.",
    )
    node_heartbeat_seconds: float = Field(
        default=2.0,
        gt=0,
        le=30,
        description="How often a node renews its heartbeat in Redis; a node silent for three "
        "times this is treated as gone (its connections closed, grace periods started).",
    )
    node_url: str = Field(
        default="",
        description="Where the other nodes reach this one (http://10.0.0.5:8000): requests "
        "for a space's media that another node runs are forwarded to it. Default: "
        "http://HOST:PORT as served.",
    )
    media_lease_seconds: float = Field(
        default=3.0,
        ge=1,
        le=60,
        description="How long a node's lease on a live space's media lasts unrenewed (renewed "
        "three times as often): after a node dies another takes its spaces within about this.",
    )
    recordings_path: Path | None = Field(
        default=None,
        description="Where recordings are written; default var/recordings. With several "
        "nodes it must be a path every node reaches (a shared mount).",
    )
    session_days: int = Field(default=30, ge=1)
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure; unset: when public_url is https.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins besides the app's own allowed to send state-changing requests.",
    )
    whip_allowed_origins: list[str] = Field(
        default_factory=list,
        description="Web origins (e.g. https://studio.example) whose pages may publish (WHIP) "
        "and play (WHEP) from the browser. Those requests authenticate with a bearer token "
        "only: cookies are ignored cross-origin, so nothing else opens to that origin.",
    )
    whep_max_viewers: int = Field(
        default=50,
        ge=0,
        le=10_000,
        description="WHEP (WebRTC) listeners this node serves at most, over all its spaces; "
        "past it a WHEP offer gets 503 and the LL-HLS address. 0 turns WHEP off.",
    )
    event_queue_size: int = Field(default=256, ge=8)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    log_level: str = "INFO"
    secret_key: str = Field(
        default="",
        description="Signs sessions and audio credentials; when empty, one is generated into "
        "var/secret_key. Every node of one instance needs the same.",
    )
    edge_secret_key: str = Field(
        default="",
        description="The secret the edge (nginx secure_link) shares with the origin to check "
        "ticketed spaces' audio credentials; when empty, derived from the secret key.",
    )
    audio_credential_seconds: int = Field(
        default=60,
        ge=2,
        le=60,
        description="How long a ticketed space's audio credential opens its audio. Removal, a "
        "ban or a refund closes the audio within this time, so it is at most a minute.",
    )
    recording_days: int = Field(default=30, ge=1, description="How long recordings are kept.")
    ice_servers: list[dict[str, object]] = Field(
        default_factory=list,
        description='STUN/TURN servers, e.g. [{"urls": "turn:turn.example:3478", ...}].',
    )
    payment_provider: Literal["test", "stripe"] = Field(
        default="test",
        description="Who takes ticket payments: the built-in test checkout, or Stripe.",
    )
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = "https://api.stripe.com"
    ticket_hold_seconds: int = Field(
        default=1800, ge=60, description="How long a started purchase holds its seat."
    )
    refund_retry_seconds: float = Field(
        default=30.0, gt=0, description="First wait before retrying a failed refund (doubles)."
    )
    public_url: str = Field(
        default="",
        description="This instance's public base URL (e.g. https://salon.example) for links "
        "sent to the payment provider; when empty, taken from each request.",
    )
    # E-mail notifications: on when an SMTP host is set (and SALON_PUBLIC_URL, for links).
    smtp_host: str = Field(default="", description="SMTP server for e-mail; empty: no e-mail.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="STARTTLS (587), implicit TLS (465), or none (local)."
    )
    smtp_from: str = Field(
        default="", description="The From address; empty: salon@ the public URL's host."
    )
    web_push: bool = Field(
        default=False, description="Send Web Push notifications (needs SALON_PUBLIC_URL)."
    )
    push_contact: str = Field(
        default="",
        description="The VAPID contact push services may reach (mailto: or https:); empty: "
        "mailto:salon@ the public URL's host.",
    )

    @field_validator("sign_in_limit_per_address", "sign_in_limit_per_account")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as 10/5minutes") from None
        return value

    @property
    def session_cookie_secure(self) -> bool:
        """``cookie_secure`` if set, else whether the public URL is https."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.lower().startswith("https://")

    @model_validator(mode="after")
    def _stripe_needs_keys(self) -> Self:
        if self.payment_provider == "stripe":
            missing = [
                name
                for name, value in (
                    ("SALON_STRIPE_SECRET_KEY", self.stripe_secret_key),
                    ("SALON_STRIPE_WEBHOOK_SECRET", self.stripe_webhook_secret),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    "SALON_PAYMENT_PROVIDER=stripe needs " + " and ".join(missing) + " to be set"
                )
        return self

    @property
    def recordings_dir(self) -> Path:
        return self.recordings_path or self.var_dir / "recordings"

    @property
    def own_url(self) -> str:
        """``node_url``, or this node's own address as served."""
        if self.node_url:
            return self.node_url.rstrip("/")
        host = socket.getfqdn() if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def rate_limit_storage_uri(self) -> str:
        """``rate_limit_storage``, or the nodes' Redis when it is left at memory://."""
        if self.redis_url and self.rate_limit_storage == "memory://":
            return self.redis_url
        return self.rate_limit_storage

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    def delivery_problems(self) -> list[str]:
        """What keeps e-mail or Web Push from turning on (empty: fine): their links and the
        push contact need the instance's public address."""
        wanted = [
            name
            for name, on in (
                ("SALON_SMTP_HOST", self.email_enabled),
                ("SALON_WEB_PUSH", self.web_push),
            )
            if on
        ]
        if wanted and not self.public_url:
            return [
                f"{' and '.join(wanted)} need SALON_PUBLIC_URL (the links they send): set it to "
                "this instance's public base URL, e.g. https://salon.example"
            ]
        return []

    @property
    def public_host(self) -> str:
        """The host name of ``public_url`` (empty when unset)."""
        from urllib.parse import urlsplit

        return urlsplit(self.public_url).hostname or ""

    def cluster_problems(self) -> list[str]:
        """What keeps this configuration from running as one of several nodes (empty: fine).

        Only asked when ``redis_url`` is set: several nodes need one database server, one
        signing key and one recordings store.
        """
        if not self.redis_url:
            return []
        problems = []
        if not self.database_url.startswith("postgresql"):
            problems.append(
                "several nodes (SALON_REDIS_URL is set) need PostgreSQL: set SALON_DATABASE_URL "
                "to a postgresql+asyncpg:// URL"
            )
        if not self.secret_key:
            problems.append(
                "several nodes need the same SALON_SECRET_KEY (each would otherwise make its "
                "own, and refuse the others' sessions)"
            )
        if self.recordings_path is None:
            problems.append(
                "several nodes need SALON_RECORDINGS_PATH, a folder every node reaches (a "
                "shared mount), so a space's recording continues on the node that takes it over"
            )
        return problems

    def signing_key(self) -> str:
        """The configured secret, or one generated once and kept under var/."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def edge_secret(self) -> str:
        """The secret nginx's ``secure_link_md5`` and the origin both check credentials with.

        Derived from the signing key unless set, so the edge config never holds the key that
        signs sessions.
        """
        if self.edge_secret_key:
            return self.edge_secret_key
        key = self.signing_key().encode()
        return hmac.new(key, b"salon.edge.v1", hashlib.sha256).hexdigest()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
