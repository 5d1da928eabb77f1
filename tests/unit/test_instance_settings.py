"""The instance settings an admin reads: each a real setting with its variable, no secret."""

from __future__ import annotations

from typing import Any

from salon.config import Settings
from salon.services.admin import instance_settings

SECRETS: dict[str, Any] = {
    "database_url": "postgresql+asyncpg://salon:db-pass-XYZ@db.internal:5432/salon",
    "redis_url": "redis://:redis-pass-XYZ@cache.internal:6379/0",
    "secret_key": "signing-key-XYZ",
    "edge_secret_key": "edge-key-XYZ",
    "payment_provider": "stripe",
    "stripe_secret_key": "sk_live_XYZ",
    "stripe_webhook_secret": "whsec_XYZ",
    "ice_servers": [{"urls": "turn:t.example", "username": "u", "credential": "turn-XYZ"}],
}


def test_no_secret_is_shown_even_inside_urls() -> None:
    shown = [entry.model_dump_json() for entry in instance_settings(Settings(**SECRETS))]
    assert not [line for line in shown if "XYZ" in line or "internal" in line]


def test_each_entry_is_a_setting_named_by_its_variable() -> None:
    entries = instance_settings(Settings(**SECRETS))
    for entry in entries:
        assert entry.key in Settings.model_fields, entry.key
        assert entry.env == "SALON_" + entry.key.upper()
        assert entry.about
    values = {entry.key: entry.value for entry in entries}
    assert values["database_url"] == "postgresql"
    assert values["redis_url"] == "set: several nodes"
    assert values["payment_provider"] == "stripe"
    assert values["ice_servers"] == "1 configured"
    assert {"host_min_followers", "recording_days", "registration"} <= values.keys()
