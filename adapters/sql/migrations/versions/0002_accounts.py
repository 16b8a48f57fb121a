"""Accounts: users, memberships, invitations, tenant links, sessions, one-time tokens,
sign-in attempts and webhook receipts (tables of adapters/auth/sql_tables.py).

On PostgreSQL: the application role's grants, and row-level security on the tenant
tables (memberships, invitations, tenant_links) with the same policies as 0001
(`tenant_isolation`, `system_read`), plus `system_cleanup`: a unit of work without a
tenant may delete a deleted user's memberships across tenants. The identity tables
belong to the installation (a person spans tenants) and carry no tenant_id.

Revision ID: 0002_accounts
Revises: 0001
Create Date: 2026-05-02
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0002_accounts"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_APP_ROLE = "llmobserve_app"
TENANT_TABLES = ("memberships", "invitations", "tenant_links")
IDENTITY_TABLES = ("users", "sessions", "one_time_tokens", "sign_in_attempts", "webhook_receipts")


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        role = context.config.attributes.get("app_role", DEFAULT_APP_ROLE)
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
            raise ValueError(f"application role {role!r} is not a plain lower-case identifier")
        for table in TENANT_TABLES + IDENTITY_TABLES:
            op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        _enable_row_level_security()


def _create_tables() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text()),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text()),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("platform_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "memberships",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name="pk_memberships"),
    )
    op.create_index("ix_memberships_user", "memberships", ["user_id"])
    op.create_table(
        "invitations",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("invitation_id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("invited_by", sa.Text()),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("expires_at", _instant(), nullable=False),
        sa.Column("accepted_at", _instant()),
        sa.PrimaryKeyConstraint("tenant_id", "invitation_id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_table(
        "tenant_links",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("parent_tenant_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_tenant_links"),
    )
    op.create_index("ix_tenant_links_parent", "tenant_links", ["parent_tenant_id"])
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("expires_at", _instant(), nullable=False),
        sa.Column("revoked_at", _instant()),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user", "sessions", ["user_id"])
    op.create_table(
        "one_time_tokens",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("token_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("expires_at", _instant(), nullable=False),
        sa.Column("used_at", _instant()),
        sa.PrimaryKeyConstraint("token_hash", name="pk_one_time_tokens"),
    )
    op.create_table(
        "sign_in_attempts",
        sa.Column("attempt_id", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("attempted_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name="pk_sign_in_attempts"),
    )
    op.create_index("ix_sign_in_attempts_subject", "sign_in_attempts", ["subject", "attempted_at"])
    op.create_table(
        "webhook_receipts",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("received_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("source", "message_id", name="pk_webhook_receipts"),
    )


def _enable_row_level_security() -> None:
    # The same expressions as 0001: the tenant bound to the transaction, or system access.
    tenant = "NULLIF(current_setting('app.current_tenant', true), '')"
    system = "current_setting('app.system_access', true) = 'on'"
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table}"
            f" USING (tenant_id = {tenant}) WITH CHECK (tenant_id = {tenant})"
        )
        op.execute(f"CREATE POLICY system_read ON {table} FOR SELECT USING ({system})")
    op.execute(f"CREATE POLICY system_cleanup ON memberships FOR DELETE USING ({system})")


def downgrade() -> None:
    for table in reversed(TENANT_TABLES + IDENTITY_TABLES):
        op.drop_table(table)
