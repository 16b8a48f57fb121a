"""The Litestar app factory: routes, dependencies, errors, auth and lifespan in one place."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

from entrypoints.container import (
    Application,
    build_container,
    close_infrastructure,
    listen_for_key_revocations,
    open_infrastructure,
)
from entrypoints.dashboard import DashboardPlugin
from entrypoints.http import alerts, api_keys, caps, events, health, reservations, spend
from entrypoints.http.accounts.errors import accounts_exception_handlers
from entrypoints.http.accounts.routes import ACCOUNT_ROUTES
from entrypoints.http.auth import KeyUseRecorder, authentication_middleware
from entrypoints.http.body import MAX_DECOMPRESSED_BODY, BodyLimitMiddleware
from entrypoints.http.deps import dependencies
from entrypoints.http.errors import exception_handlers
from entrypoints.scheduler import scheduler_lifespan
from entrypoints.settings import Settings

ROUTES: list[ControllerRouterHandler] = [
    events.record_events,
    reservations.check_caps,
    reservations.settle_reservation,
    reservations.release_reservation,
    reservations.list_blocked_caps,
    caps.create_cap,
    caps.list_caps,
    caps.get_cap,
    caps.update_cap,
    caps.delete_cap,
    spend.spend_summary,
    spend.spend_timeseries,
    alerts.list_alerts,
    api_keys.create_api_key,
    api_keys.list_api_keys,
    api_keys.revoke_api_key,
    health.healthz,
]


def _version() -> str:
    try:
        return version("llmobserve-server")
    except PackageNotFoundError:
        return "0.0.0"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="LLMObserve collector",
        version=_version(),
        description="LLM cost tracking and spending caps. Money is a decimal string of USD.",
        path="/schema",
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer", bearer_format="llmo_sk_...")
            }
        ),
        security=[{"apiKey": []}],
    )


def create_app(
    container: Application,
    *,
    run_jobs: bool = True,
    extra_routes: list[ControllerRouterHandler] | None = None,
    freeze_heap: bool = False,
) -> Litestar:
    """`run_jobs`: with no Redis this process also runs the background jobs (embedded default).
    `freeze_heap`: the app owns its process (a server, not a test), see `freeze_startup_heap`."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await open_infrastructure(container)
        revocations = listen_for_key_revocations(container)
        if freeze_heap:
            freeze_startup_heap()
        try:
            yield
        finally:
            if revocations is not None:
                revocations.cancel()
                with suppress(asyncio.CancelledError):
                    await revocations
            await close_infrastructure(container)

    return Litestar(
        route_handlers=[*ROUTES, *ACCOUNT_ROUTES, *(extra_routes or [])],
        dependencies=dependencies(),
        exception_handlers={**exception_handlers(), **accounts_exception_handlers()},
        middleware=[authentication_middleware(), BodyLimitMiddleware],
        plugins=[DashboardPlugin()],
        lifespan=[lifespan, *([scheduler_lifespan(container)] if run_jobs else [])],
        state=State({"container": container, "key_use": KeyUseRecorder(container.api_keys())}),
        openapi_config=openapi_config(),
        # The wire limit (1 MiB) is enforced by BodyLimitMiddleware before decompression;
        # this bounds what a handler may read after it.
        request_max_body_size=MAX_DECOMPRESSED_BODY,
        debug=False,
    )


def create_app_from_env() -> Litestar:
    """For `uvicorn --factory entrypoints.http.app:create_app_from_env`."""
    return create_app(build_container(Settings.from_env()), freeze_heap=True)


def freeze_startup_heap() -> None:
    """Take every object alive after start-up (routes, tables, templates, the price
    catalog) out of the garbage collector's reach. Otherwise each full collection walks
    them all again, a pause of 100 ms and more in the middle of whichever request
    triggered it: the slowest dashboard pages were exactly those."""
    gc.collect()
    gc.freeze()
