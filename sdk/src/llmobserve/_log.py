"""The SDK's logger, and warnings that are worth saying once, not once per call."""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger("llmobserve")

_said: set[str] = set()
_said_lock = threading.Lock()


def warn_once(key: str, message: str) -> None:
    """Log ``message`` as a warning the first time ``key`` is seen in this process."""
    with _said_lock:
        if key in _said:
            return
        _said.add(key)
    logger.warning("llmobserve: %s", message)


def forget_warnings() -> None:
    """Allow every warning to be said again (a new ``observe()`` configuration)."""
    with _said_lock:
        _said.clear()
