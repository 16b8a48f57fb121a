"""Patching of the supported client libraries, now or whenever they are imported."""

from __future__ import annotations

import threading
from typing import Any, Callable

import wrapt

from .._log import logger

Target = tuple[str, str, str, Callable[..., Any]]

_lock = threading.Lock()
_hooks_registered = False
_patched: set[tuple[str, str, str]] = set()


def _targets() -> tuple[Target, ...]:
    from . import _anthropic, _openai

    return _openai.TARGETS + _anthropic.TARGETS


def instrument() -> None:
    """Patch openai and anthropic if imported, else as soon as they are imported.

    The wrappers stay in place for the life of the process and pass calls straight
    through while no ``observe()`` configuration is active, so calling this again
    never wraps a method twice.
    """
    global _hooks_registered
    with _lock:
        if _hooks_registered:
            return
        _hooks_registered = True
    by_module: dict[str, list[Target]] = {}
    for target in _targets():
        by_module.setdefault(target[0], []).append(target)
    for module_name, targets in by_module.items():
        wrapt.register_post_import_hook(_patcher(targets), module_name)


def _patcher(targets: list[Target]) -> Callable[[Any], None]:
    def patch(module: Any) -> None:
        for module_name, cls_name, method, wrapper in targets:
            key = (module_name, cls_name, method)
            with _lock:
                if key in _patched:
                    continue
                _patched.add(key)
            if getattr(getattr(module, cls_name, None), method, None) is None:
                logger.debug("llmobserve: %s.%s.%s not found", module_name, cls_name, method)
                continue
            wrapt.wrap_function_wrapper(module, f"{cls_name}.{method}", wrapper)

    return patch
