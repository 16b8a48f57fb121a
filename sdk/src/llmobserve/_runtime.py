"""The SDK's process-wide state: configuration, exporter and enforcer, set by ``observe()``."""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from ._cached_caps import CachedEnforcer
from ._caps import Enforcer, StrictEnforcer
from ._delivery import ExporterSettings
from ._events import PendingEvent
from ._exporter import Exporter
from ._http import CollectorEndpoint, HttpClient
from ._log import forget_warnings, warn_once
from ._providers import ProviderResolver

ENFORCE_MODES = ("off", "cached", "strict")
API_KEY_PREFIX = "llmo_sk_"


@dataclass(frozen=True)
class Config:
    """Everything ``observe()`` was told, after environment fallbacks."""

    collector_url: str | None
    api_key: str | None
    tenant_id: str | None = None
    enforce: str = "off"
    fail_open: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)
    base_url_providers: Mapping[str, str] = field(default_factory=dict)
    inject_stream_usage: bool = True
    exporter: ExporterSettings = field(default_factory=ExporterSettings)
    request_timeout: float = 10.0
    check_timeout: float = 2.0


class Runtime:
    """What the instrumented calls use: where to send events and how to enforce caps."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.providers = ProviderResolver(config.base_url_providers)
        self.enforcer: Enforcer = Enforcer()
        self.exporter: Exporter | None = None
        endpoint = _endpoint(config)
        if endpoint is None:
            return
        self.exporter = Exporter(
            lambda: HttpClient(endpoint, config.request_timeout),
            config.exporter,
            config.tenant_id,
            config.tags,
        )
        if config.enforce == "strict":
            self.enforcer = StrictEnforcer(
                HttpClient(endpoint, config.check_timeout), config.fail_open
            )
        elif config.enforce == "cached":
            cached = CachedEnforcer(HttpClient(endpoint, config.check_timeout), config.fail_open)
            cached.start()
            self.enforcer = cached

    def record(self, event: PendingEvent) -> None:
        """Queue an event for the collector (never blocks, never raises)."""
        if self.exporter is not None:
            self.exporter.put(event)

    def release(self, reservation_id: str) -> None:
        """Release a reservation whose call failed, from the background worker."""
        if self.exporter is not None:
            self.exporter.release_later(reservation_id)

    def flush(self, timeout: float) -> bool:
        """Send what is queued; True when everything left before ``timeout``."""
        return True if self.exporter is None else self.exporter.flush(timeout)

    def shutdown(self, timeout: float) -> None:
        """Flush, then stop the background threads."""
        self.enforcer.stop()
        if self.exporter is not None:
            self.exporter.shutdown(timeout)


def _endpoint(config: Config) -> CollectorEndpoint | None:
    """Validate where events go; a bad setting is one warning and no export, never a crash."""
    if not config.collector_url or not config.api_key:
        warn_once(
            "config-missing",
            "no collector_url/api_key given (nor LLMOBSERVE_COLLECTOR_URL/LLMOBSERVE_API_KEY);"
            " LLM calls are not recorded",
        )
        return None
    if not config.api_key.startswith(API_KEY_PREFIX):
        warn_once(
            "config-key",
            f"the API key does not start with {API_KEY_PREFIX!r}; the collector will likely"
            " refuse it",
        )
    try:
        return CollectorEndpoint(config.collector_url, config.api_key)
    except ValueError as exc:
        warn_once("config-url", f"{exc}; LLM calls are not recorded")
        return None


_lock = threading.Lock()
_active: Runtime | None = None
_atexit_registered = False


def active() -> Runtime | None:
    """The runtime set by ``observe()``, or None when the SDK is off."""
    return _active


def install(config: Config) -> Runtime:
    """Replace the active runtime with one built from ``config``."""
    global _active, _atexit_registered
    if config.enforce not in ENFORCE_MODES:
        raise ValueError(f"enforce must be one of {ENFORCE_MODES}, got {config.enforce!r}")
    with _lock:
        previous = _active
        _active = None
    if previous is not None:
        previous.shutdown(timeout=2.0)
    forget_warnings()
    runtime = Runtime(config)
    with _lock:
        _active = runtime
        if not _atexit_registered:
            atexit.register(_flush_at_exit)
            _atexit_registered = True
    return runtime


def uninstall(timeout: float) -> None:
    """Flush and stop the active runtime; instrumented calls then pass straight through."""
    global _active
    with _lock:
        runtime = _active
        _active = None
    if runtime is not None:
        runtime.shutdown(timeout)


def _flush_at_exit() -> None:
    seconds = os.environ.get("LLMOBSERVE_EXIT_FLUSH_SECONDS", "2")
    try:
        timeout = float(seconds)
    except ValueError:
        timeout = 2.0
    uninstall(timeout)
