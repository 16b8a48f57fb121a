"""`sum_exact(bigint)`: a bigint sum that stays a bigint, for the reports on PostgreSQL.

PostgreSQL's own sum(bigint) accumulates in a 128-bit state allocated per group and
returns numeric, which the reports cast back to bigint: most of a 30-day breakdown's
aggregation time. This aggregate adds with the bigint `+` itself (int8pl), by value, and
raises "bigint out of range" where the cast would have: no sum is ever approximated or
wrapped. SQLite's sum() of integers is exact already and raises on overflow; nothing is
made there.

Revision ID: 0007_sum_exact
Revises: 0006_rollup_folds
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_sum_exact"
down_revision: str | Sequence[str] | None = "0006_rollup_folds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # int8pl is strict: the first row's value becomes the state and NULLs are skipped,
    # so no rows (or only NULLs) give NULL, as sum() does.
    op.execute(
        "CREATE AGGREGATE sum_exact(bigint) "
        "(SFUNC = int8pl, STYPE = bigint, COMBINEFUNC = int8pl, PARALLEL = SAFE)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP AGGREGATE sum_exact(bigint)")
