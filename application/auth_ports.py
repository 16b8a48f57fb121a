"""Ports of the accounts side: people, memberships, sessions, and the ways in.

Kept apart from `application.ports` (spend, caps, alerts): an accounts unit of work is
its own transaction over users, memberships, invitations, sessions and the tenant rows.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from application.ports import TenantRepository
from domain.accounts import Invitation, Membership, OneTimeToken, Session, TokenPurpose, User


class UserRepository(Protocol):
    async def get(self, user_id: str) -> User | None: ...
    async def by_email(self, email: str) -> User | None: ...
    async def add(self, user: User) -> None:
        """Insert; a second user with the same email is a `DuplicateEmail`."""
        ...

    async def save(self, user: User) -> None:
        """Insert or replace by id."""
        ...

    async def delete(self, user_id: str) -> None: ...


class DuplicateEmail(Exception):
    pass


class MembershipRepository(Protocol):
    async def get(self, tenant_id: str, user_id: str) -> Membership | None: ...
    async def of_user(self, user_id: str) -> builtins.list[Membership]:
        """Every tenant the user belongs to: a cross-tenant read, for selection only."""
        ...

    async def of_tenant(self, tenant_id: str) -> builtins.list[Membership]: ...
    async def save(self, membership: Membership) -> None:
        """Insert or replace by (tenant, user)."""
        ...

    async def remove(self, tenant_id: str, user_id: str) -> bool: ...
    async def remove_user(self, user_id: str) -> None: ...
    async def remove_tenant(self, tenant_id: str) -> None: ...


class InvitationRepository(Protocol):
    async def add(self, invitation: Invitation) -> None: ...
    async def get(self, tenant_id: str, invitation_id: str) -> Invitation | None: ...
    async def by_token_hash(self, token_hash: str) -> Invitation | None:
        """Cross-tenant: the token names its tenant."""
        ...

    async def of_tenant(self, tenant_id: str) -> builtins.list[Invitation]: ...
    async def save(self, invitation: Invitation) -> None: ...
    async def delete(self, tenant_id: str, invitation_id: str) -> bool: ...


class SessionRepository(Protocol):
    async def add(self, session: Session) -> None: ...
    async def by_token_hash(self, token_hash: str) -> Session | None: ...
    async def save(self, session: Session) -> None: ...
    async def revoke_user(self, user_id: str, at: datetime) -> None:
        """End every session of a user (password reset, deletion)."""
        ...


class OneTimeTokenRepository(Protocol):
    async def add(self, token: OneTimeToken) -> None: ...
    async def consume(
        self, token_hash: str, purpose: TokenPurpose, at: datetime
    ) -> OneTimeToken | None:
        """Atomically mark a usable token of `purpose` used and return it; else None."""
        ...


class SignInAttemptRepository(Protocol):
    """Failed attempts per subject (a digest of an email, or a client address)."""

    async def record(self, subject: str, at: datetime) -> None: ...
    async def since(self, subject: str, since: datetime) -> builtins.list[datetime]: ...
    async def clear(self, subject: str) -> None: ...


class WebhookReceiptRepository(Protocol):
    async def claim(self, source: str, message_id: str, at: datetime) -> bool:
        """Record a delivered message id; False when it was seen before (a replay)."""
        ...


class TenantLinkRepository(Protocol):
    """Which tenant reports on behalf of which: child tenant -> its reporting parent."""

    async def parent_of(self, tenant_id: str) -> str | None: ...
    async def set_parent(self, tenant_id: str, parent_tenant_id: str) -> None: ...
    async def children_of(self, parent_tenant_id: str) -> builtins.list[str]: ...


class AccountsUnitOfWork(Protocol):
    """One transaction over the accounts tables. Rolls back on exit unless committed."""

    users: UserRepository
    memberships: MembershipRepository
    invitations: InvitationRepository
    sessions: SessionRepository
    tokens: OneTimeTokenRepository
    sign_in_attempts: SignInAttemptRepository
    webhook_receipts: WebhookReceiptRepository
    tenant_links: TenantLinkRepository
    tenants: TenantRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class AccountsUnitOfWorkFactory(Protocol):
    def __call__(self, tenant_id: str | None = None) -> AccountsUnitOfWork:
        """Bound to one tenant (row-level security), or to none for cross-tenant reads."""
        ...


class PasswordHasher(Protocol):
    """Slow, salted hashing. Synchronous: callers run it off the event loop."""

    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """What a verified identity-provider session token says about its holder."""

    user_id: str
    session_id: str | None = None
    org_id: str | None = None
    org_role: str | None = None
    org_slug: str | None = None


class SessionTokenVerifier(Protocol):
    async def verify(self, token: str) -> ExternalIdentity | None:
        """The token's holder, or None for any token that is not good (never says why)."""
        ...


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    id: str
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)


class WebhookVerifier(Protocol):
    def verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookMessage | None:
        """The message when signature and timestamp hold; None otherwise."""
        ...


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: `burst` requests at once, refilled at `per_second`."""

    burst: int
    per_second: float


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: float = 0.0


class RateLimiter(Protocol):
    async def acquire(self, bucket: str, limit: RateLimit) -> RateDecision:
        """Take one token from `bucket`; refused with the wait when it is empty."""
        ...
