"""API keys, stored by hash; `by_hash` is the one lookup that crosses tenants."""

from __future__ import annotations

import builtins

from sqlalchemy import insert, select

from adapters.sql.dialect import insert_or_replace
from adapters.sql.mapping import api_key_from, api_key_row
from adapters.sql.session import SqlSession
from adapters.sql.tables import api_keys
from application.ports import ApiKeyRepository
from domain.tenants import ApiKey


class SqlApiKeys(ApiKeyRepository):
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def add(self, key: ApiKey) -> None:
        await self._session.execute(insert(api_keys).values(api_key_row(key)))

    async def by_hash(self, secret_hash: str) -> ApiKey | None:
        row = await self._session.first(
            select(api_keys).where(api_keys.c.secret_hash == secret_hash)
        )
        return None if row is None else api_key_from(row)

    async def list(self, tenant_id: str) -> builtins.list[ApiKey]:
        rows = await self._session.rows(
            select(api_keys)
            .where(api_keys.c.tenant_id == tenant_id)
            .order_by(api_keys.c.created_at, api_keys.c.key_id)
        )
        return [api_key_from(row) for row in rows]

    async def get(self, tenant_id: str, key_id: str) -> ApiKey | None:
        row = await self._session.first(
            select(api_keys).where(api_keys.c.tenant_id == tenant_id, api_keys.c.key_id == key_id)
        )
        return None if row is None else api_key_from(row)

    async def save(self, key: ApiKey) -> None:
        await self._session.execute(
            insert_or_replace(self._session.dialect, api_keys, api_key_row(key))
        )
