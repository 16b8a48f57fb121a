"""Every accounts route, for the app factory: `[*ACCOUNT_ROUTES]`."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from entrypoints.http.accounts import local, tenants, webhooks

ACCOUNT_ROUTES: list[ControllerRouterHandler] = [
    *local.ROUTES,
    *tenants.ROUTES,
    webhooks.clerk_webhook,
]
