"""The life of one instrumented call: check caps, time it, record what it used.

Everything here runs inside the user's call, so it is built to be cheap and to fail
quietly: only SpendingCapExceeded and CapCheckUnavailable are meant to reach the user.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, Callable

from .. import _estimate
from .._caps import CallTarget, Enforcer
from .._context import Attribution, current_attribution
from .._events import PendingEvent
from .._log import logger
from .._runtime import Runtime
from .._usage import ZERO, Usage


class Call:
    """One provider call in flight."""

    __slots__ = (
        "attribution",
        "done",
        "kwargs",
        "model",
        "operation",
        "provider",
        "reservation_id",
        "runtime",
        "started_ns",
        "t0",
    )

    def __init__(
        self,
        runtime: Runtime,
        provider: str,
        model: str,
        operation: str,
        kwargs: Mapping[str, Any],
    ) -> None:
        self.runtime = runtime
        self.provider = provider
        self.model = model
        self.operation = operation
        self.kwargs = kwargs
        self.attribution: Attribution = current_attribution()
        self.reservation_id: str | None = None
        self.started_ns = time.time_ns()
        self.t0 = time.perf_counter()
        self.done = False

    def target(self) -> CallTarget:
        """The call as cap scopes see it."""
        a = self.attribution
        return CallTarget(self.provider, self.model, a.agent_path, a.customer_id)

    def estimate(self) -> dict[str, int]:
        """Worst-case usage for a reservation: prompt size and the output limit."""
        output = (
            0 if self.operation == "embedding" else _estimate.output_limit(self.model, self.kwargs)
        )
        return {"input_tokens": _estimate.prompt_tokens(self.kwargs), "output_tokens": output}

    def restart_clock(self) -> None:
        """Start timing the provider call itself, after the cap check."""
        self.t0 = time.perf_counter()

    def succeeded(self, usage: Usage | None, model: str | None, estimated: bool = False) -> None:
        """Record a call the provider answered; with no usage reported, estimate it."""
        if self.done:
            return
        self.done = True
        if usage is None:
            usage = Usage(input_tokens=_estimate.prompt_tokens(self.kwargs))
            estimated = True
        self._record(usage, model, "ok", estimated, self.reservation_id)

    def failed(self) -> None:
        """Record a failed call at no cost and give its reservation back."""
        if self.done:
            return
        self.done = True
        self._record(ZERO, None, "error", False, None)
        if self.reservation_id is not None:
            self.runtime.release(self.reservation_id)

    def _record(
        self,
        usage: Usage,
        model: str | None,
        status: str,
        estimated: bool,
        reservation_id: str | None,
    ) -> None:
        # The request (prompt included) must not stay alive in the export queue.
        self.kwargs = {}
        self.runtime.record(
            PendingEvent(
                self.started_ns,
                self.provider,
                model if isinstance(model, str) and model else self.model,
                self.operation,
                usage,
                int((time.perf_counter() - self.t0) * 1000),
                status,
                self.attribution,
                reservation_id,
                estimated,
            )
        )


def start_call(
    runtime: Runtime, provider: str, model: Any, operation: str, kwargs: Mapping[str, Any]
) -> Call:
    """Begin a call and run the cap check; raises only the SDK's own cap errors."""
    call = Call(
        runtime, provider, model if isinstance(model, str) else "unknown", operation, kwargs
    )
    enforcer = runtime.enforcer
    if type(enforcer) is not Enforcer:
        estimate = call.estimate() if enforcer.needs_estimate else None
        call.reservation_id = enforcer.before_call(call.target(), estimate)
        call.restart_clock()
    return call


async def start_call_async(
    runtime: Runtime, provider: str, model: Any, operation: str, kwargs: Mapping[str, Any]
) -> Call:
    """``start_call`` for coroutines: a network cap check runs off the event loop."""
    enforcer = runtime.enforcer
    if not enforcer.blocking:
        return start_call(runtime, provider, model, operation, kwargs)
    call = Call(
        runtime, provider, model if isinstance(model, str) else "unknown", operation, kwargs
    )
    call.reservation_id = await asyncio.get_running_loop().run_in_executor(
        None, enforcer.before_call, call.target(), call.estimate()
    )
    call.restart_clock()
    return call


def quietly(action: Callable[[], None]) -> None:
    """Run bookkeeping that must never break the user's call."""
    try:
        action()
    except Exception:
        logger.debug("llmobserve: recording failed", exc_info=True)
