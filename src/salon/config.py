"""Settings, read once from the environment (``SALON_*``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob an operator can turn; each maps to ``SALON_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SALON_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/salon.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Path("var")
    host_min_followers: int = Field(default=600, ge=0)
    host_grace_seconds: float = Field(default=300.0, gt=0)
    presence_grace_seconds: float = Field(default=30.0, gt=0)
    sweep_interval_seconds: float = Field(default=1.0, gt=0)
    schedule_max_days: int = Field(default=14, ge=1)
    reaction_limit: int = Field(default=10, ge=1, description="Reactions per person per window.")
    reaction_window_seconds: float = Field(default=10.0, gt=0)
    session_days: int = Field(default=30, ge=1)
    cookie_secure: bool = False
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins besides the app's own allowed to send state-changing requests.",
    )
    event_queue_size: int = Field(default=256, ge=8)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    log_level: str = "INFO"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
