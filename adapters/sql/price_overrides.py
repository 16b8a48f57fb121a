"""A tenant's own prices, listed in the order they were added (later ones win ties)."""

from __future__ import annotations

import builtins
import secrets
import time

from sqlalchemy import insert, select

from adapters.sql.mapping import price_from, price_row
from adapters.sql.session import SqlSession
from adapters.sql.tables import price_overrides
from application.ports import PriceOverrideRepository
from domain.pricing import ModelPrice


class _TimeOrderedIds:
    """Ids that sort in the order this process made them, and roughly across processes."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> str:
        self._last = max(self._last + 1, time.time_ns())
        return f"{self._last:020d}{secrets.token_hex(4)}"


_time_ordered_id = _TimeOrderedIds()


class SqlPriceOverrides(PriceOverrideRepository):
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def list(self, tenant_id: str) -> builtins.list[ModelPrice]:
        rows = await self._session.rows(
            select(price_overrides)
            .where(price_overrides.c.tenant_id == tenant_id)
            .order_by(price_overrides.c.override_id)
        )
        return [price_from(row) for row in rows]

    async def add(self, tenant_id: str, price: ModelPrice) -> None:
        row = price_row(tenant_id, _time_ordered_id(), price)
        await self._session.execute(insert(price_overrides).values(row))
