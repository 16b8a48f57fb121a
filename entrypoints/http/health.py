"""`GET /healthz`: 200 when the store and the counters answer, 503 naming what does not."""

from __future__ import annotations

import asyncio
import logging

import msgspec
from litestar import Response, get
from litestar.datastructures import State

log = logging.getLogger(__name__)
PROBE_TIMEOUT_SECONDS = 2.0


class HealthOut(msgspec.Struct):
    status: str
    checks: dict[str, str]


async def _run(name: str, probe: object) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), PROBE_TIMEOUT_SECONDS)  # type: ignore[operator]
    except Exception as exc:  # a probe failing in any way means "down", never a 500
        log.warning("health probe %s failed: %s", name, exc)
        return name, f"down: {type(exc).__name__}"
    return name, "ok"


@get(
    "/healthz",
    tags=["health"],
    summary="Liveness and dependencies",
    opt={"exclude_from_auth": True},
)
async def healthz(state: State) -> Response[HealthOut]:
    infra = state.container.infra
    results = await asyncio.gather(
        _run("database", infra.database_probe()), _run("counters", infra.counters_probe())
    )
    checks = dict(results)
    healthy = all(value == "ok" for value in checks.values())
    return Response(
        HealthOut("ok" if healthy else "degraded", checks), status_code=200 if healthy else 503
    )
