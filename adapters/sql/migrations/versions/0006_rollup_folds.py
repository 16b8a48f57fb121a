"""The daily, weekly and monthly rollups are folded from the hourly ones behind a
watermark per tenant on PostgreSQL (adapters/sql/rollup_folds.py): `rollup_folds`.

Until now every level was kept at ingest, so the coarse rollups hold every hour. The
watermark starts two hours before this migration's hour: the hours from it on are taken
out of the coarse rollups again (they are the fold's to add) and rows left with no call
are removed. Collectors of the previous version keep every level at ingest: stop them
before upgrading, or the hours they write after this point would be counted twice.

The downgrade folds what the watermark had not reached, so the coarse rollups again hold
every hour, then drops the table. SQLite keeps every level at ingest: only the table
(empty) is made there, so both databases have one schema.

Revision ID: 0006_rollup_folds
Revises: 0005_c_collation_keys
Create Date: 2026-11-27
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0006_rollup_folds"
down_revision: str | Sequence[str] | None = "0005_c_collation_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_APP_ROLE = "llmobserve_app"
COARSE = (
    ("spend_rollups_daily", "day"),
    ("spend_rollups_weekly", "week"),
    ("spend_rollups_monthly", "month"),
)
DIMENSIONS = ("provider", "model", "agent", "customer_id")
MEASURES = (
    "cost_nanos",
    "unpriced_calls",
    "calls",
    "error_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
# The first watermark: two hours before this transaction's hour (the fold's lag).
FIRST_MARK = "date_trunc('hour', now(), 'UTC') - interval '2 hours'"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "rollup_folds",
        sa.Column(
            "tenant_id",
            sa.Text(collation="C") if postgres else sa.Text(),
            nullable=False,
        ),
        sa.Column("folded_until", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_rollup_folds"),
    )
    if not postgres:
        return
    role = context.config.attributes.get("app_role", DEFAULT_APP_ROLE)
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"application role {role!r} is not a plain lower-case identifier")
    tables = ["spend_rollups_hourly", *(table for table, _ in COARSE)]
    # No ingest may write between the watermark's reading and its rows.
    op.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
    for table in tables:  # forced, the owner would see none of their rows
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    for table, column in COARSE:
        _subtract_recent_hours(table, column)
    op.execute(
        "INSERT INTO rollup_folds (tenant_id, folded_until)"  # noqa: S608 (constants)
        f" SELECT DISTINCT tenant_id, {FIRST_MARK} FROM spend_rollups_hourly"
    )
    for table in tables:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    # The same expression as 0001: the tenant bound to the transaction.
    tenant = "NULLIF(current_setting('app.current_tenant', true), '')"
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON rollup_folds TO {role}")
    op.execute("ALTER TABLE rollup_folds ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE rollup_folds FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON rollup_folds"
        f" USING (tenant_id = {tenant}) WITH CHECK (tenant_id = {tenant})"
    )


def _subtract_recent_hours(table: str, column: str) -> None:
    sums = ", ".join(f"sum({measure}) AS {measure}" for measure in MEASURES)
    updates = ", ".join(f"{measure} = r.{measure} - s.{measure}" for measure in MEASURES)
    same = " AND ".join(f"r.{name} = s.{name}" for name in ("tenant_id", *DIMENSIONS))
    # Built from this module's constants only.
    op.execute(
        f"UPDATE {table} AS r SET {updates}"  # noqa: S608
        f" FROM (SELECT tenant_id, date_trunc('{column}', hour, 'UTC') AS unit,"
        f" {', '.join(DIMENSIONS)}, {sums} FROM spend_rollups_hourly"
        f" WHERE hour >= {FIRST_MARK} GROUP BY 1, 2, 3, 4, 5, 6) AS s"
        f" WHERE {same} AND r.{column} = s.unit"
    )
    op.execute(f"DELETE FROM {table} WHERE calls = 0")  # noqa: S608


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        tables = ["spend_rollups_hourly", "rollup_folds", *(table for table, _ in COARSE)]
        op.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
        for table in tables:
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        for table, column in COARSE:
            _fold_unfolded_hours(table, column)
        for table in tables:
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.drop_table("rollup_folds")


def _fold_unfolded_hours(table: str, column: str) -> None:
    keys = ", ".join(("tenant_id", column, *DIMENSIONS))
    sums = ", ".join(f"sum(h.{measure})" for measure in MEASURES)
    updates = ", ".join(f"{measure} = r.{measure} + EXCLUDED.{measure}" for measure in MEASURES)
    # A tenant with no watermark (or a NULL one) has folded nothing: all its hours.
    op.execute(
        f"INSERT INTO {table} AS r ({keys}, {', '.join(MEASURES)})"  # noqa: S608
        f" SELECT h.tenant_id, date_trunc('{column}', h.hour, 'UTC'),"
        f" {', '.join(f'h.{name}' for name in DIMENSIONS)}, {sums}"
        " FROM spend_rollups_hourly AS h LEFT JOIN rollup_folds AS f USING (tenant_id)"
        " WHERE f.folded_until IS NULL OR h.hour >= f.folded_until"
        " GROUP BY 1, 2, 3, 4, 5, 6"
        f" ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    )
