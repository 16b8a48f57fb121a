"""Tenants, their members, the choice of tenant per request, and reporting on behalf."""

from __future__ import annotations

import builtins
import logging
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from application.accounts import Identity
from application.auth_ports import AccountsUnitOfWork, AccountsUnitOfWorkFactory
from application.errors import ApplicationError, Conflict, Invalid, NotFound, require
from application.ports import Clock, IdGenerator, Mailer, OutgoingEmail
from domain.access import ROLE_PERMISSIONS, Permission, Principal, Role
from domain.accounts import (
    INVITATION_LIFETIME,
    ROLE_RANK,
    InvalidAccount,
    Invitation,
    Membership,
    clean_name,
    digest,
    may_set_role,
    normalize_email,
    owners_left,
)
from domain.tenants import Tenant

log = logging.getLogger(__name__)

TENANT_HEADER = "X-LLMObserve-Tenant"
MAX_TENANT_ID_CHARS = 64


class TenantRequired(ApplicationError):
    """The caller belongs to several tenants (or none) and named none for this request."""

    def __init__(self, choices: int) -> None:
        hint = (
            f"you belong to {choices} tenants: name one in the {TENANT_HEADER} header"
            if choices
            else "you belong to no tenant yet: create one with POST /tenants"
        )
        super().__init__(hint)
        self.choices = choices


def platform_principal(tenant_id: str, user_id: str) -> Principal:
    """A platform admin inside a tenant they are not a member of: every permission."""
    return Principal(tenant_id, ROLE_PERMISSIONS[Role.OWNER], user_id=user_id, platform_admin=True)


class TenantAccess:
    """Business rules:
    - a person acts in one tenant per request: the one named in the request, else the one
      their identity-provider token is bound to, else their only tenant;
    - a tenant they do not belong to does not exist for them (404, never 403), unless they
      are a platform admin, who acts there with every permission;
    - a role carried by a verified identity-provider token for its own tenant is used as is;
      any other tenant's role is read from the memberships store, on every request.
    """

    def __init__(self, uow_factory: AccountsUnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def principal(self, identity: Identity, requested: str | None) -> Principal:
        tenant_id = requested or identity.token_tenant
        if tenant_id is not None and len(tenant_id) > MAX_TENANT_ID_CHARS:
            raise NotFound("tenant")
        if (
            tenant_id is not None
            and tenant_id == identity.token_tenant
            and identity.token_role is not None
        ):
            return Principal.for_member(
                tenant_id, identity.user_id, identity.token_role, identity.platform_admin
            )
        async with self._uow_factory(None) as uow:
            if tenant_id is None:
                memberships = await uow.memberships.of_user(identity.user_id)
                if len(memberships) != 1:
                    raise TenantRequired(len(memberships))
                only = memberships[0]
                return Principal.for_member(
                    only.tenant_id, identity.user_id, only.role, identity.platform_admin
                )
            membership = await uow.memberships.get(tenant_id, identity.user_id)
            if membership is not None:
                return Principal.for_member(
                    tenant_id, identity.user_id, membership.role, identity.platform_admin
                )
            if identity.platform_admin and await uow.tenants.get(tenant_id) is not None:
                return platform_principal(tenant_id, identity.user_id)
        raise NotFound("tenant")


@dataclass(frozen=True, slots=True)
class TenantView:
    tenant: Tenant
    role: Role | None  # the caller's role; None for a platform admin or an API key
    parent_tenant_id: str | None = None


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            "default_timezone", "must be an IANA time zone such as Europe/Paris"
        ) from None
    return name


def _check_name(raw: str) -> str:
    try:
        name = clean_name(raw)
    except InvalidAccount as error:
        raise Invalid(error.field, error.message) from None
    if not name:
        raise Invalid("name", "must not be empty")
    return name


class ManageTenants:
    """Business rules:
    - any signed-in person may create a tenant and becomes its owner; API keys may not;
    - a child tenant (`parent_tenant_id`) needs tenant management in the parent, or a
      platform admin: the parent's keys may then report spend on the child's behalf;
    - a platform admin lists every tenant; anyone else lists the tenants they belong to,
      and an API key sees its own tenant only;
    - reading a tenant needs spend-read access in it; changing it needs tenant management;
      a tenant the caller cannot read is not found.
    """

    def __init__(
        self,
        uow_factory: AccountsUnitOfWorkFactory,
        access: TenantAccess,
        ids: IdGenerator,
        clock: Clock,
    ) -> None:
        self._uow_factory = uow_factory
        self._access = access
        self._ids = ids
        self._clock = clock

    async def create(
        self,
        identity: Identity,
        name: str,
        default_timezone: str = "UTC",
        parent_tenant_id: str | None = None,
    ) -> TenantView:
        tenant = Tenant(
            self._ids.new_id("ten"),
            _check_name(name),
            self._clock.now(),
            _check_timezone(default_timezone),
        )
        if parent_tenant_id is not None:
            parent = await self._access.principal(identity, parent_tenant_id)
            require(parent, Permission.MANAGE_TENANT)
        async with self._uow_factory(tenant.id) as uow:
            await uow.tenants.add(tenant)
            await uow.memberships.save(
                Membership(tenant.id, identity.user_id, Role.OWNER, tenant.created_at)
            )
            if parent_tenant_id is not None:
                await uow.tenant_links.set_parent(tenant.id, parent_tenant_id)
            await uow.commit()
        log.info(
            "tenant created id=%s by user=%s parent=%s",
            tenant.id,
            identity.user_id,
            parent_tenant_id,
        )
        return TenantView(tenant, Role.OWNER, parent_tenant_id)

    async def list(self, identity: Identity) -> builtins.list[TenantView]:
        async with self._uow_factory(None) as uow:
            roles = {m.tenant_id: m.role for m in await uow.memberships.of_user(identity.user_id)}
            if identity.platform_admin:
                tenants = await uow.tenants.list()
            else:
                found = [await uow.tenants.get(tenant_id) for tenant_id in sorted(roles)]
                tenants = [t for t in found if t is not None]
            return [
                TenantView(t, roles.get(t.id), await uow.tenant_links.parent_of(t.id))
                for t in tenants
            ]

    async def get(self, principal: Principal, tenant_id: str) -> TenantView:
        if principal.tenant_id != tenant_id or not principal.may(Permission.READ_SPEND):
            raise NotFound("tenant")
        async with self._uow_factory(tenant_id) as uow:
            tenant = await uow.tenants.get(tenant_id)
            if tenant is None:
                raise NotFound("tenant")
            return TenantView(tenant, principal.role, await uow.tenant_links.parent_of(tenant_id))

    async def update(
        self,
        principal: Principal,
        tenant_id: str,
        name: str | None = None,
        default_timezone: str | None = None,
    ) -> TenantView:
        view = await self.get(principal, tenant_id)
        require(principal, Permission.MANAGE_TENANT)
        tenant = view.tenant
        if name is not None:
            tenant = replace(tenant, name=_check_name(name))
        if default_timezone is not None:
            tenant = replace(tenant, default_timezone=_check_timezone(default_timezone))
        async with self._uow_factory(tenant_id) as uow:
            await uow.tenants.save(tenant)
            await uow.commit()
        return replace(view, tenant=tenant)


@dataclass(frozen=True, slots=True)
class MemberView:
    membership: Membership
    email: str | None
    name: str


@dataclass(frozen=True, slots=True)
class NewInvitation:
    invitation: Invitation
    token: str  # shown once, in the email; only its digest is stored


class ManageMembers:
    """Business rules:
    - reading members needs spend-read access; changing them needs member management;
    - admins manage everyone below owner and never grant owner; owners manage everyone;
    - a tenant keeps at least one owner;
    - anyone may leave a tenant (remove themselves) unless they are its last owner;
    - an invitation is emailed, single-use, valid 7 days, and joins only the invited email;
    - a member of another tenant is not found.
    """

    def __init__(
        self,
        uow_factory: AccountsUnitOfWorkFactory,
        ids: IdGenerator,
        clock: Clock,
        mailer: Mailer,
        accept_url: str = "http://localhost:8000/invitations/accept",
    ) -> None:
        self._uow_factory = uow_factory
        self._ids = ids
        self._clock = clock
        self._mailer = mailer
        self._accept_url = accept_url

    async def list(self, principal: Principal) -> builtins.list[MemberView]:
        require(principal, Permission.READ_SPEND)
        async with self._uow_factory(principal.tenant_id) as uow:
            result = []
            for membership in await uow.memberships.of_tenant(principal.tenant_id):
                user = await uow.users.get(membership.user_id)
                result.append(
                    MemberView(membership, user.email if user else None, user.name if user else "")
                )
            return result

    async def invitations(self, principal: Principal) -> builtins.list[Invitation]:
        require(principal, Permission.MANAGE_MEMBERS)
        async with self._uow_factory(principal.tenant_id) as uow:
            return await uow.invitations.of_tenant(principal.tenant_id)

    async def invite(self, principal: Principal, email: str, role: Role) -> NewInvitation:
        require(principal, Permission.MANAGE_MEMBERS)
        actor = self._actor_role(principal)
        if not may_set_role(actor, None, role):
            raise Invalid("role", f"a {actor.value} may not grant {role.value}")
        try:
            email = normalize_email(email)
        except InvalidAccount as error:
            raise Invalid(error.field, error.message) from None
        now = self._clock.now()
        token = self._ids.new_secret()
        invitation = Invitation(
            self._ids.new_id("inv"),
            principal.tenant_id,
            email,
            role,
            digest(token),
            principal.user_id,
            now,
            now + INVITATION_LIFETIME,
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            tenant = await uow.tenants.get(principal.tenant_id)
            if tenant is None:
                raise NotFound("tenant")
            existing = await uow.users.by_email(email)
            if existing and await uow.memberships.get(principal.tenant_id, existing.id):
                raise Conflict("this person is already a member")
            await uow.invitations.add(invitation)
            await uow.commit()
        await self._mailer.send(
            OutgoingEmail(
                (email,),
                f"You are invited to {tenant.name} on LLMObserve",
                f"You are invited to join {tenant.name} on LLMObserve as {role.value}.\n\n"
                f"Accept here (valid 7 days, once):\n{self._accept_url}?token={token}\n",
            )
        )
        log.info("invitation %s to tenant=%s role=%s", invitation.id, principal.tenant_id, role)
        return NewInvitation(invitation, token)

    async def revoke_invitation(self, principal: Principal, invitation_id: str) -> None:
        require(principal, Permission.MANAGE_MEMBERS)
        async with self._uow_factory(principal.tenant_id) as uow:
            if not await uow.invitations.delete(principal.tenant_id, invitation_id):
                raise NotFound("invitation")
            await uow.commit()

    async def accept(self, identity: Identity, token: str) -> Membership:
        """Join the tenant of an invitation sent to the signed-in person's email."""
        now = self._clock.now()
        async with self._uow_factory(None) as uow:  # the token names the tenant
            found = await uow.invitations.by_token_hash(digest(token)) if token else None
        if (
            found is None
            or not found.open(now)
            or identity.email is None
            or found.email != identity.email.lower()
        ):
            raise NotFound("invitation")
        async with self._uow_factory(found.tenant_id) as uow:
            invitation = await uow.invitations.get(found.tenant_id, found.id)
            if invitation is None or not invitation.open(now):
                raise NotFound("invitation")
            current = await uow.memberships.get(invitation.tenant_id, identity.user_id)
            role = invitation.role
            if current is not None and ROLE_RANK[current.role] > ROLE_RANK[role]:
                role = current.role  # an invitation never demotes
            membership = Membership(invitation.tenant_id, identity.user_id, role, now)
            await uow.memberships.save(membership)
            await uow.invitations.save(replace(invitation, accepted_at=now))
            await uow.commit()
        log.info("invitation %s accepted by user=%s", invitation.id, identity.user_id)
        return membership

    async def change_role(self, principal: Principal, user_id: str, role: Role) -> Membership:
        require(principal, Permission.MANAGE_MEMBERS)
        async with self._uow_factory(principal.tenant_id) as uow:
            current = await self._member(uow, principal.tenant_id, user_id)
            await self._check_change(uow, principal, current, role)
            changed = replace(current, role=role)
            await uow.memberships.save(changed)
            await uow.commit()
        log.info(
            "member role tenant=%s user=%s %s->%s", principal.tenant_id, user_id, current.role, role
        )
        return changed

    async def remove(self, principal: Principal, user_id: str) -> None:
        leaving = principal.user_id is not None and principal.user_id == user_id
        if not leaving:
            require(principal, Permission.MANAGE_MEMBERS)
        async with self._uow_factory(principal.tenant_id) as uow:
            current = await self._member(uow, principal.tenant_id, user_id)
            if leaving:
                await self._check_owner_remains(uow, current, None)
            else:
                await self._check_change(uow, principal, current, None)
            await uow.memberships.remove(principal.tenant_id, user_id)
            await uow.commit()
        log.info("member removed tenant=%s user=%s", principal.tenant_id, user_id)

    @staticmethod
    def _actor_role(principal: Principal) -> Role:
        if principal.platform_admin and principal.role is None:
            return Role.OWNER
        if principal.role is None:  # a management key: treated as an admin
            return Role.ADMIN
        return principal.role

    @staticmethod
    async def _member(uow: AccountsUnitOfWork, tenant_id: str, user_id: str) -> Membership:
        membership = await uow.memberships.get(tenant_id, user_id)
        if membership is None:
            raise NotFound("member")
        return membership

    async def _check_change(
        self, uow: AccountsUnitOfWork, principal: Principal, current: Membership, new: Role | None
    ) -> None:
        actor = self._actor_role(principal)
        if not may_set_role(actor, current.role, new):
            raise Invalid("role", f"a {actor.value} may not change an owner or grant owner")
        await self._check_owner_remains(uow, current, new)

    @staticmethod
    async def _check_owner_remains(
        uow: AccountsUnitOfWork, current: Membership, new: Role | None
    ) -> None:
        if current.role is not Role.OWNER or new is Role.OWNER:
            return
        members = await uow.memberships.of_tenant(current.tenant_id)
        if owners_left(members, current.user_id, new) == 0:
            raise Conflict("a tenant keeps at least one owner: make someone else owner first")


class ReportOnBehalf:
    """Business rules (who may send spend events carrying another `tenant_id`):
    - an API key with ingest permission may report for its own tenant and for the tenants
      whose reporting parent is the key's tenant (children created with `parent_tenant_id`);
    - the principal it gets for a child may ingest only, and keeps the key's id;
    - any other tenant is not found, so a key learns nothing of tenants it cannot serve.
    """

    def __init__(self, uow_factory: AccountsUnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def principal_for(self, principal: Principal, tenant_id: str | None) -> Principal:
        require(principal, Permission.INGEST)
        if tenant_id is None or tenant_id == principal.tenant_id:
            return principal
        if principal.api_key_id is None or len(tenant_id) > MAX_TENANT_ID_CHARS:
            raise NotFound("tenant")
        async with self._uow_factory(None) as uow:
            parent = await uow.tenant_links.parent_of(tenant_id)
        if parent != principal.tenant_id:
            log.info(
                "report on behalf refused: key=%s is not the parent of the tenant",
                principal.api_key_id,
            )
            raise NotFound("tenant")
        return Principal(tenant_id, frozenset({Permission.INGEST}), api_key_id=principal.api_key_id)
