"""What every signed-in page shares: the navigation, the viewer, the form token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request

from domain.access import Permission
from entrypoints.dashboard import auth_bridge
from entrypoints.dashboard.viewer import (
    CSRF_FIELD,
    FORM_CSRF_COOKIE,
    CurrentViewer,
    Viewer,
    check_csrf,
    requested_path,
)

Req = Request[Any, Any, Any]


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    href: str
    label: str
    permission: Permission | None = None


NAV = (
    NavItem("overview", "/", "Overview"),
    NavItem("customers", "/customers", "Customers"),
    NavItem("caps", "/caps", "Caps"),
    NavItem("alerts", "/alerts", "Alerts"),
    NavItem("keys", "/keys", "API keys", Permission.MANAGE_KEYS),
    NavItem("team", "/team", "Team"),
)


def page_context(viewer: CurrentViewer, request: Req, active: str, **extra: Any) -> dict[str, Any]:
    nav = [item for item in NAV if item.permission is None or viewer.may(item.permission)]
    cookies = []
    if not viewer.local_session and request.cookies.get(FORM_CSRF_COOKIE) != viewer.csrf:
        # A Clerk sign-in has no session-bound token: the forms double-submit a cookie.
        cookies.append(auth_bridge.form_cookie(request, viewer.csrf))
    return {
        "response_cookies": cookies,
        "viewer": viewer,
        "can": viewer.can,
        "nav": nav,
        "active": active,
        "csrf_field": CSRF_FIELD,
        "csrf": viewer.csrf,
        "here": requested_path(request),
        **extra,
    }


async def posted_form(request: Req, viewer: Viewer) -> dict[str, str]:
    """The posted form, after its token proved it came from this browser's session."""
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    check_csrf(viewer.csrf, values.get(CSRF_FIELD))
    return values
