"""Who a call is for: customer, agent path and tags, carried by a context variable.

One immutable ``Attribution`` lives in one ContextVar, so the hot path reads a single
variable, and threads and asyncio tasks each see the values set in their own context.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Callable, TypeVar, cast

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Attribution:
    """The attribution in force for the calls made in the current context."""

    customer_id: str | None = None
    agent_path: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


_EMPTY = Attribution()
_current: contextvars.ContextVar[Attribution] = contextvars.ContextVar(
    "llmobserve_attribution", default=_EMPTY
)


def current_attribution() -> Attribution:
    """Return the customer, agent path and tags that apply to a call made now."""
    return _current.get()


def set_customer_id(customer_id: str | None) -> contextvars.Token[Attribution]:
    """Attribute the calls made from now on in this context to ``customer_id``.

    It applies to the current thread or asyncio task and to the tasks it starts
    afterwards; ``None`` clears it. Returns a token for ``reset_attribution`` when
    the caller wants to restore the previous value explicitly.
    """
    value = None if customer_id is None else str(customer_id)
    return _current.set(replace(_current.get(), customer_id=value))


def reset_attribution(token: contextvars.Token[Attribution]) -> None:
    """Restore the attribution that was in force before the change that gave ``token``."""
    _current.reset(token)


class _Scope:
    """Shared machinery of the attribution context managers."""

    def __init__(self) -> None:
        self._tokens: list[contextvars.Token[Attribution]] = []

    def _apply(self, attribution: Attribution) -> Attribution:
        raise NotImplementedError

    def __enter__(self) -> _Scope:
        self._tokens.append(_current.set(self._apply(_current.get())))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _current.reset(self._tokens.pop())

    async def __aenter__(self) -> _Scope:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


class customer(_Scope):
    """Context manager attributing the calls made inside it to one customer.

    >>> with llmobserve.customer("cus_123"):
    ...     client.chat.completions.create(...)
    """

    def __init__(self, customer_id: str) -> None:
        super().__init__()
        self.customer_id = str(customer_id)

    def _apply(self, attribution: Attribution) -> Attribution:
        return replace(attribution, customer_id=self.customer_id)


class tags(_Scope):
    """Context manager adding free-form string tags to the calls made inside it.

    Inner tags override outer tags of the same key; the defaults given to
    ``observe(tags=...)`` apply underneath them.
    """

    def __init__(self, **values: str) -> None:
        super().__init__()
        self.values = {str(k): str(v) for k, v in values.items()}

    def _apply(self, attribution: Attribution) -> Attribution:
        return replace(attribution, tags={**attribution.tags, **self.values})


class agent(_Scope):
    """Attribute the calls made inside to an agent; nested agents keep their path.

    Works as a context manager (sync and async) and as a decorator of sync and async
    functions::

        @llmobserve.agent("planner")
        def plan(): ...

        with llmobserve.agent("research_agent"):   # inside plan(): "planner/research_agent"
            ...
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        name = str(name).strip("/")
        if not name:
            raise ValueError("agent name must not be empty")
        self.name = name

    def _apply(self, attribution: Attribution) -> Attribution:
        parent = attribution.agent_path
        path = self.name if not parent else f"{parent}/{self.name}"
        return replace(attribution, agent_path=path)

    def __call__(self, func: _F) -> _F:
        """Decorate ``func`` so each of its calls runs inside this agent."""
        name = self.name
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with agent(name):
                    return await func(*args, **kwargs)

            return cast(_F, run_async)

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with agent(name):
                return func(*args, **kwargs)

        return cast(_F, run)
