"""Clerk as the identity provider: its users, organizations and memberships become ours.

Two ways in, one mapping: a verified session token (just in time, on the request path)
and a verified webhook (eventually, for changes that happen while nobody is signed in).
Clerk ids are used as our ids: a Clerk user `user_2x...` is our user `user_2x...`, an
organization `org_2y...` is our tenant `org_2y...`.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from application.accounts import Identity
from application.api_keys import ApiKeys
from application.auth_ports import (
    AccountsUnitOfWork,
    AccountsUnitOfWorkFactory,
    ExternalIdentity,
    WebhookMessage,
)
from application.ports import Clock
from domain.access import Role
from domain.accounts import Membership, User
from domain.tenants import Tenant

log = logging.getLogger(__name__)

WEBHOOK_SOURCE = "clerk"

# Clerk role keys, without their "org:" prefix. Clerk's defaults are admin and member;
# custom roles named owner or viewer map to ours; any other custom role reads only.
DEFAULT_ROLE_MAP: Mapping[str, Role] = {
    "owner": Role.OWNER,
    "admin": Role.ADMIN,
    "member": Role.MEMBER,
    "basic_member": Role.MEMBER,
    "viewer": Role.VIEWER,
}


def clerk_role(key: str | None, role_map: Mapping[str, Role] = DEFAULT_ROLE_MAP) -> Role:
    name = (key or "").strip().lower().removeprefix("org:")
    return role_map.get(name, Role.VIEWER)


class SyncOutcome(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"  # a type we do not follow, or a payload without what we need
    REPLAY = "replay"  # this message id was processed before: nothing written


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _primary_email(data: Mapping[str, Any]) -> str | None:
    primary = data.get("primary_email_address_id")
    addresses = data.get("email_addresses")
    if not isinstance(addresses, list):
        return None
    for address in addresses:
        if isinstance(address, dict) and address.get("id") == primary:
            email = address.get("email_address")
            return email.strip().lower() if isinstance(email, str) else None
    return None


def _full_name(data: Mapping[str, Any]) -> str:
    parts = [data.get("first_name"), data.get("last_name")]
    return " ".join(p for p in parts if isinstance(p, str) and p)[:200]


def _tenant_of(message: WebhookMessage) -> str | None:
    """The tenant an event writes to (its unit of work is bound to it); None for users."""
    if message.type.startswith("organization."):
        return _text(message.data, "id")
    if message.type.startswith("organizationMembership."):
        org = message.data.get("organization")
        return _text(org, "id") if isinstance(org, dict) else None
    return None


class ClerkSync:
    """Business rules:
    - a verified token's user and organization exist here from its first request on, and
      the token's role is the member's role (Clerk is the truth);
    - a webhook is applied once: its svix id is recorded in the same transaction as its
      writes, so a replay writes nothing and a failed delivery can be retried;
    - a deleted user loses their memberships and sessions; a deleted organization loses
      its memberships and its API keys are revoked;
    - platform admin is never taken from Clerk: it is granted on this installation only.
    """

    def __init__(
        self,
        uow_factory: AccountsUnitOfWorkFactory,
        clock: Clock,
        api_keys: ApiKeys | None = None,
        role_map: Mapping[str, Role] = DEFAULT_ROLE_MAP,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._api_keys = api_keys
        self._role_map = role_map

    async def identity(self, external: ExternalIdentity) -> Identity:
        role = clerk_role(external.org_role, self._role_map) if external.org_id else None
        async with self._uow_factory(external.org_id) as uow:
            user = await uow.users.get(external.user_id)
            dirty = False
            if user is None:
                user = User(external.user_id, None, self._clock.now())
                await uow.users.save(user)
                dirty = True
            if external.org_id is not None and role is not None:
                dirty |= await self._ensure_member(
                    uow, external.org_id, external.org_slug, user.id, role
                )
            if dirty:
                await uow.commit()
        return Identity(user.id, user.email, user.name, user.platform_admin, external.org_id, role)

    async def _ensure_member(
        self, uow: AccountsUnitOfWork, org_id: str, label: str | None, user_id: str, role: Role
    ) -> bool:
        dirty = False
        if await uow.tenants.get(org_id) is None:
            await uow.tenants.add(Tenant(org_id, label or org_id, self._clock.now()))
            dirty = True
        current = await uow.memberships.get(org_id, user_id)
        if current is None or current.role is not role:
            created = current.created_at if current else self._clock.now()
            await uow.memberships.save(Membership(org_id, user_id, role, created))
            dirty = True
        return dirty

    async def apply(self, message: WebhookMessage) -> SyncOutcome:
        data = message.data
        revoke_keys_of: str | None = None
        async with self._uow_factory(_tenant_of(message)) as uow:
            if not await uow.webhook_receipts.claim(WEBHOOK_SOURCE, message.id, self._clock.now()):
                log.warning("clerk webhook replay refused id=%s type=%s", message.id, message.type)
                return SyncOutcome.REPLAY
            match message.type:
                case "user.created" | "user.updated":
                    outcome = await self._user_upserted(uow, data)
                case "user.deleted":
                    outcome = await self._user_deleted(uow, data)
                case "organization.created" | "organization.updated":
                    outcome = await self._organization_upserted(uow, data)
                case "organization.deleted":
                    outcome = await self._organization_deleted(uow, data)
                    revoke_keys_of = _text(data, "id") if outcome is SyncOutcome.APPLIED else None
                case "organizationMembership.created" | "organizationMembership.updated":
                    outcome = await self._membership_upserted(uow, data)
                case "organizationMembership.deleted":
                    outcome = await self._membership_deleted(uow, data)
                case _:
                    outcome = SyncOutcome.IGNORED
            await uow.commit()
        if revoke_keys_of is not None:
            await self._revoke_keys(revoke_keys_of)
        log.info("clerk webhook id=%s type=%s %s", message.id, message.type, outcome.value)
        return outcome

    async def _user_upserted(self, uow: AccountsUnitOfWork, data: Mapping[str, Any]) -> SyncOutcome:
        user_id = _text(data, "id")
        if user_id is None:
            return SyncOutcome.IGNORED
        current = await uow.users.get(user_id)
        email, name = _primary_email(data), _full_name(data)
        if email is not None:
            holder = await uow.users.by_email(email)
            if holder is not None and holder.id != user_id:
                log.warning(
                    "clerk user %s shares its email with user %s: email not kept",
                    user_id,
                    holder.id,
                )
                email = None
        if current is None:
            user = User(user_id, email, self._clock.now(), name, email_verified=email is not None)
        else:
            user = replace(current, email=email, name=name, email_verified=email is not None)
        await uow.users.save(user)
        return SyncOutcome.APPLIED

    async def _user_deleted(self, uow: AccountsUnitOfWork, data: Mapping[str, Any]) -> SyncOutcome:
        user_id = _text(data, "id")
        if user_id is None:
            return SyncOutcome.IGNORED
        await uow.memberships.remove_user(user_id)
        await uow.sessions.revoke_user(user_id, self._clock.now())
        await uow.users.delete(user_id)
        return SyncOutcome.APPLIED

    async def _organization_upserted(
        self, uow: AccountsUnitOfWork, data: Mapping[str, Any]
    ) -> SyncOutcome:
        org_id, name = _text(data, "id"), _text(data, "name") or _text(data, "slug")
        if org_id is None:
            return SyncOutcome.IGNORED
        current = await uow.tenants.get(org_id)
        if current is None:
            await uow.tenants.add(Tenant(org_id, (name or org_id)[:200], self._clock.now()))
        elif name and name != current.name:
            await uow.tenants.save(replace(current, name=name[:200]))
        return SyncOutcome.APPLIED

    @staticmethod
    async def _organization_deleted(
        uow: AccountsUnitOfWork, data: Mapping[str, Any]
    ) -> SyncOutcome:
        org_id = _text(data, "id")
        if org_id is None:
            return SyncOutcome.IGNORED
        await uow.memberships.remove_tenant(org_id)
        return SyncOutcome.APPLIED

    async def _membership_upserted(
        self, uow: AccountsUnitOfWork, data: Mapping[str, Any]
    ) -> SyncOutcome:
        org, user = data.get("organization"), data.get("public_user_data")
        if not isinstance(org, dict) or not isinstance(user, dict):
            return SyncOutcome.IGNORED
        org_id, user_id = _text(org, "id"), _text(user, "user_id")
        if org_id is None or user_id is None:
            return SyncOutcome.IGNORED
        if await uow.users.get(user_id) is None:
            identifier = _text(user, "identifier")
            email = identifier.lower() if identifier and "@" in identifier else None
            if email is not None and await uow.users.by_email(email) is not None:
                email = None
            await uow.users.save(User(user_id, email, self._clock.now(), _full_name(user)))
        label = _text(org, "name") or _text(org, "slug")
        role = clerk_role(_text(data, "role"), self._role_map)
        await self._ensure_member(uow, org_id, label, user_id, role)
        return SyncOutcome.APPLIED

    @staticmethod
    async def _membership_deleted(uow: AccountsUnitOfWork, data: Mapping[str, Any]) -> SyncOutcome:
        org, user = data.get("organization"), data.get("public_user_data")
        if not isinstance(org, dict) or not isinstance(user, dict):
            return SyncOutcome.IGNORED
        org_id, user_id = _text(org, "id"), _text(user, "user_id")
        if org_id is None or user_id is None:
            return SyncOutcome.IGNORED
        await uow.memberships.remove(org_id, user_id)
        return SyncOutcome.APPLIED

    async def _revoke_keys(self, tenant_id: str) -> None:
        if self._api_keys is not None:
            await self._api_keys.revoke_all(tenant_id)
