"""Rollups by block of four UTC hours (from 00:00, 04:00, ... 20:00), between the hours
and the days, for the hours at a range's ends: "the last 30 days" from mid-afternoon
reads two blocks and an hour to midnight instead of nine hours of rows.

Filled from the hourly rollups: on PostgreSQL the blocks are a folded level like the
days (adapters/sql/rollup_folds.py), so they get each tenant's hours before its
watermark, the hours the coarse levels hold; a tenant never folded gets none. The
hourly rollups and the watermarks are locked (EXCLUSIVE) meanwhile, and read with
FORCE ROW LEVEL SECURITY lifted for this transaction only: the migrating role owns them
but, forced, would see none of their rows. SQLite keeps every level at ingest: every
hour is filled there. As with 0006, stop collectors of the previous version first: they
would not add a late event to the blocks.

Revision ID: 0009_block_rollups
Revises: 0008_rls_once_per_statement
Create Date: 2026-12-04
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0009_block_rollups"
down_revision: str | Sequence[str] | None = "0008_rls_once_per_statement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_APP_ROLE = "llmobserve_app"
TABLE = "spend_rollups_blocks"
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


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    key = sa.Text(collation="C") if postgres else sa.Text()  # as 0005 made the others
    op.create_table(
        TABLE,
        sa.Column("tenant_id", key, nullable=False),
        sa.Column("block", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(dimension, key, nullable=False) for dimension in DIMENSIONS),
        *(sa.Column(measure, sa.BigInteger(), nullable=False) for measure in MEASURES),
        sa.PrimaryKeyConstraint("tenant_id", "block", *DIMENSIONS, name=f"pk_{TABLE}"),
    )
    op.create_index(f"ix_{TABLE}_customer", TABLE, ["tenant_id", "customer_id", "block"])
    if postgres:
        _fill_postgres()
    else:
        _fill_sqlite()


def _fill_postgres() -> None:
    role = context.config.attributes.get("app_role", DEFAULT_APP_ROLE)
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"application role {role!r} is not a plain lower-case identifier")
    # No ingest or fold may move an hour or a watermark while the blocks are filled.
    op.execute("LOCK TABLE spend_rollups_hourly, rollup_folds IN EXCLUSIVE MODE")
    for source in ("spend_rollups_hourly", "rollup_folds"):
        op.execute(f"ALTER TABLE {source} NO FORCE ROW LEVEL SECURITY")
    _insert(
        "date_bin('4 hours', h.hour, TIMESTAMPTZ '2000-01-01 00:00:00+00')",
        "spend_rollups_hourly AS h JOIN rollup_folds AS f"
        " ON f.tenant_id = h.tenant_id AND h.hour < f.folded_until",
    )
    for source in ("spend_rollups_hourly", "rollup_folds"):
        op.execute(f"ALTER TABLE {source} FORCE ROW LEVEL SECURITY")
    # The same grants as the other rollups, and 0008's policy: the bound tenant read once
    # per statement.
    tenant = "(SELECT NULLIF(current_setting('app.current_tenant', true), ''))"
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON {TABLE} TO {role}")
    op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {TABLE}"
        f" USING (tenant_id = {tenant}) WITH CHECK (tenant_id = {tenant})"
    )


def _fill_sqlite() -> None:
    # The hour as SQLite stores it (UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'), floored to
    # its block of four.
    hour = "CAST(substr(h.hour, 12, 2) AS INTEGER)"
    block = f"substr(h.hour, 1, 11) || printf('%02d', {hour} - {hour} % 4) || substr(h.hour, 14)"
    _insert(block, "spend_rollups_hourly AS h")


def _insert(block: str, source: str) -> None:
    dimensions = ", ".join(DIMENSIONS)
    groups = ", ".join(str(position) for position in range(1, len(DIMENSIONS) + 3))
    keys = ", ".join(f"h.{dimension}" for dimension in DIMENSIONS)
    sums = ", ".join(f"sum(h.{measure})" for measure in MEASURES)
    # In key order, as the fold writes them: a block's rows lie together on disk.
    grouped = f"GROUP BY {groups} ORDER BY {groups}"
    # Built from this module's constants only.
    select = f"SELECT h.tenant_id, {block}, {keys}, {sums} FROM {source} {grouped}"  # noqa: S608
    op.execute(
        f"INSERT INTO {TABLE} (tenant_id, block, {dimensions}, {', '.join(MEASURES)}) {select}"
    )


def downgrade() -> None:
    op.drop_index(f"ix_{TABLE}_customer", table_name=TABLE)
    op.drop_table(TABLE)
