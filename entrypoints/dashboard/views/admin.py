"""The platform admin's view of every tenant; to anyone else the page does not exist."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from application.errors import NotFound
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.services import UseCases
from entrypoints.dashboard.viewer import CurrentViewer
from entrypoints.dashboard.views.common import page_context

Req = Request[Any, Any, Any]


@get("/admin/tenants", name="dashboard:admin-tenants")
async def all_tenants(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    """Every tenant, for the platform admin only; to anyone else the page does not exist."""
    if not viewer.identity.platform_admin:
        raise NotFound("page")
    tenants = await services.tenants.list(viewer.identity)
    tenants.sort(key=lambda t: (t.tenant.name.lower(), t.tenant.id))
    return page("admin_tenants.html", page_context(viewer, request, "admin", tenants=tenants))
