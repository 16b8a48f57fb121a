"""Signing in and out with a local account: sign-in, sign-up, password reset, magic links.

With Clerk configured the same pages mount Clerk's hosted components instead; with
local accounts switched off (LLMOBSERVE_LOCAL_ACCOUNTS=off) their forms do not exist.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect

from application.accounts import RateLimited, SignUpClosed, Unauthenticated
from application.errors import Conflict, Invalid
from domain.accounts import MIN_PASSWORD_CHARS, csrf_token_for
from entrypoints.dashboard import auth_bridge
from entrypoints.dashboard.services import Services, UseCases
from entrypoints.dashboard.viewer import CSRF_FIELD, check_csrf, safe_next
from entrypoints.dashboard.views.anonymous import (
    anonymous_page,
    posted_anonymous,
    sentence,
    signed_in_redirect,
)

Req = Request[Any, Any, Any]


def common_context(services: Services, target: str) -> dict[str, Any]:
    settings = services.settings
    return {
        "next": target,
        "clerk": auth_bridge.clerk_config(services),
        "local": settings.local_accounts,
        "sign_up_open": settings.sign_up_open,
        "min_password": MIN_PASSWORD_CHARS,
    }


def require_local(services: Services) -> None:
    if not services.settings.local_accounts:
        raise NotFoundException()


def wait_text(limited: RateLimited) -> str:
    wait = int(limited.retry_after_seconds)
    return f"Too many attempts. Try again in {wait} second{'s' if wait != 1 else ''}."


@get("/sign-in", name="dashboard:sign-in")
async def sign_in_page(request: Req, services: UseCases) -> Response[Any]:
    target = safe_next(request.query_params.get("next"))
    if await auth_bridge.identify(request, services) is not None:
        return Redirect(target, status_code=303)
    context = {**common_context(services, target), "email": "", "error": None}
    return anonymous_page(request, "sign_in.html", context)


@post("/sign-in", name="dashboard:sign-in-post")
async def sign_in(request: Req, services: UseCases) -> Response[Any]:
    require_local(services)
    form = await posted_anonymous(request)
    target = safe_next(form.get("next"))
    email = form.get("email", "").strip()[:254]
    context = {**common_context(services, target), "email": email}
    client = request.client.host if request.client else None
    try:
        signed_in = await services.accounts.sign_in(email, form.get("password", ""), client)
    except Unauthenticated:
        context["error"] = "That email and password do not match an account."
        return anonymous_page(request, "sign_in.html", context, status_code=401)
    except RateLimited as limited:
        context["error"] = wait_text(limited)
        return anonymous_page(request, "sign_in.html", context, status_code=429)
    return signed_in_redirect(request, target, signed_in)


def _sign_up_context(
    services: Services, target: str, invitation: str, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    return {
        **common_context(services, target),
        "invitation": invitation,
        "values": values,
        "errors": errors,
    }


@get("/sign-up", name="dashboard:sign-up")
async def sign_up_page(request: Req, services: UseCases) -> Response[Any]:
    target = safe_next(request.query_params.get("next"))
    invitation = (request.query_params.get("invitation") or "")[:200]
    if await auth_bridge.identify(request, services) is not None:
        if invitation:
            return Redirect(f"/invitation?{urlencode({'token': invitation})}", status_code=303)
        return Redirect(target, status_code=303)
    blank = {"name": "", "email": "", "tenant_name": ""}
    context = _sign_up_context(services, target, invitation, blank, {})
    return anonymous_page(request, "sign_up.html", context)


@post("/sign-up", name="dashboard:sign-up-post")
async def sign_up(request: Req, services: UseCases) -> Response[Any]:
    """A new account; without an invitation it owns a new tenant and gets a first key."""
    require_local(services)
    form = await posted_anonymous(request)
    target = safe_next(form.get("next"))
    invitation = form.get("invitation", "")[:200]
    values = {k: form.get(k, "").strip()[:254] for k in ("name", "email", "tenant_name")}
    errors: dict[str, str] = {}
    if not values["email"]:
        errors["email"] = "Enter your email address."
    if len(form.get("password", "")) < MIN_PASSWORD_CHARS:
        errors["password"] = f"Use at least {MIN_PASSWORD_CHARS} characters."
    if errors:
        context = _sign_up_context(services, target, invitation, values, errors)
        return anonymous_page(request, "sign_up.html", context, status_code=422)
    try:
        signed_up = await services.accounts.sign_up(
            values["email"],
            form.get("password", ""),
            name=values["name"] or None,
            tenant_name=values["tenant_name"] or None,
            invitation_token=invitation or None,
        )
    except Invalid as error:
        known = error.field in (*values, "password")
        errors["form" if not known else error.field] = sentence(error.message)
    except (Conflict, SignUpClosed) as error:
        errors["email" if isinstance(error, Conflict) else "form"] = sentence(str(error))
    if errors:
        context = _sign_up_context(services, target, invitation, values, errors)
        return anonymous_page(request, "sign_up.html", context, status_code=422)
    tenant_id = signed_up.tenant.id if signed_up.tenant else None
    if signed_up.api_key is None:
        return signed_in_redirect(request, target, signed_up.signed_in, tenant_id)
    # The first key is shown once, on a welcome page, before the dashboard.
    cookies = auth_bridge.signed_in_cookies(request, signed_up.signed_in)
    if tenant_id:
        cookies.append(auth_bridge.tenant_cookie(request, tenant_id))
    context = {
        "secret": signed_up.api_key.secret,
        "next": target,
        "collector_url": str(request.base_url).rstrip("/"),
        "name": signed_up.signed_in.user.name,
        "response_cookies": cookies,
    }
    return anonymous_page(request, "welcome_key.html", context, status_code=201)


@post("/sign-out", name="dashboard:sign-out")
async def sign_out(request: Req, services: UseCases) -> Response[Any]:
    secret = auth_bridge.session_secret(request)
    form = await request.form()
    if secret:
        check_csrf(csrf_token_for(secret), form.get(CSRF_FIELD))
        await services.accounts.sign_out(secret)
    response: Response[Any] = Redirect("/sign-in", status_code=303)
    for cookie in auth_bridge.cleared_session_cookies(request):
        response.set_cookie(cookie)
    return response
