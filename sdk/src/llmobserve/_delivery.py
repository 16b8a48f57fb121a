"""Delivery of one request to the collector, with retries, backoff and Retry-After."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from ._http import HttpClient, TransportError
from ._log import logger, warn_once

MAX_RETRY_AFTER_SECONDS = 60.0


@dataclass(frozen=True)
class ExporterSettings:
    """Tuning of the exporter; the defaults suit a typical web service."""

    max_queue_size: int = 10_000
    batch_size: int = 200
    interval: float = 1.0
    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0


class Delivery:
    """POSTs to the collector until it gives a definitive answer or retries run out.

    Connection errors, 408, 429 and 5xx are retried after the server's
    ``Retry-After`` or else an exponential backoff with full jitter, which spreads
    the retries of many processes after a collector restart. Waits end early when
    ``stop`` is set.
    """

    def __init__(
        self, client: HttpClient, settings: ExporterSettings, stop: threading.Event
    ) -> None:
        self._client = client
        self._settings = settings
        self._stop = stop

    def post(
        self,
        path: str,
        payload: Any = None,
        attempts: int | None = None,
        json_body: bytes | None = None,
    ) -> tuple[int, Any] | None:
        """POST until a definitive answer; None when the collector never gave one."""
        tries = attempts if attempts is not None else self._settings.max_retries + 1
        for attempt in range(tries):
            delay: float | None = None
            try:
                response = self._client.request("POST", path, payload, json_body=json_body)
            except TransportError as exc:
                warn_once(
                    "unreachable",
                    f"cannot reach the collector ({exc}); events are kept in a bounded queue"
                    " and retried, the oldest are dropped when it is full",
                )
            else:
                if response.status == 429 or response.status == 408 or response.status >= 500:
                    delay = _retry_after(response.headers.get("retry-after"))
                    logger.debug("llmobserve: collector answered %s, retrying", response.status)
                else:
                    return response.status, response.json()
            if attempt + 1 >= tries:
                break
            if delay is None:
                ceiling = min(self._settings.backoff_max, self._settings.backoff_base * 2**attempt)
                delay = random.uniform(0, ceiling)
            if self._stop.wait(delay):
                break
        return None


def warn_status(status: int, body: Any) -> None:
    """Say once what a definitive non-success answer means for the user."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if status in (401, 403):
        warn_once(
            "auth",
            f"the collector refused the API key (HTTP {status}: {detail}); events are"
            " dropped. Check LLMOBSERVE_API_KEY: it starts with llmo_sk_",
        )
    elif status == 404:
        warn_once(
            "not-found",
            "the collector URL answers 404 for /v1/events; check LLMOBSERVE_COLLECTOR_URL"
            " (it is the server's base URL, without /v1)",
        )
    else:
        warn_once(f"status-{status}", f"the collector answered HTTP {status}: {detail}")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header given in seconds; None otherwise."""
    if value is None:
        return None
    try:
        return max(0.0, min(MAX_RETRY_AFTER_SECONDS, float(value)))
    except ValueError:
        return None
