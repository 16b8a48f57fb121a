"""The signed-in person: name, email, their tenants and roles, and their password."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from application.accounts import RateLimited, Unauthenticated
from application.errors import Invalid, NotFound
from domain.accounts import MIN_PASSWORD_CHARS
from entrypoints.dashboard import auth_bridge
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.services import Services, UseCases
from entrypoints.dashboard.viewer import CurrentViewer, Viewer
from entrypoints.dashboard.views.anonymous import sentence
from entrypoints.dashboard.views.common import page_context, posted_form

Req = Request[Any, Any, Any]

NOTICES = {
    "password": "Password changed. Other browsers were signed out.",
}


async def _profile_page(
    request: Req,
    viewer: Viewer,
    services: Services,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response[str]:
    memberships = [t for t in viewer.tenants if t.role is not None]
    return page(
        "profile.html",
        page_context(
            viewer,
            request,
            "profile",
            memberships=memberships,
            errors=errors or {},
            min_password=MIN_PASSWORD_CHARS,
            notice=NOTICES.get(request.query_params.get("notice") or ""),
            clerk=auth_bridge.clerk_config(services),
        ),
        status_code=status_code,
    )


@get("/profile", name="dashboard:profile")
async def profile(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    return await _profile_page(request, viewer, services)


@post("/profile/password", name="dashboard:profile-password")
async def change_password(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[Any]:
    """Local accounts only: the current password, then the new one twice. Other browsers
    are signed out; this one stays signed in."""
    form = await posted_form(request, viewer)
    secret = auth_bridge.session_secret(request)
    if not viewer.local_session or secret is None:
        raise NotFound("page")
    current, new, again = (form.get(k, "") for k in ("current", "new", "again"))
    errors: dict[str, str] = {}
    if not current:
        errors["current"] = "Enter your current password."
    if len(new) < MIN_PASSWORD_CHARS:
        errors["new"] = f"Use at least {MIN_PASSWORD_CHARS} characters."
    elif new != again:
        errors["again"] = "The two new passwords differ."
    if not errors:
        try:
            await services.accounts.change_password(
                viewer.identity.user_id, current, new, keep_session=secret
            )
        except Unauthenticated:
            errors["current"] = "That is not your current password."
        except RateLimited as limited:
            errors["current"] = (
                f"Too many attempts. Try again in {int(limited.retry_after_seconds)} s."
            )
        except Invalid as error:
            errors["new"] = sentence(error.message)
        else:
            return Redirect("/profile?notice=password", status_code=303)
    return await _profile_page(request, viewer, services, errors=errors, status_code=422)
