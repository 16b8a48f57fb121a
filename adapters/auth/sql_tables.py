"""The accounts schema, on the shared metadata of adapters.sql.tables.

Two kinds of table:
- tenant tables (memberships, invitations, tenant_links) carry tenant_id first and sit
  under PostgreSQL row-level security like the rest of the schema;
- identity tables (users, sessions, one_time_tokens, sign_in_attempts, webhook_receipts)
  belong to the installation, not to a tenant: a person belongs to several tenants.
The migration `0002_accounts` creates exactly this.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from adapters.sql.tables import metadata
from adapters.sql.types import UtcDateTime

users = Table(
    "users",
    metadata,
    Column("user_id", Text, nullable=False),
    Column("email", Text),
    Column("name", Text, nullable=False),
    Column("password_hash", Text),
    Column("email_verified", Boolean, nullable=False),
    Column("platform_admin", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("user_id", name="pk_users"),
    UniqueConstraint("email", name="uq_users_email"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("tenant_id", "user_id", name="pk_memberships"),
)
Index("ix_memberships_user", memberships.c.user_id)

invitations = Table(
    "invitations",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("invitation_id", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("token_hash", Text, nullable=False),
    Column("invited_by", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("accepted_at", UtcDateTime),
    PrimaryKeyConstraint("tenant_id", "invitation_id", name="pk_invitations"),
    UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
)

tenant_links = Table(
    "tenant_links",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("parent_tenant_id", Text, nullable=False),
    PrimaryKeyConstraint("tenant_id", name="pk_tenant_links"),
)
Index("ix_tenant_links_parent", tenant_links.c.parent_tenant_id)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", Text, nullable=False),
    Column("session_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    PrimaryKeyConstraint("token_hash", name="pk_sessions"),
)
Index("ix_sessions_user", sessions.c.user_id)

one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("token_hash", Text, nullable=False),
    Column("token_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    PrimaryKeyConstraint("token_hash", name="pk_one_time_tokens"),
)

sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("attempt_id", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("attempt_id", name="pk_sign_in_attempts"),
)
Index("ix_sign_in_attempts_subject", sign_in_attempts.c.subject, sign_in_attempts.c.attempted_at)

webhook_receipts = Table(
    "webhook_receipts",
    metadata,
    Column("source", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("source", "message_id", name="pk_webhook_receipts"),
)

ACCOUNT_TENANT_TABLES = (memberships, invitations, tenant_links)
IDENTITY_TABLES = (users, sessions, one_time_tokens, sign_in_attempts, webhook_receipts)
