"""Every failure becomes one JSON shape: {"status_code", "detail", "extra": [{"field", "message"}]}.

Use-case errors map to their status here and nowhere else; Litestar's own
exceptions are reshaped; anything unexpected is logged and answered with a bare
500, never a stack trace.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from application.errors import Conflict, Forbidden, Invalid, NotFound
from application.ports import CounterStoreUnavailable

log = logging.getLogger(__name__)

# Body fields that carry money: a JSON number there gets a message saying why it is refused.
MONEY_FIELDS = frozenset({"limit", "estimated_cost", "actual_cost"})
_NAMED_FIELD = re.compile(r"(?P<kind>missing required|unknown) field `(?P<name>[^`]+)`")


class FieldError(msgspec.Struct):
    field: str
    message: str


class ErrorBody(msgspec.Struct):
    status_code: int
    detail: str
    extra: list[FieldError] = []


class ApiError(HTTPException):
    """Raised by handlers for request problems they detect themselves (400, 413, 415)."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=status_code, headers=headers)
        self.errors = errors or []


def error_response(
    status_code: int,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ErrorBody]:
    return Response(
        ErrorBody(status_code, detail, errors or []), status_code=status_code, headers=headers
    )


def _invalid(_: Request[Any, Any, Any], exc: Invalid) -> Response[ErrorBody]:
    return error_response(
        422, f"invalid {exc.field}: {exc.message}", [FieldError(exc.field, exc.message)]
    )


def _not_found(_: Request[Any, Any, Any], exc: NotFound) -> Response[ErrorBody]:
    return error_response(404, str(exc))


def _forbidden(_: Request[Any, Any, Any], exc: Forbidden) -> Response[ErrorBody]:
    return error_response(403, str(exc))


def _conflict(_: Request[Any, Any, Any], exc: Conflict) -> Response[ErrorBody]:
    return error_response(409, str(exc) or "conflict")


def _counters_down(_: Request[Any, Any, Any], exc: CounterStoreUnavailable) -> Response[ErrorBody]:
    log.warning("counter store unavailable: %s", exc)
    return error_response(
        503, "the live counter store is unavailable; retry shortly", headers={"Retry-After": "5"}
    )


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    """Litestar's own decoding of bodies, query and path parameters: 422 naming each field."""
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        field, message = _field_and_message(
            str(item.get("key") or ""), str(item.get("message") or "is invalid")
        )
        if field in MONEY_FIELDS and message.startswith("Expected `str`"):
            message = 'money is a decimal string of US dollars such as "0.10", not a JSON number'
        errors.append(FieldError(field, message))
    if not errors:
        errors.append(FieldError("body", exc.detail))
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return error_response(422, f"invalid request: {detail}", errors)


def _field_and_message(key: str, message: str) -> tuple[str, str]:
    """msgspec names a missing or unknown body field in its message, not in the key."""
    named = _NAMED_FIELD.search(message)
    if named is not None:
        prefix = "" if key in ("", "data") else f"{key}."
        wording = (
            "is required" if named.group("kind") == "missing required" else "is not a known field"
        )
        return prefix + named.group("name"), wording
    return (key if key not in ("", "data") else "body"), message


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    if exc.status_code == 500:
        return _unexpected(request, exc)
    errors = exc.errors if isinstance(exc, ApiError) else []
    detail = exc.detail
    if exc.status_code == 400 and detail.startswith(("JSON is malformed", "Input data was")):
        detail = f"the body is not valid JSON: {detail}"
        errors = [FieldError("body", detail)]
    return error_response(exc.status_code, detail, errors, headers=exc.headers)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal server error")


def exception_handlers() -> ExceptionHandlersMap:
    return {
        Invalid: _invalid,
        NotFound: _not_found,
        Forbidden: _forbidden,
        Conflict: _conflict,
        CounterStoreUnavailable: _counters_down,
        ValidationException: _validation,
        HTTPException: _http,
        Exception: _unexpected,
    }
