"""Who may do what inside a tenant: the one role matrix every entrypoint asks."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from domain.tenants import KeyKind


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class Permission(enum.StrEnum):
    INGEST = "ingest"  # post events, check and settle reservations
    READ_SPEND = "read_spend"  # reports, caps, alerts
    MANAGE_CAPS = "manage_caps"
    MANAGE_KEYS = "manage_keys"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_TENANT = "manage_tenant"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission) - {Permission.MANAGE_TENANT},
    Role.MEMBER: frozenset({Permission.INGEST, Permission.READ_SPEND, Permission.MANAGE_CAPS}),
    Role.VIEWER: frozenset({Permission.READ_SPEND}),
}

KEY_PERMISSIONS: dict[KeyKind, frozenset[Permission]] = {
    KeyKind.INGEST: frozenset({Permission.INGEST}),
    KeyKind.MANAGEMENT: frozenset(
        {Permission.INGEST, Permission.READ_SPEND, Permission.MANAGE_CAPS, Permission.MANAGE_KEYS}
    ),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, bound to exactly one tenant for this request."""

    tenant_id: str
    permissions: frozenset[Permission]
    user_id: str | None = None
    api_key_id: str | None = None
    role: Role | None = None
    platform_admin: bool = False

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions

    @classmethod
    def for_key(cls, tenant_id: str, key_id: str, kind: KeyKind) -> Principal:
        return cls(tenant_id=tenant_id, permissions=KEY_PERMISSIONS[kind], api_key_id=key_id)

    @classmethod
    def for_member(
        cls, tenant_id: str, user_id: str, role: Role, platform_admin: bool = False
    ) -> Principal:
        return cls(
            tenant_id,
            ROLE_PERMISSIONS[role],
            user_id=user_id,
            role=role,
            platform_admin=platform_admin,
        )
