"""What the pages before a tenant is chosen share (some run before anyone is signed in).

They read the identity themselves instead of taking a `Viewer`. Forms without a
session carry a double-submit token (a cookie set with the page, and the same value in
the form); forms with a session carry the session's own token.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect

from application.accounts import Identity, SignedIn
from domain.accounts import csrf_token_for
from entrypoints.dashboard import auth_bridge
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.services import Services
from entrypoints.dashboard.viewer import (
    CSRF_FIELD,
    FORM_CSRF_COOKIE,
    SignInRequired,
    check_csrf,
    form_csrf,
    requested_path,
)

Req = Request[Any, Any, Any]


def anonymous_page(
    request: Req, template: str, context: dict[str, Any], status_code: int = 200
) -> Response[str]:
    """A page whose forms post without a session: it sets their double-submit cookie."""
    token = form_csrf(request)
    cookies = [auth_bridge.form_cookie(request, token), *context.pop("response_cookies", [])]
    return page(
        template,
        {"csrf_field": CSRF_FIELD, "csrf": token, "response_cookies": cookies, **context},
        status_code=status_code,
    )


async def posted_anonymous(request: Req) -> dict[str, str]:
    """A form from a signed-out browser: its token must match the cookie set with the page."""
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    check_csrf(request.cookies.get(FORM_CSRF_COOKIE) or "", values.get(CSRF_FIELD))
    return values


async def identity_or_sign_in(request: Req, services: Services) -> tuple[Identity, str]:
    """The signed-in person and the form token of their browser, or off to sign in."""
    signed_in = await auth_bridge.identify(request, services)
    if signed_in is None:
        raise SignInRequired(requested_path(request))
    identity, secret = signed_in
    return identity, csrf_token_for(secret) if secret else form_csrf(request)


async def posted_signed_in(request: Req, csrf: str) -> dict[str, str]:
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    check_csrf(csrf, values.get(CSRF_FIELD))
    return values


def signed_in_redirect(
    request: Req, target: str, signed_in: SignedIn, tenant_id: str | None = None
) -> Response[Any]:
    response: Response[Any] = Redirect(target, status_code=303)
    for cookie in auth_bridge.signed_in_cookies(request, signed_in):
        response.set_cookie(cookie)
    if tenant_id:
        response.set_cookie(auth_bridge.tenant_cookie(request, tenant_id))
    return response


def sentence(text: str) -> str:
    """A use case's message ("must be ...") as a sentence beside a field."""
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else text
