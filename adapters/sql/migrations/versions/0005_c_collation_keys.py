"""The text key columns of the spend tables (events, event ids, rollups, model rollups)
get the "C" collation on PostgreSQL: bytewise comparison, where the database's locale
collation (C.UTF-8, en_US.UTF-8) goes through strcoll on every index comparison of
every ingest upsert. SQLite already compares text bytewise (BINARY): nothing to do there.

A collation change rewrites no table (text stays text), but PostgreSQL rebuilds every
index on the altered columns, partitions' included: ALTER TABLE on spend_events
recurses into its DEFAULT and monthly partitions, and the partitions made later copy
the collation (CREATE TABLE ... LIKE spend_events). The tenant_isolation policies
compare tenant_id, and PostgreSQL refuses to alter a column a policy uses: each is
dropped and made again, the same as 0001 and 0004 made it, in this transaction.

Revision ID: 0005_c_collation_keys
Revises: 0004_model_rollups
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_c_collation_keys"
down_revision: str | Sequence[str] | None = "0004_model_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLLUP_KEYS = ("tenant_id", "provider", "model", "agent", "customer_id")
_MODEL_ROLLUP_KEYS = ("tenant_id", "provider", "model")
# Each table with its text key columns (the dimensions of spend_events included: they
# are the rollups' keys and what reports group and filter events by).
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "spend_events": ("tenant_id", "event_id", "provider", "model", "agent", "customer_id"),
    "spend_event_ids": ("tenant_id", "event_id"),
    "spend_rollups_hourly": _ROLLUP_KEYS,
    "spend_rollups_daily": _ROLLUP_KEYS,
    "spend_rollups_weekly": _ROLLUP_KEYS,
    "spend_rollups_monthly": _ROLLUP_KEYS,
    "spend_model_rollups_hourly": _MODEL_ROLLUP_KEYS,
    "spend_model_rollups_daily": _MODEL_ROLLUP_KEYS,
}


def upgrade() -> None:
    _collate('"C"')


def downgrade() -> None:
    _collate('"default"')  # the database's own collation, as 0001 made the columns


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The same expression as 0001: the tenant bound to the transaction.
    tenant = "NULLIF(current_setting('app.current_tenant', true), '')"
    for table, columns in KEY_COLUMNS.items():
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        # One statement per table: its indexes are rebuilt once, not once per column.
        changes = ", ".join(
            f"ALTER COLUMN {column} TYPE text COLLATE {collation}" for column in columns
        )
        op.execute(f"ALTER TABLE {table} {changes}")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table}"
            f" USING (tenant_id = {tenant}) WITH CHECK (tenant_id = {tenant})"
        )
