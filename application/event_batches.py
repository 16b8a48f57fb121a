"""A batch of events stored on its own, through a unit of work: the writer for any store."""

from __future__ import annotations

from collections.abc import Sequence

from application.ports import EventBatchWriter, UnitOfWorkFactory
from domain.events import SpendEvent


class UnitOfWorkBatchWriter(EventBatchWriter):
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def add_new(self, tenant_id: str, events: Sequence[SpendEvent]) -> list[SpendEvent]:
        refuse_other_tenants(tenant_id, events)
        async with self._uow_factory(tenant_id) as uow:
            stored = await uow.events.add_new(events)
            await uow.commit()
        return stored


def refuse_other_tenants(tenant_id: str, events: Sequence[SpendEvent]) -> None:
    if any(event.tenant_id != tenant_id for event in events):
        raise ValueError("every event of a batch belongs to the caller's tenant")
