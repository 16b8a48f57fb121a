"""The block caps exhausted right now: what the SDK's cached enforcement refuses locally."""

from __future__ import annotations

from application.errors import require
from application.manage_caps import CapProgress, CapProgressReader
from application.ports import UnitOfWorkFactory
from domain.access import Permission, Principal
from domain.caps import Enforcement


class BlockedCaps:
    """Business rules:
    - an ingest key may read them (the SDK holds only an ingest key), within its tenant;
    - only enabled block caps whose current window is spent up to the limit are listed.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, progress: CapProgressReader) -> None:
        self._uow_factory = uow_factory
        self._progress = progress

    async def __call__(self, principal: Principal) -> list[CapProgress]:
        require(principal, Permission.INGEST)
        async with self._uow_factory(principal.tenant_id) as uow:
            caps = [
                cap
                for cap in await uow.caps.list(principal.tenant_id)
                if cap.enabled and cap.enforcement is Enforcement.BLOCK
            ]
        if not caps:
            return []
        return [p for p in await self._progress.progress(caps) if p.status.exhausted]
