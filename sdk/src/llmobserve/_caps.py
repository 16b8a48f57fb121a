"""Hard-block cap enforcement before a call: off, or strict (reserve with the collector).

Strict mode asks the collector to reserve the call's estimated cost against every
matching block cap (``POST /v1/caps/check``); the event reported after the call
carries the reservation id, which settles it at the actual cost, and a failed call
releases it. Cached mode is in ``_cached_caps``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ._errors import CapCheckUnavailable, SpendingCapExceeded
from ._http import HttpClient, TransportError
from ._log import logger, warn_once

RESERVATION_TTL_SECONDS = 300


@dataclass(frozen=True)
class CallTarget:
    """What a call is, as cap scopes see it."""

    provider: str
    model: str
    agent: str | None
    customer_id: str | None


class Enforcer:
    """No enforcement: every call goes through (``enforce="off"``)."""

    #: True when ``before_call`` may wait on the network (async callers use a thread).
    blocking = False
    #: True when ``before_call`` uses the usage estimate (it costs a walk of the prompt).
    needs_estimate = False

    def before_call(self, target: CallTarget, estimate: Mapping[str, int] | None) -> str | None:
        """Raise SpendingCapExceeded when the call must not happen; else a reservation id."""
        return None

    def stop(self) -> None:
        """Stop background work."""


class StrictEnforcer(Enforcer):
    """Reserves every call's estimated cost with the collector before it is made."""

    blocking = True
    needs_estimate = True

    def __init__(self, client: HttpClient, fail_open: bool) -> None:
        self._client = client
        self._fail_open = fail_open

    def before_call(self, target: CallTarget, estimate: Mapping[str, int] | None) -> str | None:
        payload = {
            "provider": target.provider,
            "model": target.model,
            "agent": target.agent,
            "customer_id": target.customer_id,
            "estimated_usage": dict(estimate or {}),
            "ttl_seconds": RESERVATION_TTL_SECONDS,
        }
        try:
            response = self._client.request("POST", "/v1/caps/check", payload)
        except TransportError as exc:
            return self._unavailable(f"cannot reach the collector to check caps ({exc})")
        body = response.json()
        if response.status != 200 or not isinstance(body, dict):
            return self._unavailable(f"the cap check answered HTTP {response.status}")
        if body.get("allowed") is False:
            cap = body.get("blocking_cap")
            raise SpendingCapExceeded.from_cap(cap if isinstance(cap, dict) else {})
        if body.get("verified") is False:
            logger.debug("llmobserve: cap check allowed without verification (fail-open)")
        reservation = body.get("reservation_id")
        return str(reservation) if reservation else None

    def _unavailable(self, reason: str) -> str | None:
        if self._fail_open:
            warn_once("caps-unavailable", f"{reason}; calls proceed unchecked (fail_open=True)")
            return None
        raise CapCheckUnavailable(f"{reason}; refusing the call because fail_open=False")
