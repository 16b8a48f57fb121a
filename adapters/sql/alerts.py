"""Alerts: inserted at most once per dedupe key, leased to one dispatcher at a time."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import or_, select, tuple_, update

from adapters.sql.dialect import insert_if_absent, insert_or_replace
from adapters.sql.mapping import alert_from, alert_row
from adapters.sql.session import SqlSession
from adapters.sql.tables import alerts
from application.ports import AlertQuery, AlertRepository
from domain.alerts import Alert, AlertStatus


class SqlAlerts(AlertRepository):
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def add_if_absent(self, alert: Alert) -> bool:
        # ON CONFLICT DO NOTHING on uq_alerts_once: a concurrent insert of the same key
        # waits for the first transaction, then inserts nothing.
        statement = insert_if_absent(self._session.dialect, alerts, alert_row(alert))
        inserted = await self._session.execute(statement.returning(alerts.c.alert_id))
        return inserted.first() is not None

    async def get(self, tenant_id: str, alert_id: str) -> Alert | None:
        row = await self._session.first(
            select(alerts).where(alerts.c.tenant_id == tenant_id, alerts.c.alert_id == alert_id)
        )
        return None if row is None else alert_from(row)

    async def list(self, tenant_id: str, query: AlertQuery) -> builtins.list[Alert]:
        columns = alerts.c
        conditions = [columns.tenant_id == tenant_id]
        if query.cap_id is not None:
            conditions.append(columns.cap_id == query.cap_id)
        if query.status is not None:
            conditions.append(columns.status == query.status.value)
        if query.since is not None:
            conditions.append(columns.created_at >= query.since)
        if query.until is not None:
            conditions.append(columns.created_at < query.until)
        rows = await self._session.rows(
            select(alerts)
            .where(*conditions)
            .order_by(columns.created_at.desc(), columns.alert_id.desc())
            .limit(query.limit)
        )
        return [alert_from(row) for row in rows]

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[Alert]:
        """Lease due alerts of every tenant. On PostgreSQL, SKIP LOCKED lets concurrent
        dispatchers take disjoint alerts without waiting; SQLite has one writer anyway."""
        columns = alerts.c
        due = (
            select(columns.tenant_id, columns.alert_id)
            .where(
                columns.status == AlertStatus.PENDING.value,
                or_(columns.next_attempt_at.is_(None), columns.next_attempt_at <= now),
                or_(columns.lease_until.is_(None), columns.lease_until <= now),
            )
            .order_by(columns.created_at, columns.alert_id)
            .limit(limit)
        )
        if self._session.postgres:
            due = due.with_for_update(skip_locked=True)
        rows = await self._session.rows(
            update(alerts)
            .where(tuple_(columns.tenant_id, columns.alert_id).in_(due))
            .values(lease_until=lease_until)
            .returning(*alerts.c)
        )
        claimed = [alert_from(row) for row in rows]
        return sorted(claimed, key=lambda alert: (alert.created_at, alert.id))

    async def save_if_unchanged(self, alert: Alert, expected_attempts: int) -> bool:
        # UPDATE takes the row lock; a concurrent dispatcher waits, then re-checks the
        # WHERE clause against the committed row (READ COMMITTED) and updates nothing.
        columns = alerts.c
        values = {
            name: value
            for name, value in alert_row(alert).items()
            if name not in ("tenant_id", "alert_id")
        }
        statement = (
            update(alerts)
            .where(
                columns.tenant_id == alert.tenant_id,
                columns.alert_id == alert.id,
                columns.status == AlertStatus.PENDING.value,
                columns.attempts == expected_attempts,
            )
            .values(**values)
            .returning(columns.alert_id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def save(self, alert: Alert) -> None:
        row = alert_row(alert) | {"lease_until": None}  # saving ends the sender's lease
        await self._session.execute(insert_or_replace(self._session.dialect, alerts, row))
