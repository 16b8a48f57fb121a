"""API keys: create one (its secret shown once), list them by prefix, revoke for good."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from application.api_keys import NewApiKey
from application.errors import Invalid, require
from domain.access import Permission
from domain.tenants import KeyKind
from entrypoints.dashboard.formatting import relative
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.services import Services, UseCases
from entrypoints.dashboard.viewer import CurrentViewer, Viewer
from entrypoints.dashboard.views.common import page_context, posted_form

Req = Request[Any, Any, Any]

NOTICES = {"revoked": "Key revoked. Calls using it are refused from now on."}
KIND_HINTS = {
    KeyKind.INGEST: "ingest — the SDK: events, cap checks",
    KeyKind.MANAGEMENT: "management — also reports, caps, keys",
}


async def _keys_page(
    request: Req,
    viewer: Viewer,
    services: Services,
    created: NewApiKey | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response[str]:
    keys = await services.api_keys.list(viewer.principal)
    keys.sort(key=lambda k: (k.revoked_at is not None, -k.created_at.timestamp()))
    now = services.clock.now()
    return page(
        "keys.html",
        page_context(
            viewer,
            request,
            "keys",
            keys=keys,
            created=created,
            values=values or {"name": "", "kind": KeyKind.INGEST.value},
            errors=errors or {},
            kinds=[(k.value, KIND_HINTS[k]) for k in KeyKind],
            notice=NOTICES.get(request.query_params.get("notice") or ""),
            since=lambda instant: relative(instant, now),
            collector_url=str(request.base_url).rstrip("/"),
        ),
        status_code=status_code,
    )


@get("/keys", name="dashboard:keys")
async def keys_page(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    require(viewer.principal, Permission.MANAGE_KEYS)
    return await _keys_page(request, viewer, services)


@post("/keys", name="dashboard:key-create")
async def create_key(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    require(viewer.principal, Permission.MANAGE_KEYS)
    form = await posted_form(request, viewer)
    values = {"name": form.get("name", "").strip(), "kind": form.get("kind", "")}
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Name the key after where it is used, such as production-api."
    elif len(values["name"]) > 100:
        errors["name"] = "At most 100 characters."
    if values["kind"] not in {k.value for k in KeyKind}:
        errors["kind"] = "Choose ingest or management."
    if not errors:
        try:
            created = await services.api_keys.create(
                viewer.principal, values["name"], KeyKind(values["kind"])
            )
        except Invalid as error:
            errors[error.field if error.field in values else "name"] = error.message
        else:
            # Rendered, not redirected: the secret exists only in this one response.
            return await _keys_page(request, viewer, services, created=created, status_code=201)
    return await _keys_page(
        request, viewer, services, values=values, errors=errors, status_code=422
    )


@post("/keys/{key_id:str}/revoke", name="dashboard:key-revoke")
async def revoke_key(
    request: Req, viewer: CurrentViewer, services: UseCases, key_id: FromPath[str]
) -> Redirect:
    require(viewer.principal, Permission.MANAGE_KEYS)
    await posted_form(request, viewer)
    await services.api_keys.revoke(viewer.principal, key_id)
    return Redirect("/keys?notice=revoked", status_code=303)
