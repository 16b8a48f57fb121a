"""Row-level security reads the bound tenant once per statement, not once per row.

The policies of 0001-0006 compare each row with `NULLIF(current_setting(...), '')`: a
stable expression, which PostgreSQL evaluates again for every row it checks, and an
ingest batch checks some 400 (its ids, its events, their rollups), each a settings lookup
and a new text value. Wrapped in a scalar subquery the same expression becomes an
initplan: evaluated once, when a statement first needs it, and still usable as an index
condition. What every policy admits is unchanged; a statement that binds its own tenant
first (the one-statement ingest) is read after that binding, as the initplan runs on
first use.

Revision ID: 0008_rls_once_per_statement
Revises: 0007_sum_exact
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_rls_once_per_statement"
down_revision: str | Sequence[str] | None = "0007_sum_exact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TENANT = "NULLIF(current_setting('app.current_tenant', true), '')"
_SYSTEM = "current_setting('app.system_access', true)"


def upgrade() -> None:
    _rewrite(tenant=f"(SELECT {_TENANT})", system=f"(SELECT {_SYSTEM})")


def downgrade() -> None:
    _rewrite(tenant=_TENANT, system=_SYSTEM)


def _rewrite(tenant: str, system: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    tenant_rule = f"tenant_id = {tenant}"
    system_rule = f"{system} = 'on'"
    # Read from the catalog: every policy 0001-0006 made, whichever tables hold them.
    policies = bind.execute(
        sa.text(
            "SELECT tablename, policyname, cmd FROM pg_policies"
            " WHERE schemaname = current_schema() ORDER BY tablename, policyname"
        )
    ).all()
    rules = {
        "tenant_isolation": tenant_rule,
        "system_read": system_rule,
        "system_lease": system_rule,
        "system_cleanup": system_rule,
    }
    for table, policy, command in policies:
        if policy not in rules:
            raise RuntimeError(f"policy {policy} on {table} is not one this migration knows")
        rule = rules[policy]
        # Every policy here reads existing rows (USING); the ones that write rows check
        # the new row too (WITH CHECK).
        checked = f" WITH CHECK ({rule})" if command in ("ALL", "UPDATE") else ""
        op.execute(f"ALTER POLICY {policy} ON {table} USING ({rule}){checked}")
