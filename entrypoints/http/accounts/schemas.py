"""The accounts API's bodies (msgspec structs) and their mapping from the use cases."""

from __future__ import annotations

from datetime import datetime

import msgspec

from application.accounts import SignedIn
from application.tenants import MemberView, TenantView
from domain.access import Permission, Principal, Role
from domain.accounts import Invitation, Membership, User


class SignUpIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str
    name: str | None = None
    tenant_name: str | None = None
    invitation_token: str | None = None


class SignInIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str


class EmailIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    token: str


class NewPasswordIn(msgspec.Struct, forbid_unknown_fields=True):
    token: str
    password: str


class UserOut(msgspec.Struct):
    id: str
    email: str | None
    name: str
    email_verified: bool
    platform_admin: bool


def user_out(user: User) -> UserOut:
    return UserOut(user.id, user.email, user.name, user.email_verified, user.platform_admin)


class SessionOut(msgspec.Struct):
    """The secret is in the HttpOnly cookie only; `csrf_token` goes back in X-CSRF-Token."""

    user: UserOut
    csrf_token: str
    expires_at: datetime


def session_out(signed_in: SignedIn) -> SessionOut:
    return SessionOut(user_out(signed_in.user), signed_in.csrf, signed_in.session.expires_at)


class TenantOut(msgspec.Struct):
    id: str
    name: str
    default_timezone: str
    created_at: datetime
    role: Role | None
    parent_tenant_id: str | None


def tenant_out(view: TenantView) -> TenantOut:
    tenant = view.tenant
    return TenantOut(
        tenant.id,
        tenant.name,
        tenant.default_timezone,
        tenant.created_at,
        view.role,
        view.parent_tenant_id,
    )


class NewKeyOut(msgspec.Struct):
    id: str
    prefix: str
    kind: str
    key: str


class SignedUpOut(msgspec.Struct):
    user: UserOut
    csrf_token: str
    expires_at: datetime
    tenant: TenantOut | None
    api_key: NewKeyOut | None


class MessageOut(msgspec.Struct):
    status: str


class CsrfOut(msgspec.Struct):
    csrf_token: str


class TenantIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    default_timezone: str = "UTC"
    parent_tenant_id: str | None = None


class TenantPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    default_timezone: str | None = None


class TenantList(msgspec.Struct):
    tenants: list[TenantOut]


class MemberOut(msgspec.Struct):
    user_id: str
    email: str | None
    name: str
    role: Role
    joined_at: datetime


def member_out(view: MemberView) -> MemberOut:
    m = view.membership
    return MemberOut(m.user_id, view.email, view.name, m.role, m.created_at)


def membership_out(membership: Membership) -> MemberOut:
    return MemberOut(membership.user_id, None, "", membership.role, membership.created_at)


class MemberList(msgspec.Struct):
    members: list[MemberOut]


class InviteIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    role: Role = Role.MEMBER


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class InvitationOut(msgspec.Struct):
    id: str
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        invitation.id,
        invitation.email,
        invitation.role,
        invitation.created_at,
        invitation.expires_at,
        invitation.accepted_at,
    )


class InvitationList(msgspec.Struct):
    invitations: list[InvitationOut]


class PersonOut(msgspec.Struct):
    id: str
    email: str | None
    name: str
    platform_admin: bool


class MeOut(msgspec.Struct):
    """Who the credentials are, and what they may do in the request's tenant."""

    auth: str  # api_key | session | clerk
    user: PersonOut | None
    api_key_id: str | None
    tenant_id: str | None  # null when a person in several tenants named none
    role: Role | None
    permissions: list[Permission]
    platform_admin: bool
    tenants: list[TenantOut]


def permissions_of(principal: Principal | None) -> list[Permission]:
    if principal is None:
        return []
    return sorted(principal.permissions, key=lambda p: list(Permission).index(p))
