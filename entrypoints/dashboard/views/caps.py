"""Caps: live progress bars, and the forms to create, change and delete them."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from application.errors import Invalid, require
from domain.access import Permission
from domain.caps import CapScope, Enforcement, FailPolicy
from domain.periods import Period
from entrypoints.dashboard.cap_rows import cap_rows
from entrypoints.dashboard.csv_export import csv_response
from entrypoints.dashboard.forms import INHERIT, CapForm, parse_cap_form
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.services import UseCases
from entrypoints.dashboard.viewer import CurrentViewer
from entrypoints.dashboard.views.common import page_context, posted_form

Req = Request[Any, Any, Any]

REFRESH_SECONDS = 10
NOTICES = {
    "created": "Cap created.",
    "updated": "Cap saved.",
    "deleted": "Cap deleted.",
}
SCOPE_HINTS = {
    CapScope.GLOBAL: "all spend of the tenant",
    CapScope.PROVIDER: "one provider, such as openai",
    CapScope.MODEL: "one model name as priced, such as gpt-4o",
    CapScope.AGENT: "one agent anywhere in the agent path",
    CapScope.CUSTOMER: "one customer id, as sent by set_customer_id",
}
FAIL_POLICY_HINTS = {
    FailPolicy.OPEN: "let calls through, unverified",
    FailPolicy.CLOSED: "refuse calls",
}


def _form_context(form: CapForm, cap_id: str | None, services: UseCases) -> dict[str, Any]:
    installation = services.settings.cap_fail_policy.value
    return {
        "form": form,
        "cap_id": cap_id,
        "scopes": [(s.value, SCOPE_HINTS[s]) for s in CapScope],
        "periods": [p.value for p in Period],
        "enforcements": [e.value for e in Enforcement],
        "fail_policies": [(INHERIT, "inherit", f"the installation's setting, now {installation}")]
        + [(p.value, p.value, FAIL_POLICY_HINTS[p]) for p in FailPolicy],
    }


@get("/caps", name="dashboard:caps")
async def caps_page(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    items = await services.caps.list(viewer.principal)
    items.sort(key=lambda i: (not i.status.exhausted, -i.status.percent_hundredths, i.cap.name))
    notice = NOTICES.get(request.query_params.get("notice") or "")
    return page(
        "caps.html",
        page_context(
            viewer,
            request,
            "caps",
            rows=cap_rows(items, services.clock.now()),
            notice=notice,
            refresh_seconds=REFRESH_SECONDS,
        ),
    )


@get("/caps/progress.json", name="dashboard:caps-progress")
async def caps_progress(viewer: CurrentViewer, services: UseCases) -> dict[str, object]:
    """What the caps page polls to move its bars without a reload."""
    items = await services.caps.list(viewer.principal)
    now = services.clock.now()
    return {"caps": [row.live() for row in cap_rows(items, now)]}


@get("/export/caps.csv", name="dashboard:caps-csv")
async def caps_csv(viewer: CurrentViewer, services: UseCases) -> Response[bytes]:
    items = await services.caps.list(viewer.principal)
    header = (
        "cap_id", "name", "scope", "scope_value", "period", "enforcement", "limit_usd",
        "spent_usd", "reserved_usd", "percent", "window_start", "window_end", "thresholds",
        "recipients", "enabled",
    )  # fmt: skip
    return csv_response(
        "llmobserve-caps.csv",
        header,
        (
            [
                i.cap.id,
                i.cap.name,
                i.cap.scope.value,
                i.cap.scope_value,
                i.cap.period.value,
                i.cap.enforcement.value,
                i.cap.limit.format(),
                i.status.spent.format(),
                i.status.reserved.format(),
                i.status.percent_text(),
                i.window.start.isoformat(),
                i.window.end.isoformat(),
                " ".join(str(t) for t in i.cap.thresholds),
                " ".join(i.cap.recipients),
                "true" if i.cap.enabled else "false",
            ]
            for i in items
        ),
    )


@get("/caps/new", name="dashboard:cap-new")
async def new_cap(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    require(viewer.principal, Permission.MANAGE_CAPS)
    prefill = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    form = CapForm.blank(prefill)
    return page(
        "cap_form.html",
        page_context(viewer, request, "caps", **_form_context(form, None, services)),
    )


@post("/caps/new", name="dashboard:cap-create")
async def create_cap(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[Any]:
    require(viewer.principal, Permission.MANAGE_CAPS)
    form = parse_cap_form(await posted_form(request, viewer))
    if form.draft is not None:
        try:
            await services.caps.create(viewer.principal, form.draft)
            return Redirect("/caps?notice=created", status_code=303)
        except Invalid as error:
            form.add_error(error.field, error.message)
    return page(
        "cap_form.html",
        page_context(viewer, request, "caps", **_form_context(form, None, services)),
        status_code=422,
    )


@get("/caps/{cap_id:str}/edit", name="dashboard:cap-edit")
async def edit_cap(
    request: Req, viewer: CurrentViewer, services: UseCases, cap_id: FromPath[str]
) -> Response[str]:
    item = await services.caps.get(viewer.principal, cap_id)  # another tenant's id: not found
    require(viewer.principal, Permission.MANAGE_CAPS)
    form = CapForm.of_cap(item.cap)
    return page(
        "cap_form.html",
        page_context(viewer, request, "caps", **_form_context(form, cap_id, services)),
    )


@post("/caps/{cap_id:str}/edit", name="dashboard:cap-update")
async def update_cap(
    request: Req, viewer: CurrentViewer, services: UseCases, cap_id: FromPath[str]
) -> Response[Any]:
    require(viewer.principal, Permission.MANAGE_CAPS)
    form = parse_cap_form(await posted_form(request, viewer))
    if form.draft is not None:
        try:
            await services.caps.update(viewer.principal, cap_id, form.changes())
            return Redirect("/caps?notice=updated", status_code=303)
        except Invalid as error:
            form.add_error(error.field, error.message)
    else:
        await services.caps.get(viewer.principal, cap_id)  # a bad form for a foreign id: 404
    return page(
        "cap_form.html",
        page_context(viewer, request, "caps", **_form_context(form, cap_id, services)),
        status_code=422,
    )


@post("/caps/{cap_id:str}/delete", name="dashboard:cap-delete")
async def delete_cap(
    request: Req, viewer: CurrentViewer, services: UseCases, cap_id: FromPath[str]
) -> Redirect:
    require(viewer.principal, Permission.MANAGE_CAPS)
    await posted_form(request, viewer)
    await services.caps.delete(viewer.principal, cap_id)
    return Redirect("/caps?notice=deleted", status_code=303)
