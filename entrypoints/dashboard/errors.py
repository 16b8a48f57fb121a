"""Failures on dashboard pages become HTML: a redirect to sign in, or a plain error page.

These handlers sit on the dashboard's router, so they win over the API's JSON handlers
for its routes only. Nothing here ever shows a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from application.accounts import RateLimited, SignUpClosed, Unauthenticated
from application.errors import Conflict, Forbidden, Invalid, NotFound
from application.ports import CounterStoreUnavailable
from application.tenants import TenantRequired
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.viewer import CsrfRejected, NoTenant, SignInRequired, safe_next

log = logging.getLogger(__name__)

Req = Request[Any, Any, Any]


def error_page(status: int, title: str, message: str) -> Response[str]:
    return page("error.html", {"status": status, "title": title, "message": message}, status)


def _sign_in(request: Req, exc: SignInRequired) -> Response[Any]:
    target = safe_next(exc.next_path)
    query = urlencode({"next": target}) if target != "/" else ""
    if request.method != "GET":
        # A form posted after the session ended: back to the page it came from afterwards.
        referer = request.headers.get("referer", "")
        query = urlencode({"next": safe_next(_path_of(referer, request))})
    return Redirect(f"/sign-in?{query}" if query else "/sign-in", status_code=303)


def _path_of(url: str, request: Req) -> str:
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return url[len(origin) :] if url.startswith(origin) else "/"


def _no_tenant(_: Req, __: NoTenant) -> Response[Any]:
    return Redirect("/welcome", status_code=303)


def _not_found(_: Req, exc: Exception) -> Response[str]:
    return error_page(404, "Not found", "There is nothing here, or it belongs to another tenant.")


def _forbidden(_: Req, exc: Exception) -> Response[str]:
    return error_page(
        403, "Not allowed", "Your role in this tenant does not allow this. Ask an owner or admin."
    )


def _csrf(_: Req, __: CsrfRejected) -> Response[str]:
    return error_page(
        403, "Form expired", "This form was opened in another session. Reload the page and retry."
    )


def _invalid(_: Req, exc: Invalid) -> Response[str]:
    return error_page(400, "Invalid request", f"{exc.field}: {exc.message}")


def _conflict(_: Req, exc: Conflict) -> Response[str]:
    return error_page(409, "Conflict", str(exc) or "That conflicts with the current state.")


def _rate_limited(_: Req, exc: RateLimited) -> Response[str]:
    response = error_page(429, "Too many attempts", "Wait a moment, then try again.")
    response.headers["Retry-After"] = str(int(exc.retry_after_seconds))
    return response


def _counters_down(_: Req, exc: CounterStoreUnavailable) -> Response[str]:
    log.warning("counter store unavailable on a page: %s", exc)
    return error_page(503, "Temporarily unavailable", "Live cap counters are unreachable; retry.")


def _http(request: Req, exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotAuthorizedException):
        return _sign_in(request, SignInRequired(request.url.path))
    if isinstance(exc, PermissionDeniedException):
        return _forbidden(request, exc)
    if exc.status_code == 404:
        return _not_found(request, exc)
    if exc.status_code >= 500:
        return _unexpected(request, exc)
    # Malformed query or form values Litestar refused before the handler ran.
    return error_page(exc.status_code, "Bad request", "The request could not be understood.")


def _unexpected(request: Req, exc: Exception) -> Response[str]:
    log.error("unhandled error on page %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(500, "Something went wrong", "The error was logged. Please retry shortly.")


def exception_handlers() -> ExceptionHandlersMap:
    return {
        SignInRequired: _sign_in,
        Unauthenticated: lambda request, _: _sign_in(request, SignInRequired("/")),
        NoTenant: _no_tenant,
        TenantRequired: _no_tenant,
        NotFound: _not_found,
        Forbidden: _forbidden,
        CsrfRejected: _csrf,
        Invalid: _invalid,
        Conflict: _conflict,
        RateLimited: _rate_limited,
        CounterStoreUnavailable: _counters_down,
        SignUpClosed: lambda _, exc: error_page(403, "Sign-up closed", str(exc)),
        # The app maps these to JSON; on pages they are HTML like everything else.
        ValidationException: _http,
        NotAuthorizedException: _http,
        PermissionDeniedException: _http,
        NotFoundException: _http,
        HTTPException: _http,
        Exception: _unexpected,
    }
