"""The tenant's settings and members: invite, change roles, remove; leave; all tenants for admins."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from application.errors import Conflict, Invalid, require
from application.tenants import NewInvitation
from domain.access import Permission, Role
from domain.accounts import ROLE_RANK
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.services import Services, UseCases
from entrypoints.dashboard.viewer import TENANT_COOKIE, CurrentViewer, Viewer
from entrypoints.dashboard.views.common import page_context, posted_form

Req = Request[Any, Any, Any]

NOTICES = {
    "saved": "Tenant settings saved.",
    "role": "Role changed.",
    "removed": "Member removed.",
    "revoked": "Invitation withdrawn.",
}
ROLE_HINTS = {
    Role.OWNER: "everything, including tenant settings",
    Role.ADMIN: "members, keys and caps",
    Role.MEMBER: "caps, and sending events",
    Role.VIEWER: "read only",
}


async def _team_page(
    request: Req,
    viewer: Viewer,
    services: Services,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    invited: NewInvitation | None = None,
    status_code: int = 200,
) -> Response[str]:
    principal = viewer.principal
    members = await services.members.list(principal)
    members.sort(key=lambda m: (-ROLE_RANK[m.membership.role], (m.email or m.name).lower()))
    manage_members = viewer.may(Permission.MANAGE_MEMBERS)
    invitations = await services.members.invitations(principal) if manage_members else []
    now = services.clock.now()
    tenant = viewer.tenant
    base = str(request.base_url).rstrip("/")
    return page(
        "team.html",
        page_context(
            viewer,
            request,
            "team",
            tenant=tenant.tenant if tenant else None,
            members=members,
            invitations=[i for i in invitations if i.open(now)],
            roles=[(r.value, ROLE_HINTS[r]) for r in Role],
            errors=errors or {},
            values=values
            or {
                "name": tenant.tenant.name if tenant else "",
                "default_timezone": tenant.tenant.default_timezone if tenant else "UTC",
                "email": "",
                "role": Role.MEMBER.value,
            },
            invited=invited,
            invite_link=(
                f"{base}/invitation?{urlencode({'token': invited.token})}" if invited else None
            ),
            notice=NOTICES.get(request.query_params.get("notice") or ""),
        ),
        status_code=status_code,
    )


@get("/team", name="dashboard:team")
async def team(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    return await _team_page(request, viewer, services)


@post("/team/settings", name="dashboard:team-settings")
async def team_settings(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[Any]:
    require(viewer.principal, Permission.MANAGE_TENANT)
    form = await posted_form(request, viewer)
    values = {
        "name": form.get("name", "").strip()[:250],
        "default_timezone": form.get("default_timezone", "").strip()[:100] or "UTC",
        "email": "",
        "role": Role.MEMBER.value,
    }
    try:
        await services.tenants.update(
            viewer.principal,
            viewer.principal.tenant_id,
            name=values["name"],
            default_timezone=values["default_timezone"],
        )
    except Invalid as error:
        return await _team_page(
            request, viewer, services, errors={error.field: error.message}, values=values,
            status_code=422,
        )  # fmt: skip
    return Redirect("/team?notice=saved", status_code=303)


def _role(text: str) -> Role | None:
    try:
        return Role(text)
    except ValueError:
        return None


@post("/team/invite", name="dashboard:team-invite")
async def invite(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    require(viewer.principal, Permission.MANAGE_MEMBERS)
    form = await posted_form(request, viewer)
    tenant = viewer.tenant
    values = {
        "name": tenant.tenant.name if tenant else "",
        "default_timezone": tenant.tenant.default_timezone if tenant else "UTC",
        "email": form.get("email", "").strip()[:254],
        "role": form.get("role", ""),
    }
    role = _role(values["role"])
    errors: dict[str, str] = {}
    if not values["email"]:
        errors["email"] = "Enter the email address to invite."
    if role is None:
        errors["role"] = "Choose a role."
    if not errors and role is not None:
        try:
            invited = await services.members.invite(viewer.principal, values["email"], role)
        except Invalid as error:
            errors["role" if error.field == "role" else "email"] = _sentence(error.message)
        except Conflict as error:
            errors["email"] = _sentence(str(error))
        else:
            return await _team_page(request, viewer, services, invited=invited, status_code=201)
    return await _team_page(
        request, viewer, services, errors=errors, values=values, status_code=422
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else text


@post("/team/members/{user_id:str}/role", name="dashboard:member-role")
async def change_role(
    request: Req, viewer: CurrentViewer, services: UseCases, user_id: FromPath[str]
) -> Response[Any]:
    require(viewer.principal, Permission.MANAGE_MEMBERS)
    form = await posted_form(request, viewer)
    role = _role(form.get("role", ""))
    try:
        if role is None:
            raise Invalid("role", "choose a role")
        await services.members.change_role(viewer.principal, user_id, role)
    except (Invalid, Conflict) as error:
        message = error.message if isinstance(error, Invalid) else str(error)
        return await _team_page(
            request, viewer, services, errors={"members": _sentence(message)}, status_code=422
        )
    return Redirect("/team?notice=role", status_code=303)


@post("/team/members/{user_id:str}/remove", name="dashboard:member-remove")
async def remove_member(
    request: Req, viewer: CurrentViewer, services: UseCases, user_id: FromPath[str]
) -> Response[Any]:
    """Removing someone else needs member management; anyone may leave (unless last owner)."""
    leaving = user_id == viewer.principal.user_id
    if not leaving:
        require(viewer.principal, Permission.MANAGE_MEMBERS)
    await posted_form(request, viewer)
    try:
        await services.members.remove(viewer.principal, user_id)
    except (Invalid, Conflict) as error:
        message = error.message if isinstance(error, Invalid) else str(error)
        return await _team_page(
            request, viewer, services, errors={"members": _sentence(message)}, status_code=422
        )
    if leaving:
        response: Response[Any] = Redirect("/", status_code=303)
        response.delete_cookie(TENANT_COOKIE, path="/")
        return response
    return Redirect("/team?notice=removed", status_code=303)


@post("/team/invitations/{invitation_id:str}/revoke", name="dashboard:invitation-revoke")
async def revoke_invitation(
    request: Req, viewer: CurrentViewer, services: UseCases, invitation_id: FromPath[str]
) -> Redirect:
    require(viewer.principal, Permission.MANAGE_MEMBERS)
    await posted_form(request, viewer)
    await services.members.revoke_invitation(viewer.principal, invitation_id)
    return Redirect("/team?notice=revoked", status_code=303)
