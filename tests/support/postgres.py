"""A migrated scratch PostgreSQL database: created on the test server, dropped after."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from adapters.sql.database import APP_ROLE, migrate
from adapters.sql.urls import with_user
from tests.support.services import (
    create_database,
    drop_database,
    require_postgres,
    scratch_database_name,
)


@dataclass(frozen=True)
class PostgresDatabase:
    owner_url: str  # the schema owner: migrations, truncation, raw checks
    app_url: str  # the service's role, held to row-level security

    def asyncpg_dsn(self, role: str | None = None) -> str:
        url = with_user(self.owner_url, role) if role else self.owner_url
        return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@contextmanager
def scratch_postgres(purpose: str) -> Iterator[PostgresDatabase]:
    """Call outside a running event loop (session fixtures): it runs its own."""
    admin_url = require_postgres()
    name = scratch_database_name(purpose)
    owner_url = asyncio.run(create_database(admin_url, name))
    try:
        migrate(owner_url)
        yield PostgresDatabase(owner_url, with_user(owner_url, APP_ROLE))
    finally:
        asyncio.run(drop_database(admin_url, name))
