"""The two-line setup, ``observe()``, and the lifecycle functions around it."""

from __future__ import annotations

import os
from collections.abc import Mapping

from . import _runtime
from ._delivery import ExporterSettings
from ._instrument import instrument
from ._runtime import Config


def observe(
    collector_url: str | None = None,
    api_key: str | None = None,
    tenant_id: str | None = None,
    *,
    enforce: str = "off",
    fail_open: bool = True,
    tags: Mapping[str, str] | None = None,
    base_url_providers: Mapping[str, str] | None = None,
    inject_stream_usage: bool = True,
    max_queue_size: int = 10_000,
    batch_size: int = 200,
    flush_interval: float = 1.0,
    max_retries: int = 5,
    request_timeout: float = 10.0,
    check_timeout: float = 2.0,
) -> None:
    """Start recording the LLM calls of this process and send them to the collector.

    Instruments ``openai`` and ``anthropic`` if they are installed, including when
    they are imported later. Calling it again replaces the previous configuration.

    Args:
        collector_url: base URL of the collector; defaults to ``LLMOBSERVE_COLLECTOR_URL``.
        api_key: an ``llmo_sk_...`` key; defaults to ``LLMOBSERVE_API_KEY``.
        tenant_id: for platform keys, the tenant these calls belong to.
        enforce: hard-block caps: ``"off"``; ``"strict"`` reserves every call's
            estimated cost with the collector first; ``"cached"`` refuses calls
            matching a locally cached list of exhausted caps (refreshed every few
            seconds, so it may lag by that much).
        fail_open: when the collector can't be asked, let calls through (True) or
            raise ``CapCheckUnavailable`` (False).
        tags: tags added to every event (context tags override them).
        base_url_providers: extra ``{"host": "provider"}`` mappings for
            OpenAI-compatible endpoints the SDK does not know.
        inject_stream_usage: add ``stream_options.include_usage`` to streaming
            OpenAI chat calls that lack it (the extra usage chunk is hidden).
        max_queue_size: events kept while the collector is unreachable; beyond it
            the oldest are dropped.
        batch_size: events per request (at most 1,000).
        flush_interval: seconds between sends when fewer than ``batch_size`` wait.
        max_retries: retries of a batch before it is given up.
        request_timeout: seconds the exporter waits for the collector.
        check_timeout: seconds a cap check may take before the fail-open policy applies.

    Raises:
        ValueError: ``enforce`` is not one of the three modes. Everything else that
            is wrong (no key, a bad URL, a refused key) is logged once as a warning.
    """
    config = Config(
        collector_url=collector_url or os.environ.get("LLMOBSERVE_COLLECTOR_URL"),
        api_key=api_key or os.environ.get("LLMOBSERVE_API_KEY"),
        tenant_id=tenant_id,
        enforce=enforce,
        fail_open=fail_open,
        tags={str(k): str(v) for k, v in (tags or {}).items()},
        base_url_providers=dict(base_url_providers or {}),
        inject_stream_usage=inject_stream_usage,
        exporter=ExporterSettings(
            max_queue_size=max_queue_size,
            batch_size=batch_size,
            interval=flush_interval,
            max_retries=max_retries,
        ),
        request_timeout=request_timeout,
        check_timeout=check_timeout,
    )
    _runtime.install(config)
    instrument()


def flush(timeout: float = 5.0) -> bool:
    """Send every event recorded so far; True if all were handled within ``timeout`` seconds."""
    runtime = _runtime.active()
    return True if runtime is None else runtime.flush(timeout)


def shutdown(timeout: float = 5.0) -> None:
    """Flush for at most ``timeout`` seconds and stop recording; calls then pass through."""
    _runtime.uninstall(timeout)


def stats() -> dict[str, int]:
    """Exporter counters: events ``queued``, ``sent``, ``rejected``, ``failed``, ``dropped``."""
    runtime = _runtime.active()
    exporter = None if runtime is None else runtime.exporter
    if exporter is None:
        return {"queued": 0, "sent": 0, "rejected": 0, "failed": 0, "dropped": 0}
    return {
        "queued": exporter.queue_length(),
        "sent": exporter.sent,
        "rejected": exporter.rejected,
        "failed": exporter.failed,
        "dropped": exporter.dropped,
    }
