"""Choosing the tenant: the first one, a new one, switching, and joining by invitation."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.response import Redirect

from application.accounts import Identity
from application.errors import Invalid, NotFound
from domain.accounts import csrf_token_for
from entrypoints.dashboard import auth_bridge
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.services import UseCases
from entrypoints.dashboard.viewer import CSRF_FIELD, form_csrf, safe_next
from entrypoints.dashboard.views.anonymous import (
    identity_or_sign_in,
    posted_signed_in,
    sentence,
)

Req = Request[Any, Any, Any]

# Pages that name a record of one tenant: after a switch they would be another's id.
RECORD_PAGES = ("/caps/", "/customers/", "/keys/", "/team/")


def _tenant_form(
    csrf: str, identity: Identity, first: bool, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    return {
        "csrf_field": CSRF_FIELD,
        "csrf": csrf,
        "identity": identity,
        "first": first,
        "values": {"name": "", "default_timezone": "UTC", **values},
        "errors": errors,
    }


@get("/welcome", name="dashboard:welcome")
async def welcome(request: Req, services: UseCases) -> Response[Any]:
    """A signed-in person in no tenant: create one (or open an invitation link)."""
    identity, csrf = await identity_or_sign_in(request, services)
    if await auth_bridge.first_tenant(identity, services) is not None:
        return Redirect("/", status_code=303)
    return page("tenant_new.html", _tenant_form(csrf, identity, True, {}, {}))


@get("/team/new", name="dashboard:tenant-new")
async def new_tenant(request: Req, services: UseCases) -> Response[Any]:
    identity, csrf = await identity_or_sign_in(request, services)
    return page("tenant_new.html", _tenant_form(csrf, identity, False, {}, {}))


@post("/team/new", name="dashboard:tenant-create")
async def create_tenant(request: Req, services: UseCases) -> Response[Any]:
    """Anyone signed in may create a tenant, and owns it; the new tenant is selected."""
    identity, csrf = await identity_or_sign_in(request, services)
    form = await posted_signed_in(request, csrf)
    values = {
        "name": form.get("name", "").strip()[:250],
        "default_timezone": form.get("default_timezone", "").strip()[:100] or "UTC",
    }
    try:
        view = await services.tenants.create(identity, values["name"], values["default_timezone"])
    except Invalid as error:
        first = form.get("first") == "1"
        errors = {error.field: sentence(error.message)}
        return page("tenant_new.html", _tenant_form(csrf, identity, first, values, errors), 422)
    response: Response[Any] = Redirect("/", status_code=303)
    response.set_cookie(auth_bridge.tenant_cookie(request, view.tenant.id))
    return response


@post("/switch-tenant", name="dashboard:switch-tenant")
async def switch_tenant(request: Req, services: UseCases) -> Response[Any]:
    """Select a tenant of the person's (any tenant, for a platform admin); others are 404."""
    identity, csrf = await identity_or_sign_in(request, services)
    form = await posted_signed_in(request, csrf)
    tenant_id = form.get("tenant_id", "")
    await services.tenant_access.principal(identity, tenant_id)
    target = safe_next(form.get("next") or "/")
    if target.startswith(RECORD_PAGES):
        target = "/"
    response: Response[Any] = Redirect(target, status_code=303)
    response.set_cookie(auth_bridge.tenant_cookie(request, tenant_id))
    return response


@get("/invitation", name="dashboard:invitation")
async def invitation_page(request: Req, services: UseCases) -> Response[Any]:
    """Where an invitation link lands: sign up with it, or accept it when signed in."""
    token = (request.query_params.get("token") or "")[:200]
    signed_in = await auth_bridge.identify(request, services)
    if signed_in is None:
        return Redirect(f"/sign-up?{urlencode({'invitation': token})}", status_code=303)
    identity, secret = signed_in
    csrf = csrf_token_for(secret) if secret else form_csrf(request)
    context = {"csrf_field": CSRF_FIELD, "csrf": csrf, "identity": identity, "token": token}
    if not secret:
        context["response_cookies"] = [auth_bridge.form_cookie(request, csrf)]
    return page("invitation.html", context)


@post("/invitation", name="dashboard:invitation-accept")
async def accept_invitation(request: Req, services: UseCases) -> Response[Any]:
    identity, csrf = await identity_or_sign_in(request, services)
    form = await posted_signed_in(request, csrf)
    try:
        membership = await services.members.accept(identity, form.get("token", "")[:200])
    except NotFound:
        context = {
            "csrf_field": CSRF_FIELD,
            "csrf": csrf,
            "identity": identity,
            "token": "",
            "error": "This invitation is unknown, used, expired or for another email address.",
        }
        return page("invitation.html", context, status_code=404)
    response: Response[Any] = Redirect("/", status_code=303)
    response.set_cookie(auth_bridge.tenant_cookie(request, membership.tenant_id))
    return response
