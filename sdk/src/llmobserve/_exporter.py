"""Ships recorded events to the collector from a background thread.

The caller only appends to a bounded deque: when the collector is down or slow the
queue drops its oldest events (counted in ``dropped``) instead of growing or making
the caller wait. The worker sends batches when ``batch_size`` events are waiting or
every ``interval`` seconds, retries with exponential backoff and full jitter, and
honours ``429 Retry-After``. Event ids are fixed before the first attempt, so a retry
of a batch the collector had in fact stored is recognised as duplicates.
"""

from __future__ import annotations

import collections
import json
import os
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any, Callable

from ._delivery import Delivery, ExporterSettings, warn_status
from ._events import PendingEvent
from ._http import HttpClient
from ._log import logger, warn_once

MAX_BATCH_BYTES = 1024 * 1024


class Exporter:
    """Bounded queue plus the worker thread that empties it into ``POST /v1/events``."""

    def __init__(
        self,
        make_client: Callable[[], HttpClient],
        settings: ExporterSettings,
        tenant_id: str | None,
        default_tags: Mapping[str, str],
    ) -> None:
        self._make_client = make_client
        self._settings = settings
        self._tenant_id = tenant_id
        self._default_tags = dict(default_tags)
        self._max_queue = max(1, settings.max_queue_size)
        self._batch_size = max(1, min(1000, settings.batch_size))
        self._reset_process_state()
        _track_for_fork(self)

    def _reset_process_state(self) -> None:
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._queue: collections.deque[PendingEvent] = collections.deque()
        self._releases: collections.deque[str] = collections.deque()
        self._thread: threading.Thread | None = None
        self._client: HttpClient | None = None
        self._delivery: Delivery | None = None
        self._enqueued = 0
        self._handled = 0
        self.dropped = 0
        self.sent = 0
        self.rejected = 0
        self.failed = 0

    # -- caller side: must stay cheap and must never block on the network ----------

    def put(self, event: PendingEvent) -> None:
        """Queue an event; drops the oldest queued event when the queue is full."""
        with self._lock:
            if self._stop.is_set():
                return
            queue = self._queue
            if len(queue) >= self._max_queue:
                queue.popleft()
                self.dropped += 1
                self._handled += 1
            queue.append(event)
            self._enqueued += 1
            backlog = len(queue)
        if self._thread is None:
            self._start()
        if backlog >= self._batch_size:
            self._wake.set()
            if backlog >= 2 * self._batch_size:
                # The worker is a whole batch behind. A caller that never waits on I/O
                # (answers from memory, a CPU-bound loop) can keep the GIL from it for
                # seconds: after each socket call the worker must take the GIL back and
                # may lose every race to this thread, while the queue fills and drops.
                # Giving the GIL up here lets it run; it costs nothing while it keeps up.
                time.sleep(0)

    def release_later(self, reservation_id: str) -> None:
        """Ask the collector, from the worker, to drop a reservation whose call failed."""
        if self._stop.is_set():
            return
        self._releases.append(reservation_id)
        if self._thread is None:
            self._start()
        self._wake.set()

    def queue_length(self) -> int:
        """Events waiting to be sent."""
        return len(self._queue)

    def flush(self, timeout: float = 5.0) -> bool:
        """Send everything queued so far; True when it all left before ``timeout``."""
        with self._lock:
            target = self._enqueued
            if self._handled >= target and not self._releases:
                return True
        if self._thread is None:
            self._start()
        self._wake.set()
        with self._progress:
            return self._progress.wait_for(lambda: self._handled >= target, timeout)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Flush for at most ``timeout`` seconds, then stop the worker."""
        self.flush(timeout)
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(min(timeout, 1.0))

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(
                target=self._run, name="llmobserve-exporter", daemon=True
            )
            self._thread.start()

    # -- worker side ---------------------------------------------------------------

    def _run(self) -> None:
        self._client = self._make_client()
        self._delivery = Delivery(self._client, self._settings, self._stop)
        while not self._stop.is_set():
            self._wake.wait(self._settings.interval)
            self._wake.clear()
            try:
                self._drain()
            except Exception:  # a bug here must not kill the worker for good
                logger.exception("llmobserve: exporter error")
        self._client.close()

    def _drain(self) -> None:
        while self._releases and not self._stop.is_set():
            self._release(self._releases.popleft())
        while not self._stop.is_set():
            with self._lock:
                count = min(self._batch_size, len(self._queue))
                batch = [self._queue.popleft() for _ in range(count)]
            if not batch:
                return
            try:
                self._send(batch)
            finally:
                with self._progress:
                    self._handled += len(batch)
                    self._progress.notify_all()

    def _send(self, batch: list[PendingEvent]) -> None:
        events = [e.to_wire(self._tenant_id, self._default_tags) for e in batch]
        self._send_events(events)

    def _send_events(self, events: list[dict[str, Any]]) -> None:
        body = json.dumps({"events": events}, separators=(",", ":")).encode()
        if len(body) > MAX_BATCH_BYTES and len(events) > 1:
            half = len(events) // 2
            self._send_events(events[:half])
            self._send_events(events[half:])
            return
        assert self._delivery is not None
        response = self._delivery.post("/v1/events", json_body=body)
        if response is None:
            self.failed += len(events)
            return
        status, body = response
        if status == 413 and len(events) > 1:
            half = len(events) // 2
            self._send_events(events[:half])
            self._send_events(events[half:])
        elif status in (200, 207, 422):
            found = body.get("rejected") if isinstance(body, dict) else None
            rejected: list[Any] = found if isinstance(found, list) else []
            n_rejected = len(rejected)
            self.rejected += n_rejected
            self.sent += len(events) - n_rejected
            if n_rejected:
                warn_once(
                    "rejected",
                    f"the collector rejected {n_rejected} event(s), first: {rejected[0]!r}"
                    " (further rejections are logged at debug level)",
                )
                logger.debug("llmobserve: rejected events: %r", rejected)
        else:
            self.failed += len(events)
            warn_status(status, body)

    def _release(self, reservation_id: str) -> None:
        assert self._delivery is not None
        self._delivery.post(f"/v1/reservations/{reservation_id}/release", {}, attempts=2)

    # -- fork --------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        # The parent's worker thread does not exist in the child, its locks may be
        # held, and its connection is shared with the parent. The queued events are
        # the parent's to send, so the child starts empty and restarts lazily.
        stopped = self._stop.is_set()
        self._reset_process_state()
        if stopped:
            self._stop.set()


_exporters: weakref.WeakSet[Exporter] = weakref.WeakSet()
_fork_hook_installed = False


def _track_for_fork(exporter: Exporter) -> None:
    global _fork_hook_installed
    _exporters.add(exporter)
    if not _fork_hook_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_reset_all_after_fork)
        _fork_hook_installed = True


def _reset_all_after_fork() -> None:
    for exporter in list(_exporters):
        exporter._after_fork_in_child()
