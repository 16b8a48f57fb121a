"""Accounts failures in the API's one error shape (see entrypoints/http/errors.py)."""

from __future__ import annotations

import math
from typing import Any

from litestar import Request, Response
from litestar.types import ExceptionHandlersMap

from application.accounts import RateLimited, SignUpClosed, Unauthenticated
from application.tenants import TenantRequired
from entrypoints.http.errors import ErrorBody, error_response

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="llmobserve"'}


def _unauthenticated(_: Request[Any, Any, Any], __: Unauthenticated) -> Response[ErrorBody]:
    # The same words for every refused credential: nothing that helps a guesser.
    return error_response(401, "authentication required", headers=UNAUTHORIZED_HEADERS)


def _rate_limited(_: Request[Any, Any, Any], exc: RateLimited) -> Response[ErrorBody]:
    seconds = max(1, math.ceil(exc.retry_after_seconds))
    return error_response(
        429, f"too many requests: retry in {seconds}s", headers={"Retry-After": str(seconds)}
    )


def _tenant_required(_: Request[Any, Any, Any], exc: TenantRequired) -> Response[ErrorBody]:
    return error_response(400, str(exc))


def _sign_up_closed(_: Request[Any, Any, Any], exc: SignUpClosed) -> Response[ErrorBody]:
    return error_response(403, str(exc))


def accounts_exception_handlers() -> ExceptionHandlersMap:
    return {
        Unauthenticated: _unauthenticated,
        RateLimited: _rate_limited,
        TenantRequired: _tenant_required,
        SignUpClosed: _sign_up_closed,
    }
