"""Cached enforcement: calls are checked against a local copy of the exhausted caps.

A background thread refreshes the list (``GET /v1/caps/blocked``); checking a call is
a loop over a small tuple, with no network wait. The view is at most one refresh
interval (the collector says how long, 5 s by default) plus one request old, so a cap
can be overshot by the calls made in that window.
"""

from __future__ import annotations

import datetime
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._caps import CallTarget, Enforcer
from ._errors import CapCheckUnavailable, SpendingCapExceeded
from ._http import HttpClient, TransportError
from ._log import logger, warn_once

MIN_REFRESH_SECONDS = 1.0
MAX_REFRESH_SECONDS = 60.0
# How late a refresh may be before callers start giving the GIL up for it.
OVERDUE_GRACE_SECONDS = 0.5


@dataclass(frozen=True)
class BlockedScope:
    """An exhausted block cap, as listed by ``GET /v1/caps/blocked``."""

    cap: Mapping[str, Any]
    scope: str
    scope_value: str | None
    window_end: float | None

    def matches(self, target: CallTarget, now: float) -> bool:
        """True when the cap covers ``target`` and its window has not ended yet."""
        if self.window_end is not None and now >= self.window_end:
            return False
        value = self.scope_value
        if self.scope == "global":
            return True
        if value is None:
            return False
        # Same rules as the collector's caps: provider and model ignore case, an
        # agent cap covers that agent anywhere in the call's agent path.
        if self.scope == "provider":
            return target.provider.lower() == value.lower()
        if self.scope == "model":
            return target.model.lower() == value.lower()
        if self.scope == "customer":
            return target.customer_id == value
        if self.scope == "agent":
            path = target.agent
            return path is not None and (path == value or value in path.split("/"))
        return False


class CachedEnforcer(Enforcer):
    """Refuses calls that match the last known list of exhausted caps, without waiting."""

    def __init__(
        self,
        client: HttpClient,
        fail_open: bool,
        default_refresh: float = 5.0,
        max_staleness: float = 60.0,
        first_fetch_wait: float = 2.0,
    ) -> None:
        self._client = client
        self._fail_open = fail_open
        self._default_refresh = default_refresh
        self._max_staleness = max_staleness
        self._first_fetch_wait = first_fetch_wait
        self._blocked: tuple[BlockedScope, ...] = ()
        self._fetched_at: float | None = None
        self._fetched = threading.Event()
        self._stop = threading.Event()
        self._pid = -1
        self._thread: threading.Thread | None = None
        # When the refresh thread should have fetched again (monotonic seconds).
        self._due_at = float("inf")

    def start(self) -> None:
        """Start (or, in a forked child, restart) the refresh thread."""
        self._pid = os.getpid()
        self._due_at = time.monotonic() + self._first_fetch_wait
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="llmobserve-caps-refresh", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def refresh(self) -> float:
        """Fetch the blocked list once; returns the seconds to wait before the next fetch."""
        try:
            response = self._client.request("GET", "/v1/caps/blocked")
        except TransportError as exc:
            warn_once("blocked-unreachable", f"cannot refresh blocked caps ({exc})")
            return self._default_refresh
        body = response.json()
        if response.status != 200 or not isinstance(body, dict):
            warn_once(
                f"blocked-{response.status}",
                f"GET /v1/caps/blocked answered HTTP {response.status}; keeping the last view",
            )
            return self._default_refresh
        entries = body.get("blocked")
        self._blocked = tuple(
            _blocked_scope(e)
            for e in (entries if isinstance(entries, list) else [])
            if isinstance(e, dict)
        )
        self._fetched_at = time.monotonic()
        self._fetched.set()
        wait = body.get("refresh_after_seconds")
        if isinstance(wait, (int, float)) and not isinstance(wait, bool):
            return max(MIN_REFRESH_SECONDS, min(MAX_REFRESH_SECONDS, float(wait)))
        return self._default_refresh

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.refresh()
            except Exception:  # keep refreshing whatever one answer looked like
                logger.exception("llmobserve: blocked caps refresh failed")
                wait = self._default_refresh
            self._due_at = time.monotonic() + wait + OVERDUE_GRACE_SECONDS
            self._stop.wait(wait)

    def before_call(self, target: CallTarget, estimate: Mapping[str, int] | None) -> str | None:
        if self._pid != os.getpid():
            self.start()
        if time.monotonic() > self._due_at:
            # The refresh is overdue: a caller that never waits on I/O can keep the GIL
            # from the refresh thread for as long as it runs (it must take the GIL back
            # after each socket call and may lose every race). Giving it up lets it run.
            time.sleep(0)
        if not self._fail_open:
            self._require_fresh_view()
        now = time.time()
        for blocked in self._blocked:
            if blocked.matches(target, now):
                raise SpendingCapExceeded.from_cap(blocked.cap)
        return None

    def _require_fresh_view(self) -> None:
        if self._fetched_at is None:
            self._fetched.wait(self._first_fetch_wait)
        fetched_at = self._fetched_at
        if fetched_at is None or time.monotonic() - fetched_at > self._max_staleness:
            raise CapCheckUnavailable(
                "the list of blocked caps is missing or stale and fail_open=False"
            )


def _blocked_scope(entry: Mapping[str, Any]) -> BlockedScope:
    value = entry.get("scope_value")
    return BlockedScope(
        cap=entry,
        scope=str(entry.get("scope") or ""),
        scope_value=None if value is None else str(value),
        window_end=_epoch_seconds(entry.get("window_end")),
    )


def _epoch_seconds(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()
