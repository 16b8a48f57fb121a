"""Model rollups: the hourly and daily sums per provider and model only (spread over a
few `slot` rows, so that concurrent batches do not queue on one row), for the views that
neither filter nor group by agent or customer; filled from the full rollups. And an
index by customer on the hourly and daily rollups, for one customer's views and caps.

On PostgreSQL: the same grants and tenant-isolation policy as the other rollups. The
full rollups are read for the backfill with FORCE ROW LEVEL SECURITY lifted for this
transaction only: the migrating role owns them but, forced, would see none of their
rows and fill nothing.

Revision ID: 0004_model_rollups
Revises: 0003_cap_fail_policy
Create Date: 2026-11-27
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0004_model_rollups"
down_revision: str | Sequence[str] | None = "0003_cap_fail_policy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_APP_ROLE = "llmobserve_app"
# (new table, its time column, the full rollup it is filled from)
MODEL_ROLLUPS = (
    ("spend_model_rollups_hourly", "hour", "spend_rollups_hourly"),
    ("spend_model_rollups_daily", "day", "spend_rollups_daily"),
)
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


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, time_column, source in MODEL_ROLLUPS:
        op.create_table(
            name,
            sa.Column("tenant_id", sa.Text(), nullable=False),
            sa.Column(time_column, sa.DateTime(timezone=True), nullable=False),
            sa.Column("provider", sa.Text(), nullable=False),
            sa.Column("model", sa.Text(), nullable=False),
            sa.Column("slot", sa.SmallInteger(), nullable=False),
            *(sa.Column(measure, sa.BigInteger(), nullable=False) for measure in MEASURES),
            sa.PrimaryKeyConstraint(
                "tenant_id", time_column, "provider", "model", "slot", name=f"pk_{name}"
            ),
        )
        if postgres:
            op.execute(f"ALTER TABLE {source} NO FORCE ROW LEVEL SECURITY")
        sums = ", ".join(f"sum({measure})" for measure in MEASURES)
        # Built from this module's constants only.
        op.execute(
            f"INSERT INTO {name} (tenant_id, {time_column}, provider, model, slot,"  # noqa: S608
            f" {', '.join(MEASURES)})"
            f" SELECT tenant_id, {time_column}, provider, model, 0, {sums} FROM {source}"
            f" GROUP BY tenant_id, {time_column}, provider, model"
        )
        if postgres:
            op.execute(f"ALTER TABLE {source} FORCE ROW LEVEL SECURITY")
    for table, time_column in (("spend_rollups_hourly", "hour"), ("spend_rollups_daily", "day")):
        op.create_index(f"ix_{table}_customer", table, ["tenant_id", "customer_id", time_column])
    if postgres:
        role = context.config.attributes.get("app_role", DEFAULT_APP_ROLE)
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
            raise ValueError(f"application role {role!r} is not a plain lower-case identifier")
        # The same expression as 0001: the tenant bound to the transaction.
        tenant = "NULLIF(current_setting('app.current_tenant', true), '')"
        for name, _, _ in MODEL_ROLLUPS:
            op.execute(f"GRANT SELECT, INSERT, UPDATE ON {name} TO {role}")
            op.execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {name}"
                f" USING (tenant_id = {tenant}) WITH CHECK (tenant_id = {tenant})"
            )


def downgrade() -> None:
    for table in ("spend_rollups_daily", "spend_rollups_hourly"):
        op.drop_index(f"ix_{table}_customer", table_name=table)
    for name, _, _ in reversed(MODEL_ROLLUPS):
        op.drop_table(name)
