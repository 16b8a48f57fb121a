"""Tenants own everything; API keys open one tenant's door."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime

DEFAULT_TENANT_ID = "default"
API_KEY_PREFIX = "llmo_sk_"
KEY_DISPLAY_CHARS = 8  # random characters kept after the prefix for display


class KeyKind(enum.StrEnum):
    INGEST = "ingest"
    MANAGEMENT = "management"


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    created_at: datetime
    default_timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: only its hash and a short display prefix survive creation."""

    id: str
    tenant_id: str
    name: str
    kind: KeyKind
    display_prefix: str
    secret_hash: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_api_key(secret: str) -> str:
    """SHA-256 suffices: keys carry 256 random bits, so no slow hash is needed against guessing."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_api_key(text: str) -> bool:
    return text.startswith(API_KEY_PREFIX) and 40 <= len(text) <= 200
