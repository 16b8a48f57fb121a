"""The state behind the in-memory adapters: plain dicts and lists, shared by units of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.alerts import Alert
from domain.caps import Cap
from domain.events import SpendEvent
from domain.pricing import ModelPrice
from domain.tenants import ApiKey, Tenant


@dataclass
class MemoryStore:
    events: list[SpendEvent] = field(default_factory=list)
    event_ids: set[tuple[str, str]] = field(default_factory=set)
    caps: dict[tuple[str, str], Cap] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    alert_keys: set[tuple[str, str, datetime, int, str]] = field(default_factory=set)
    alert_leases: dict[str, datetime] = field(default_factory=dict)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    tenants: dict[str, Tenant] = field(default_factory=dict)
    price_overrides: dict[str, list[ModelPrice]] = field(default_factory=dict)
