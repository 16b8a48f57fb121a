"""Accounts repositories on SQLAlchemy Core, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from adapters.auth.sql_tables import (
    invitations,
    memberships,
    one_time_tokens,
    sessions,
    sign_in_attempts,
    tenant_links,
    users,
    webhook_receipts,
)
from adapters.sql.dialect import insert_if_absent, insert_or_replace
from adapters.sql.session import SqlSession
from application.auth_ports import (
    DuplicateEmail,
    InvitationRepository,
    MembershipRepository,
    OneTimeTokenRepository,
    SessionRepository,
    SignInAttemptRepository,
    TenantLinkRepository,
    UserRepository,
    WebhookReceiptRepository,
)
from domain.access import Role
from domain.accounts import Invitation, Membership, OneTimeToken, Session, TokenPurpose, User

Row = Mapping[str, Any]
ATTEMPTS_KEPT = timedelta(days=1)


class _Repo:
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def _execute(self, statement: Any) -> Any:
        connection = await self._session.connection()
        return await connection.execute(statement)

    async def _first(self, statement: Any) -> Row | None:
        result = await self._execute(statement)
        row: Row | None = result.mappings().first()
        return row


def _user_from(row: Row) -> User:
    return User(
        id=row["user_id"],
        email=row["email"],
        created_at=row["created_at"],
        name=row["name"],
        password_hash=row["password_hash"],
        email_verified=bool(row["email_verified"]),
        platform_admin=bool(row["platform_admin"]),
    )


def _user_row(user: User) -> dict[str, Any]:
    return {
        "user_id": user.id,
        "email": user.email,
        "name": user.name,
        "password_hash": user.password_hash,
        "email_verified": user.email_verified,
        "platform_admin": user.platform_admin,
        "created_at": user.created_at,
    }


class SqlUsers(_Repo, UserRepository):
    async def get(self, user_id: str) -> User | None:
        row = await self._first(select(users).where(users.c.user_id == user_id))
        return None if row is None else _user_from(row)

    async def by_email(self, email: str) -> User | None:
        row = await self._first(select(users).where(users.c.email == email))
        return None if row is None else _user_from(row)

    async def add(self, user: User) -> None:
        await self._guarded(insert(users).values(_user_row(user)), user)

    async def save(self, user: User) -> None:
        await self._guarded(insert_or_replace(self._session.dialect, users, _user_row(user)), user)

    async def _guarded(self, statement: Any, user: User) -> None:
        connection = await self._session.connection()
        try:
            async with connection.begin_nested():  # a savepoint: the transaction survives
                await connection.execute(statement)
        except IntegrityError:
            raise DuplicateEmail(user.email or "") from None

    async def delete(self, user_id: str) -> None:
        await self._execute(delete(users).where(users.c.user_id == user_id))


def _membership_from(row: Row) -> Membership:
    return Membership(row["tenant_id"], row["user_id"], Role(row["role"]), row["created_at"])


class SqlMemberships(_Repo, MembershipRepository):
    async def get(self, tenant_id: str, user_id: str) -> Membership | None:
        row = await self._first(
            select(memberships).where(
                memberships.c.tenant_id == tenant_id, memberships.c.user_id == user_id
            )
        )
        return None if row is None else _membership_from(row)

    async def of_user(self, user_id: str) -> builtins.list[Membership]:
        result = await self._execute(
            select(memberships)
            .where(memberships.c.user_id == user_id)
            .order_by(memberships.c.tenant_id)
        )
        return [_membership_from(row) for row in result.mappings()]

    async def of_tenant(self, tenant_id: str) -> builtins.list[Membership]:
        result = await self._execute(
            select(memberships)
            .where(memberships.c.tenant_id == tenant_id)
            .order_by(memberships.c.created_at, memberships.c.user_id)
        )
        return [_membership_from(row) for row in result.mappings()]

    async def save(self, membership: Membership) -> None:
        row = {
            "tenant_id": membership.tenant_id,
            "user_id": membership.user_id,
            "role": membership.role.value,
            "created_at": membership.created_at,
        }
        await self._execute(insert_or_replace(self._session.dialect, memberships, row))

    async def remove(self, tenant_id: str, user_id: str) -> bool:
        result = await self._execute(
            delete(memberships).where(
                memberships.c.tenant_id == tenant_id, memberships.c.user_id == user_id
            )
        )
        return bool(result.rowcount)

    async def remove_user(self, user_id: str) -> None:
        await self._execute(delete(memberships).where(memberships.c.user_id == user_id))

    async def remove_tenant(self, tenant_id: str) -> None:
        await self._execute(delete(memberships).where(memberships.c.tenant_id == tenant_id))


def _invitation_from(row: Row) -> Invitation:
    return Invitation(
        id=row["invitation_id"],
        tenant_id=row["tenant_id"],
        email=row["email"],
        role=Role(row["role"]),
        token_hash=row["token_hash"],
        invited_by=row["invited_by"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        accepted_at=row["accepted_at"],
    )


def _invitation_row(invitation: Invitation) -> dict[str, Any]:
    return {
        "tenant_id": invitation.tenant_id,
        "invitation_id": invitation.id,
        "email": invitation.email,
        "role": invitation.role.value,
        "token_hash": invitation.token_hash,
        "invited_by": invitation.invited_by,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "accepted_at": invitation.accepted_at,
    }


class SqlInvitations(_Repo, InvitationRepository):
    async def add(self, invitation: Invitation) -> None:
        await self._execute(insert(invitations).values(_invitation_row(invitation)))

    async def get(self, tenant_id: str, invitation_id: str) -> Invitation | None:
        row = await self._first(
            select(invitations).where(
                invitations.c.tenant_id == tenant_id, invitations.c.invitation_id == invitation_id
            )
        )
        return None if row is None else _invitation_from(row)

    async def by_token_hash(self, token_hash: str) -> Invitation | None:
        row = await self._first(select(invitations).where(invitations.c.token_hash == token_hash))
        return None if row is None else _invitation_from(row)

    async def of_tenant(self, tenant_id: str) -> builtins.list[Invitation]:
        result = await self._execute(
            select(invitations)
            .where(invitations.c.tenant_id == tenant_id)
            .order_by(invitations.c.created_at, invitations.c.invitation_id)
        )
        return [_invitation_from(row) for row in result.mappings()]

    async def save(self, invitation: Invitation) -> None:
        await self._execute(
            insert_or_replace(self._session.dialect, invitations, _invitation_row(invitation))
        )

    async def delete(self, tenant_id: str, invitation_id: str) -> bool:
        result = await self._execute(
            delete(invitations).where(
                invitations.c.tenant_id == tenant_id, invitations.c.invitation_id == invitation_id
            )
        )
        return bool(result.rowcount)


def _session_from(row: Row) -> Session:
    return Session(
        id=row["session_id"],
        user_id=row["user_id"],
        token_hash=row["token_hash"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


class SqlSessions(_Repo, SessionRepository):
    async def add(self, session: Session) -> None:
        await self._execute(insert(sessions).values(self._row(session)))

    @staticmethod
    def _row(session: Session) -> dict[str, Any]:
        return {
            "token_hash": session.token_hash,
            "session_id": session.id,
            "user_id": session.user_id,
            "created_at": session.created_at,
            "expires_at": session.expires_at,
            "revoked_at": session.revoked_at,
        }

    async def by_token_hash(self, token_hash: str) -> Session | None:
        row = await self._first(select(sessions).where(sessions.c.token_hash == token_hash))
        return None if row is None else _session_from(row)

    async def save(self, session: Session) -> None:
        await self._execute(insert_or_replace(self._session.dialect, sessions, self._row(session)))

    async def revoke_user(self, user_id: str, at: datetime) -> None:
        await self._execute(
            update(sessions)
            .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )


class SqlTokens(_Repo, OneTimeTokenRepository):
    async def add(self, token: OneTimeToken) -> None:
        await self._execute(
            insert(one_time_tokens).values(
                token_hash=token.token_hash,
                token_id=token.id,
                user_id=token.user_id,
                purpose=token.purpose.value,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
            )
        )

    async def consume(
        self, token_hash: str, purpose: TokenPurpose, at: datetime
    ) -> OneTimeToken | None:
        table = one_time_tokens
        # One conditional UPDATE: of two racing consumers exactly one sees a row.
        result = await self._execute(
            update(table)
            .where(
                table.c.token_hash == token_hash,
                table.c.purpose == purpose.value,
                table.c.used_at.is_(None),
                table.c.expires_at > at,
            )
            .values(used_at=at)
            .returning(*table.c)
        )
        row = result.mappings().first()
        if row is None:
            return None
        return OneTimeToken(
            id=row["token_id"],
            user_id=row["user_id"],
            purpose=TokenPurpose(row["purpose"]),
            token_hash=row["token_hash"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            used_at=row["used_at"],
        )


class SqlSignInAttempts(_Repo, SignInAttemptRepository):
    async def record(self, subject: str, at: datetime) -> None:
        table = sign_in_attempts
        await self._execute(
            delete(table).where(
                table.c.subject == subject, table.c.attempted_at < at - ATTEMPTS_KEPT
            )
        )
        await self._execute(
            insert(table).values(attempt_id=uuid.uuid4().hex, subject=subject, attempted_at=at)
        )

    async def since(self, subject: str, since: datetime) -> builtins.list[datetime]:
        table = sign_in_attempts
        result = await self._execute(
            select(table.c.attempted_at)
            .where(table.c.subject == subject, table.c.attempted_at >= since)
            .order_by(table.c.attempted_at)
        )
        return [row[0] for row in result]

    async def clear(self, subject: str) -> None:
        await self._execute(delete(sign_in_attempts).where(sign_in_attempts.c.subject == subject))


class SqlWebhookReceipts(_Repo, WebhookReceiptRepository):
    async def claim(self, source: str, message_id: str, at: datetime) -> bool:
        statement = insert_if_absent(
            self._session.dialect,
            webhook_receipts,
            {"source": source, "message_id": message_id, "received_at": at},
        )
        result = await self._execute(statement)
        return bool(result.rowcount)


class SqlTenantLinks(_Repo, TenantLinkRepository):
    async def parent_of(self, tenant_id: str) -> str | None:
        row = await self._first(
            select(tenant_links.c.parent_tenant_id).where(tenant_links.c.tenant_id == tenant_id)
        )
        return None if row is None else str(row["parent_tenant_id"])

    async def set_parent(self, tenant_id: str, parent_tenant_id: str) -> None:
        await self._execute(
            insert_or_replace(
                self._session.dialect,
                tenant_links,
                {"tenant_id": tenant_id, "parent_tenant_id": parent_tenant_id},
            )
        )

    async def children_of(self, parent_tenant_id: str) -> builtins.list[str]:
        result = await self._execute(
            select(tenant_links.c.tenant_id)
            .where(tenant_links.c.parent_tenant_id == parent_tenant_id)
            .order_by(tenant_links.c.tenant_id)
        )
        return [str(row[0]) for row in result]
