"""In-memory accounts repositories: staged writes applied on commit, like adapters.memory.

Uniqueness claims (emails, webhook ids, consumed tokens) are taken at once so that
concurrent units of work see them, and given back on rollback.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from adapters.memory.repositories import MemoryTenants, StagedTransaction, Staging
from adapters.memory.store import MemoryStore
from application.auth_ports import (
    AccountsUnitOfWork,
    AccountsUnitOfWorkFactory,
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
from domain.accounts import Invitation, Membership, OneTimeToken, Session, TokenPurpose, User


@dataclass
class AccountsStore:
    users: dict[str, User] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)  # email -> user id
    memberships: dict[tuple[str, str], Membership] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    tokens: dict[str, OneTimeToken] = field(default_factory=dict)
    attempts: dict[str, list[datetime]] = field(default_factory=dict)
    receipts: set[tuple[str, str]] = field(default_factory=set)
    parents: dict[str, str] = field(default_factory=dict)


def _discard(mapping: dict[Any, Any], key: object) -> None:
    mapping.pop(key, None)


class _Repo:
    def __init__(self, store: AccountsStore, staging: Staging) -> None:
        self._store = store
        self._staging = staging


class MemoryUsers(_Repo, UserRepository):
    async def get(self, user_id: str) -> User | None:
        return self._store.users.get(user_id)

    async def by_email(self, email: str) -> User | None:
        user_id = self._store.emails.get(email)
        return self._store.users.get(user_id) if user_id else None

    async def add(self, user: User) -> None:
        if user.email is not None:
            if user.email in self._store.emails:
                raise DuplicateEmail(user.email)
            self._claim_email(user.email, user.id)
        self._staging.writes.append(lambda: self._store.users.__setitem__(user.id, user))

    def _claim_email(self, email: str, user_id: str) -> None:
        self._store.emails[email] = user_id
        self._staging.undo.append(lambda: _discard(self._store.emails, email))

    async def save(self, user: User) -> None:
        old = self._store.users.get(user.id)
        if user.email is not None and self._store.emails.get(user.email, user.id) != user.id:
            raise DuplicateEmail(user.email)

        def write() -> None:
            if old is not None and old.email and old.email != user.email:
                self._store.emails.pop(old.email, None)
            if user.email is not None:
                self._store.emails[user.email] = user.id
            self._store.users[user.id] = user

        self._staging.writes.append(write)

    async def delete(self, user_id: str) -> None:
        def write() -> None:
            user = self._store.users.pop(user_id, None)
            if user is not None and user.email:
                self._store.emails.pop(user.email, None)

        self._staging.writes.append(write)


class MemoryMemberships(_Repo, MembershipRepository):
    async def get(self, tenant_id: str, user_id: str) -> Membership | None:
        return self._store.memberships.get((tenant_id, user_id))

    async def of_user(self, user_id: str) -> builtins.list[Membership]:
        found = [m for m in self._store.memberships.values() if m.user_id == user_id]
        return sorted(found, key=lambda m: m.tenant_id)

    async def of_tenant(self, tenant_id: str) -> builtins.list[Membership]:
        found = [m for m in self._store.memberships.values() if m.tenant_id == tenant_id]
        return sorted(found, key=lambda m: (m.created_at, m.user_id))

    async def save(self, membership: Membership) -> None:
        key = (membership.tenant_id, membership.user_id)
        self._staging.writes.append(lambda: self._store.memberships.__setitem__(key, membership))

    async def remove(self, tenant_id: str, user_id: str) -> bool:
        if (tenant_id, user_id) not in self._store.memberships:
            return False
        self._staging.writes.append(lambda: _discard(self._store.memberships, (tenant_id, user_id)))
        return True

    async def remove_user(self, user_id: str) -> None:
        self._staging.writes.append(lambda: self._drop(lambda m: m.user_id == user_id))

    async def remove_tenant(self, tenant_id: str) -> None:
        self._staging.writes.append(lambda: self._drop(lambda m: m.tenant_id == tenant_id))

    def _drop(self, predicate: Callable[[Membership], bool]) -> None:
        for key in [k for k, m in self._store.memberships.items() if predicate(m)]:
            del self._store.memberships[key]


class MemoryInvitations(_Repo, InvitationRepository):
    async def add(self, invitation: Invitation) -> None:
        await self.save(invitation)

    async def get(self, tenant_id: str, invitation_id: str) -> Invitation | None:
        found = self._store.invitations.get(invitation_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    async def by_token_hash(self, token_hash: str) -> Invitation | None:
        return next(
            (i for i in self._store.invitations.values() if i.token_hash == token_hash), None
        )

    async def of_tenant(self, tenant_id: str) -> builtins.list[Invitation]:
        found = [i for i in self._store.invitations.values() if i.tenant_id == tenant_id]
        return sorted(found, key=lambda i: (i.created_at, i.id))

    async def save(self, invitation: Invitation) -> None:
        self._staging.writes.append(
            lambda: self._store.invitations.__setitem__(invitation.id, invitation)
        )

    async def delete(self, tenant_id: str, invitation_id: str) -> bool:
        if await self.get(tenant_id, invitation_id) is None:
            return False
        self._staging.writes.append(lambda: _discard(self._store.invitations, invitation_id))
        return True


class MemorySessions(_Repo, SessionRepository):
    async def add(self, session: Session) -> None:
        await self.save(session)

    async def by_token_hash(self, token_hash: str) -> Session | None:
        return self._store.sessions.get(token_hash)

    async def save(self, session: Session) -> None:
        self._staging.writes.append(
            lambda: self._store.sessions.__setitem__(session.token_hash, session)
        )

    async def revoke_user(self, user_id: str, at: datetime) -> None:
        def write() -> None:
            for key, session in builtins.list(self._store.sessions.items()):
                if session.user_id == user_id and session.revoked_at is None:
                    self._store.sessions[key] = replace(session, revoked_at=at)

        self._staging.writes.append(write)


class MemoryTokens(_Repo, OneTimeTokenRepository):
    async def add(self, token: OneTimeToken) -> None:
        self._staging.writes.append(lambda: self._store.tokens.__setitem__(token.token_hash, token))

    async def consume(
        self, token_hash: str, purpose: TokenPurpose, at: datetime
    ) -> OneTimeToken | None:
        token = self._store.tokens.get(token_hash)
        if token is None or not token.usable(at, purpose):
            return None
        used = replace(token, used_at=at)
        self._store.tokens[token_hash] = used  # claimed at once: a racing consumer loses
        self._staging.undo.append(lambda: self._store.tokens.__setitem__(token_hash, token))
        return used


class MemorySignInAttempts(_Repo, SignInAttemptRepository):
    async def record(self, subject: str, at: datetime) -> None:
        self._staging.writes.append(lambda: self._store.attempts.setdefault(subject, []).append(at))

    async def since(self, subject: str, since: datetime) -> builtins.list[datetime]:
        return [at for at in self._store.attempts.get(subject, []) if at >= since]

    async def clear(self, subject: str) -> None:
        self._staging.writes.append(lambda: _discard(self._store.attempts, subject))


class MemoryWebhookReceipts(_Repo, WebhookReceiptRepository):
    async def claim(self, source: str, message_id: str, at: datetime) -> bool:
        key = (source, message_id)
        if key in self._store.receipts:
            return False
        self._store.receipts.add(key)
        self._staging.undo.append(lambda: self._store.receipts.discard(key))
        return True


class MemoryTenantLinks(_Repo, TenantLinkRepository):
    async def parent_of(self, tenant_id: str) -> str | None:
        return self._store.parents.get(tenant_id)

    async def set_parent(self, tenant_id: str, parent_tenant_id: str) -> None:
        self._staging.writes.append(
            lambda: self._store.parents.__setitem__(tenant_id, parent_tenant_id)
        )

    async def children_of(self, parent_tenant_id: str) -> builtins.list[str]:
        return sorted(c for c, p in self._store.parents.items() if p == parent_tenant_id)


class MemoryAccountsUnitOfWork(StagedTransaction, AccountsUnitOfWork):
    def __init__(self, store: AccountsStore, tenants_store: MemoryStore) -> None:
        super().__init__()
        self.users = MemoryUsers(store, self._staging)
        self.memberships = MemoryMemberships(store, self._staging)
        self.invitations = MemoryInvitations(store, self._staging)
        self.sessions = MemorySessions(store, self._staging)
        self.tokens = MemoryTokens(store, self._staging)
        self.sign_in_attempts = MemorySignInAttempts(store, self._staging)
        self.webhook_receipts = MemoryWebhookReceipts(store, self._staging)
        self.tenant_links = MemoryTenantLinks(store, self._staging)
        self.tenants = MemoryTenants(tenants_store, self._staging)


class MemoryAccountsUnitOfWorkFactory(AccountsUnitOfWorkFactory):
    """Shares the tenants of `tenants_store` (the main in-memory store) when given one."""

    def __init__(
        self, store: AccountsStore | None = None, tenants_store: MemoryStore | None = None
    ) -> None:
        self.store = store or AccountsStore()
        self.tenants_store = tenants_store or MemoryStore()

    def __call__(self, tenant_id: str | None = None) -> MemoryAccountsUnitOfWork:
        return MemoryAccountsUnitOfWork(self.store, self.tenants_store)
