"""Getting back in: a password-reset link, a one-time sign-in link, and the pages they open."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from application.accounts import RateLimited, Unauthenticated
from application.errors import Invalid
from domain.accounts import MIN_PASSWORD_CHARS
from entrypoints.dashboard.services import UseCases
from entrypoints.dashboard.views.anonymous import (
    anonymous_page,
    posted_anonymous,
    sentence,
    signed_in_redirect,
)
from entrypoints.dashboard.views.sign_in import common_context, require_local, wait_text

Req = Request[Any, Any, Any]


@get("/forgot-password", name="dashboard:forgot-password")
async def forgot_password_page(request: Req, services: UseCases) -> Response[Any]:
    require_local(services)
    context = {**common_context(services, "/"), "email": "", "sent": None, "error": None}
    return anonymous_page(request, "forgot_password.html", context)


@post("/forgot-password", name="dashboard:forgot-password-post")
async def forgot_password(request: Req, services: UseCases) -> Response[Any]:
    """Email a reset link or a sign-in link; the answer is the same whether or not the
    address has an account."""
    require_local(services)
    form = await posted_anonymous(request)
    email = form.get("email", "").strip()[:254]
    link = form.get("kind") == "magic"
    context = {**common_context(services, "/"), "email": email, "sent": None, "error": None}
    try:
        if link:
            await services.accounts.request_magic_link(email)
        else:
            await services.accounts.request_password_reset(email)
    except Invalid:
        context["error"] = "Enter the email address of your account."
        return anonymous_page(request, "forgot_password.html", context, status_code=422)
    except RateLimited as limited:
        context["error"] = wait_text(limited)
        return anonymous_page(request, "forgot_password.html", context, status_code=429)
    context["sent"] = "sign-in link" if link else "password reset link"
    return anonymous_page(request, "forgot_password.html", context)


@get("/reset-password", name="dashboard:reset-password")
async def reset_password_page(request: Req, services: UseCases) -> Response[Any]:
    require_local(services)
    token = (request.query_params.get("token") or "")[:200]
    context = {**common_context(services, "/"), "token": token, "errors": {}}
    return anonymous_page(request, "reset_password.html", context)


@post("/reset-password", name="dashboard:reset-password-post")
async def reset_password(request: Req, services: UseCases) -> Response[Any]:
    require_local(services)
    form = await posted_anonymous(request)
    token, new, again = (form.get(k, "") for k in ("token", "password", "again"))
    errors: dict[str, str] = {}
    if len(new) < MIN_PASSWORD_CHARS:
        errors["password"] = f"Use at least {MIN_PASSWORD_CHARS} characters."
    elif new != again:
        errors["again"] = "The two passwords differ."
    else:
        try:
            signed_in = await services.accounts.reset_password(token[:200], new)
        except Unauthenticated:
            errors["form"] = "This link is unknown, used or expired. Ask for a new one."
        except Invalid as error:
            errors["password"] = sentence(error.message)
        else:
            return signed_in_redirect(request, "/", signed_in)
    context = {**common_context(services, "/"), "token": token[:200], "errors": errors}
    return anonymous_page(request, "reset_password.html", context, status_code=422)


@get("/sign-in/magic", name="dashboard:magic-link")
async def magic_link_page(request: Req, services: UseCases) -> Response[Any]:
    """A page with a button rather than an instant sign-in: mail scanners that open
    links must not spend the single-use token."""
    require_local(services)
    token = (request.query_params.get("token") or "")[:200]
    context = {**common_context(services, "/"), "token": token, "error": None}
    return anonymous_page(request, "magic_link.html", context)


@post("/sign-in/magic", name="dashboard:magic-link-post")
async def magic_link(request: Req, services: UseCases) -> Response[Any]:
    require_local(services)
    form = await posted_anonymous(request)
    try:
        signed_in = await services.accounts.sign_in_with_link(form.get("token", "")[:200])
    except Unauthenticated:
        context = {
            **common_context(services, "/"),
            "token": "",
            "error": "This link is unknown, used or expired. Ask for a new one.",
        }
        return anonymous_page(request, "magic_link.html", context, status_code=401)
    return signed_in_redirect(request, "/", signed_in)
