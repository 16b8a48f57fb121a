"""Where the dashboard meets accounts: identifying the person and writing the cookies.

Everything here delegates to the API's authentication (`entrypoints.http.accounts`), so
a page and an API call agree on who is signed in (local session or Clerk), on the
cookie names and on their flags.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from application.accounts import Identity, SignedIn
from entrypoints.dashboard.services import Services
from entrypoints.http.accounts.credentials import (
    CSRF_FIELD,
    FORM_CSRF_COOKIE,
    SESSION_COOKIE,
    TENANT_COOKIE,
    identify_person,
)
from entrypoints.http.accounts.local import cleared_cookies, secure_cookies, session_cookies

__all__ = [
    "CSRF_FIELD",
    "FORM_CSRF_COOKIE",
    "TENANT_COOKIE",
    "cleared_session_cookies",
    "clerk_config",
    "first_tenant",
    "form_cookie",
    "identify",
    "secure",
    "session_secret",
    "signed_in_cookies",
    "tenant_cookie",
]

Req = Request[Any, Any, Any]
TENANT_COOKIE_MAX_AGE = 400 * 24 * 3600


async def identify(request: Req, services: Services) -> tuple[Identity, str | None] | None:
    """The signed-in person and their local session secret (None for a Clerk sign-in)."""
    return await identify_person(request)


async def first_tenant(identity: Identity, services: Services) -> str | None:
    views = await services.tenants.list(identity)
    own = sorted(
        (v for v in views if v.role is not None), key=lambda v: (v.tenant.name.lower(), v.tenant.id)
    )
    return own[0].tenant.id if own else None


def clerk_config(services: Services) -> dict[str, str] | None:
    """Where Clerk's hosted components load from, when the installation signs in with Clerk."""
    settings = services.settings
    if settings.clerk_publishable_key and settings.clerk_frontend_api:
        host = settings.clerk_frontend_api.removeprefix("https://").rstrip("/")
        return {"publishable_key": settings.clerk_publishable_key, "frontend_api": host}
    return None


def secure(request: Req) -> bool:
    return secure_cookies(request)


def signed_in_cookies(request: Req, signed_in: SignedIn) -> list[Cookie]:
    return session_cookies(request, signed_in)


def cleared_session_cookies(request: Req) -> list[Cookie]:
    return cleared_cookies(request)


def form_cookie(request: Req, token: str) -> Cookie:
    """The double-submit cookie of forms posted without a local session."""
    return Cookie(
        key=FORM_CSRF_COOKIE,
        value=token,
        path="/",
        httponly=True,
        secure=secure_cookies(request),
        samesite="lax",
    )


def tenant_cookie(request: Req, tenant_id: str) -> Cookie:
    """The tenant the dashboard shows; the API honours it too (after the tenant header)."""
    return Cookie(
        key=TENANT_COOKIE,
        value=tenant_id,
        max_age=TENANT_COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        secure=secure_cookies(request),
        samesite="lax",
    )


def session_secret(request: Req) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None
