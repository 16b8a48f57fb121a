"""`/tenants` (create, list, read, change), their members and invitations, and `/v1/me`.

A route naming `{tenant_id}` acts in that tenant, whatever the tenant header says; a
tenant the caller does not belong to answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from application.accounts import Unauthenticated
from application.errors import Forbidden, NotFound
from application.tenants import ManageMembers, ManageTenants, TenantRequired
from domain.access import Permission, Principal
from entrypoints.http.accounts.credentials import Person, check_csrf, principal_of
from entrypoints.http.accounts.schemas import (
    InvitationList,
    InvitationOut,
    InviteIn,
    MemberList,
    MemberOut,
    MeOut,
    PersonOut,
    RoleIn,
    TenantIn,
    TenantList,
    TenantOut,
    TenantPatch,
    invitation_out,
    member_out,
    permissions_of,
    tenant_out,
)

Req = Request[Any, Any, Any]


def _caller(request: Req) -> Principal | Person:
    caller = request.scope.get("user")
    if not isinstance(caller, Principal | Person):
        raise Unauthenticated()
    return caller


async def principal_in(request: Req, tenant_id: str) -> Principal:
    """The caller acting in `tenant_id` (404 when it is not theirs)."""
    caller = _caller(request)
    if isinstance(caller, Principal):
        if caller.tenant_id != tenant_id:
            raise NotFound("tenant")
        return caller
    return await principal_of(request, caller, tenant_id)


async def _person(request: Req) -> Person:
    caller = _caller(request)
    if not isinstance(caller, Person):
        raise Forbidden(Permission.MANAGE_TENANT)  # tenants are made by people, not keys
    await check_csrf(request, caller)
    return caller


def _tenants(state: State) -> ManageTenants:
    tenants: ManageTenants = state.container.manage_tenants()
    return tenants


def _members(state: State) -> ManageMembers:
    members: ManageMembers = state.container.manage_members()
    return members


@post(
    "/tenants",
    tags=["tenants"],
    summary="Create a tenant (the caller becomes its owner)",
    status_code=201,
)
async def create_tenant(request: Req, state: State, data: JSONBody[TenantIn]) -> TenantOut:
    person = await _person(request)
    view = await _tenants(state).create(
        person.identity, data.name, data.default_timezone, data.parent_tenant_id
    )
    return tenant_out(view)


@get(
    "/tenants",
    tags=["tenants"],
    summary="The caller's tenants (a platform admin sees every tenant)",
)
async def list_tenants(request: Req, state: State) -> TenantList:
    caller = _caller(request)
    if isinstance(caller, Principal):  # an API key sees its own tenant only
        try:
            return TenantList([tenant_out(await _tenants(state).get(caller, caller.tenant_id))])
        except NotFound:
            return TenantList([])
    return TenantList([tenant_out(v) for v in await _tenants(state).list(caller.identity)])


@get("/tenants/{tenant_id:str}", tags=["tenants"], summary="One tenant")
async def get_tenant(request: Req, state: State, tenant_id: FromPath[str]) -> TenantOut:
    principal = await principal_in(request, tenant_id)
    return tenant_out(await _tenants(state).get(principal, tenant_id))


@patch("/tenants/{tenant_id:str}", tags=["tenants"], summary="Rename a tenant or change its zone")
async def update_tenant(
    request: Req, state: State, tenant_id: FromPath[str], data: JSONBody[TenantPatch]
) -> TenantOut:
    principal = await principal_in(request, tenant_id)
    view = await _tenants(state).update(principal, tenant_id, data.name, data.default_timezone)
    return tenant_out(view)


@get("/tenants/{tenant_id:str}/members", tags=["members"], summary="Members and their roles")
async def list_members(request: Req, state: State, tenant_id: FromPath[str]) -> MemberList:
    principal = await principal_in(request, tenant_id)
    return MemberList([member_out(v) for v in await _members(state).list(principal)])


@post(
    "/tenants/{tenant_id:str}/members",
    tags=["members"],
    summary="Invite someone by email (the invitation is emailed)",
    status_code=201,
)
async def invite_member(
    request: Req, state: State, tenant_id: FromPath[str], data: JSONBody[InviteIn]
) -> InvitationOut:
    principal = await principal_in(request, tenant_id)
    sent = await _members(state).invite(principal, data.email, data.role)
    return invitation_out(sent.invitation)


@patch(
    "/tenants/{tenant_id:str}/members/{user_id:str}",
    tags=["members"],
    summary="Change a member's role",
)
async def change_member_role(
    request: Req,
    state: State,
    tenant_id: FromPath[str],
    user_id: FromPath[str],
    data: JSONBody[RoleIn],
) -> MemberOut:
    principal = await principal_in(request, tenant_id)
    membership = await _members(state).change_role(principal, user_id, data.role)
    return MemberOut(membership.user_id, None, "", membership.role, membership.created_at)


@delete(
    "/tenants/{tenant_id:str}/members/{user_id:str}",
    tags=["members"],
    summary="Remove a member (or leave)",
    status_code=204,
)
async def remove_member(
    request: Req, state: State, tenant_id: FromPath[str], user_id: FromPath[str]
) -> None:
    principal = await principal_in(request, tenant_id)
    await _members(state).remove(principal, user_id)


@get("/tenants/{tenant_id:str}/invitations", tags=["members"], summary="Pending invitations")
async def list_invitations(request: Req, state: State, tenant_id: FromPath[str]) -> InvitationList:
    principal = await principal_in(request, tenant_id)
    return InvitationList([invitation_out(i) for i in await _members(state).invitations(principal)])


@delete(
    "/tenants/{tenant_id:str}/invitations/{invitation_id:str}",
    tags=["members"],
    summary="Withdraw an invitation",
    status_code=204,
)
async def revoke_invitation(
    request: Req, state: State, tenant_id: FromPath[str], invitation_id: FromPath[str]
) -> None:
    principal = await principal_in(request, tenant_id)
    await _members(state).revoke_invitation(principal, invitation_id)


@get("/v1/me", tags=["auth"], summary="Who these credentials are, in which tenant, allowed what")
async def me(request: Req, state: State) -> MeOut:
    caller = _caller(request)
    if isinstance(caller, Principal):
        return MeOut(
            "api_key",
            None,
            caller.api_key_id,
            caller.tenant_id,
            caller.role,
            permissions_of(caller),
            caller.platform_admin,
            [],
        )
    identity = caller.identity
    principal: Principal | None
    try:
        principal = await principal_of(request, caller)
    except TenantRequired:
        principal = None
    user = PersonOut(identity.user_id, identity.email, identity.name, identity.platform_admin)
    tenants = [tenant_out(v) for v in await _tenants(state).list(identity)]
    if not identity.platform_admin:
        tenants = [t for t in tenants if t.role is not None]
    return MeOut(
        caller.via,
        user,
        None,
        principal.tenant_id if principal else None,
        principal.role if principal else None,
        permissions_of(principal),
        identity.platform_admin,
        tenants,
    )


ROUTES = [
    create_tenant,
    list_tenants,
    get_tenant,
    update_tenant,
    list_members,
    invite_member,
    change_member_role,
    remove_member,
    list_invitations,
    revoke_invitation,
    me,
]
