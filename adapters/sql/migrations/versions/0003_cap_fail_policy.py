"""A cap's own fail policy (open or closed) for when the live counters are unreachable;
NULL keeps the installation's policy.

Revision ID: 0003_cap_fail_policy
Revises: 0002_accounts
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_cap_fail_policy"
down_revision: str | Sequence[str] | None = "0002_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("caps", sa.Column("fail_policy", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("caps", "fail_policy")
