"""Failures a use case reports to its entrypoint, which maps them to HTTP or exit codes."""

from __future__ import annotations

from domain.access import Permission, Principal


class ApplicationError(Exception):
    pass


class NotFound(ApplicationError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Forbidden(ApplicationError):
    def __init__(self, permission: Permission) -> None:
        super().__init__(f"this credential may not {permission.value.replace('_', ' ')}")
        self.permission = permission


class Invalid(ApplicationError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Conflict(ApplicationError):
    pass


def require(principal: Principal, permission: Permission) -> None:
    if not principal.may(permission):
        raise Forbidden(permission)
