"""A loopback stand-in for the collector that records what the SDK sends."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ._server import LoopbackServer, Reply, Request

#: A /v1/caps/check answer refusing the call: a customer cap already reached.
REFUSAL = Reply(
    body={
        "allowed": False,
        "reservation_id": None,
        "blocking_cap": {
            "id": "cap_1",
            "name": "per customer",
            "scope": "customer",
            "scope_value": "cus_1",
            "period": "monthly",
            "limit": "10.000000",
            "spent": "9.990000",
            "reserved": "0.000000",
        },
    }
)


@dataclass
class FakeCollector:
    #: Replies to POST /v1/events, used in order before the default 200.
    event_replies: deque[Reply] = field(default_factory=deque)
    #: Reply to POST /v1/caps/check (None: allow with a fresh reservation id).
    check_reply: Reply | None = None
    blocked: list[dict[str, Any]] = field(default_factory=list)
    refresh_after_seconds: float = 1.0
    status_for_all: int | None = None
    delay_seconds: float = 0.0
    batches: list[Request] = field(default_factory=list)
    #: Every POST /v1/events, accepted or not, with its arrival time.
    attempts: list[tuple[float, Request]] = field(default_factory=list)
    checks: list[Request] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    blocked_fetches: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._reservations = 0
        self.server = LoopbackServer(self.handle)
        self.url = self.server.url

    def close(self) -> None:
        self.server.close()

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event of every batch the collector accepted, in arrival order."""
        return [e for r in self.batches for e in (r.body or {}).get("events", [])]

    def wait_for_events(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.events) < count:
            time.sleep(0.01)
        return self.events

    def handle(self, request: Request) -> Reply:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.status_for_all is not None:
            if request.path == "/v1/events":
                self.attempts.append((time.monotonic(), request))
            return Reply(
                self.status_for_all, {"status_code": self.status_for_all, "detail": "nope"}
            )
        path = request.path
        if path == "/v1/events":
            self.attempts.append((time.monotonic(), request))
            with self._lock:
                reply = self.event_replies.popleft() if self.event_replies else None
            if reply is None or reply.status == 200:
                self.batches.append(request)
            return reply or Reply(
                body={"accepted": len(request.body["events"]), "duplicates": 0, "rejected": []}
            )
        if path == "/v1/caps/check":
            self.checks.append(request)
            if self.check_reply is not None:
                return self.check_reply
            with self._lock:
                self._reservations += 1
                rid = f"res_{self._reservations}"
            return Reply(
                body={
                    "allowed": True,
                    "reservation_id": rid,
                    "reserved": "0.043200",
                    "expires_at": "2030-01-01T00:00:00Z",
                    "verified": True,
                }
            )
        if path == "/v1/caps/blocked":
            self.blocked_fetches += 1
            return Reply(
                body={"blocked": self.blocked, "refresh_after_seconds": self.refresh_after_seconds}
            )
        if path.startswith("/v1/reservations/") and path.endswith("/release"):
            self.releases.append(path.split("/")[3])
            return Reply(body={"released": True})
        return Reply(404, {"status_code": 404, "detail": "not found"})
