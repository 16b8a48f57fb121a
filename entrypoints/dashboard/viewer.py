"""Who is looking at a page, in which tenant, and what they may do there.

A page request is signed in by the session cookie of a local account (or Clerk's
`__session` token, through the same identity resolution the API uses). The tenant
is the one the tenant cookie names, when the person may act there; otherwise
their first tenant. Roles are read from the memberships store on every request,
so a changed role applies at once.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.di import NamedDependency

from application.accounts import Identity
from application.errors import NotFound
from application.tenants import TenantRequired, TenantView
from domain.access import Permission, Principal
from domain.accounts import csrf_token_for
from entrypoints.dashboard import auth_bridge
from entrypoints.dashboard.services import Services, UseCases

TENANT_COOKIE = auth_bridge.TENANT_COOKIE
FORM_CSRF_COOKIE = auth_bridge.FORM_CSRF_COOKIE
CSRF_FIELD = auth_bridge.CSRF_FIELD
MAX_NEXT_CHARS = 2000
_UNSAFE_NEXT = re.compile(r"[\x00-\x1f\x7f\\]")


class SignInRequired(Exception):
    """No signed-in person: the page sends the visitor to sign in and back."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


class NoTenant(Exception):
    """Signed in but in no tenant yet: the page offers to create one."""


class CsrfRejected(Exception):
    """A form post without the token of this browser's session."""


def safe_next(raw: str | None, default: str = "/") -> str:
    """`raw` when it is a path on this site, else `default`: never an open redirect."""
    if not raw or len(raw) > MAX_NEXT_CHARS or _UNSAFE_NEXT.search(raw):
        return default
    if not raw.startswith("/") or raw.startswith("//"):
        return default
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return default
    return raw


def requested_path(request: Request[Any, Any, Any]) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


@dataclass(frozen=True, slots=True)
class Viewer:
    identity: Identity
    principal: Principal
    tenants: list[TenantView]
    csrf: str
    local_session: bool
    can: dict[str, bool] = field(default_factory=dict)

    @property
    def tenant(self) -> TenantView | None:
        return next((t for t in self.tenants if t.tenant.id == self.principal.tenant_id), None)

    @property
    def tenant_name(self) -> str:
        current = self.tenant
        return current.tenant.name if current else self.principal.tenant_id

    @property
    def member_tenants(self) -> list[TenantView]:
        """The tenants the switcher offers: the person's own, plus the one in use."""
        return [
            t for t in self.tenants if t.role is not None or t.tenant.id == self.principal.tenant_id
        ]

    def may(self, permission: Permission) -> bool:
        return self.principal.may(permission)


def permissions_of(principal: Principal) -> dict[str, bool]:
    return {permission.value: principal.may(permission) for permission in Permission}


def form_csrf(request: Request[Any, Any, Any]) -> str:
    """The double-submit token of a browser with no local session (sign-in forms, Clerk)."""
    token = request.cookies.get(FORM_CSRF_COOKIE)
    return token if token and 20 <= len(token) <= 100 else secrets.token_urlsafe(24)


def check_csrf(expected: str, presented: object) -> None:
    if not isinstance(presented, str) or not hmac.compare_digest(expected, presented):
        raise CsrfRejected()


async def resolve_viewer(request: Request[Any, Any, Any], services: UseCases) -> Viewer:
    signed_in = await auth_bridge.identify(request, services)
    if signed_in is None:
        raise SignInRequired(requested_path(request))
    identity, session_secret = signed_in
    principal = await _principal(identity, request.cookies.get(TENANT_COOKIE), services)
    tenants = await _switcher_tenants(identity, principal, services)
    csrf = csrf_token_for(session_secret) if session_secret else form_csrf(request)
    return Viewer(
        identity,
        principal,
        tenants,
        csrf,
        local_session=session_secret is not None,
        can=permissions_of(principal),
    )


async def _switcher_tenants(
    identity: Identity, principal: Principal, services: Services
) -> list[TenantView]:
    """The person's own tenants, and the one in use. Listed as a plain member even for a
    platform admin, whose full list (every tenant) is the admin page's, not every page's."""
    own = await services.tenants.list(replace(identity, platform_admin=False))
    if all(view.tenant.id != principal.tenant_id for view in own):
        own.append(await services.tenants.get(principal, principal.tenant_id))
    return sorted(own, key=lambda t: (t.tenant.name.lower(), t.tenant.id))


async def _principal(identity: Identity, chosen: str | None, services: Services) -> Principal:
    access = services.tenant_access
    if chosen:
        try:
            return await access.principal(identity, chosen)
        except NotFound:
            pass  # left that tenant, or a stale cookie: fall back to a tenant of theirs
    try:
        return await access.principal(identity, None)
    except TenantRequired as several:
        if several.choices == 0:
            raise NoTenant() from None
    first = await auth_bridge.first_tenant(identity, services)
    if first is None:
        raise NoTenant()
    return await access.principal(identity, first)


CurrentViewer = NamedDependency[Viewer]
