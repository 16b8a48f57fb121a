"""Instrumentation of the ``anthropic`` package: messages.create, .parse and .stream,
and the same three of ``beta.messages``.

Streams report usage twice: ``message_start`` carries the input and cache counts,
``message_delta`` the cumulative output count (and, on newer models, updated input
counts). ``messages.stream()`` builds its helper stream on top of a raw event stream,
which is swapped for a tracking proxy when the ``with`` block is entered, so the
helper's own accumulation (``get_final_message``, ``text_stream``) is recorded too.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import wrapt

from .. import _runtime
from .._errors import LLMObserveError
from .._log import logger
from .._runtime import Runtime
from .._usage import field, from_anthropic, merge_anthropic_delta
from ._call import Call, quietly, start_call, start_call_async
from ._streams import StreamObserver, StreamTracker, TrackedAsyncStream, TrackedStream
from ._wrappers import MethodSpec, async_wrapper, sync_wrapper


def provider_of(runtime: Runtime, resource: Any) -> str:
    """The provider billing a resource's calls: Anthropic, or a cloud reselling Claude."""
    client = getattr(resource, "_client", None)
    name = type(client).__name__
    default = "bedrock" if "Bedrock" in name else "vertex" if "Vertex" in name else "anthropic"
    return runtime.providers.resolve(getattr(client, "base_url", ""), default)


class MessageEventObserver(StreamObserver):
    """Reads raw message stream events."""

    def __init__(self, hide_usage_chunk: bool = False) -> None:
        super().__init__()

    def observe(self, item: Any) -> bool:
        kind = field(item, "type")
        if kind == "content_block_delta":
            delta = field(item, "delta")
            for name in ("text", "partial_json", "thinking"):
                value = field(delta, name)
                if isinstance(value, str):
                    self.output_chars += len(value)
        elif kind == "message_start":
            message = field(item, "message")
            self.model = field(message, "model") or self.model
            self.usage = from_anthropic(field(message, "usage")) or self.usage
        elif kind == "message_delta":
            self.usage = merge_anthropic_delta(self.usage, field(item, "usage"))
        return True


CREATE = MethodSpec("chat", provider_of, from_anthropic, MessageEventObserver)
PARSE = MethodSpec("chat", provider_of, from_anthropic)


class _TrackedStreamManager(wrapt.ObjectProxy):  # type: ignore[type-arg, misc, unused-ignore]
    """Proxy of MessageStreamManager: checks caps and tracks the stream on enter."""

    def __init__(
        self, wrapped: Any, runtime: Runtime, provider: str, kwargs: dict[str, Any]
    ) -> None:
        super().__init__(wrapped)
        self._self_runtime = runtime
        self._self_provider = provider
        self._self_kwargs = kwargs
        self._self_tracker: StreamTracker | None = None

    def _self_track(self, call: Call, message_stream: Any) -> Any:
        try:
            raw = message_stream._raw_stream
            tracker = StreamTracker(call, MessageEventObserver())
            is_async = hasattr(raw, "__aiter__")
            message_stream._raw_stream = (
                TrackedAsyncStream(raw, tracker) if is_async else TrackedStream(raw, tracker)
            )
            self._self_tracker = tracker
        except Exception:
            logger.debug("llmobserve: cannot track this message stream", exc_info=True)
            quietly(lambda: call.succeeded(None, None))
        return message_stream

    def __enter__(self) -> Any:
        try:
            call = start_call(
                self._self_runtime,
                self._self_provider,
                self._self_kwargs.get("model"),
                "chat",
                self._self_kwargs,
            )
        except LLMObserveError:
            raise
        except Exception:
            logger.debug("llmobserve: instrumentation skipped a stream", exc_info=True)
            return self.__wrapped__.__enter__()
        try:
            message_stream = self.__wrapped__.__enter__()
        except BaseException:
            quietly(call.failed)
            raise
        return self._self_track(call, message_stream)

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            if self._self_tracker is not None:
                self._self_tracker.finish()

    def _self_discard_request(self) -> None:
        # The async manager holds its request as a coroutine made by .stream(): one
        # refused by a cap is never awaited, which Python would warn about.
        for value in vars(self.__wrapped__).values():
            if inspect.iscoroutine(value):
                value.close()

    async def __aenter__(self) -> Any:
        try:
            call = await start_call_async(
                self._self_runtime,
                self._self_provider,
                self._self_kwargs.get("model"),
                "chat",
                self._self_kwargs,
            )
        except LLMObserveError:
            quietly(self._self_discard_request)
            raise
        except Exception:
            logger.debug("llmobserve: instrumentation skipped a stream", exc_info=True)
            return await self.__wrapped__.__aenter__()
        try:
            message_stream = await self.__wrapped__.__aenter__()
        except BaseException:
            quietly(call.failed)
            raise
        return self._self_track(call, message_stream)

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            if self._self_tracker is not None:
                self._self_tracker.finish()


def stream_wrapper(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Wrap ``messages.stream()``: the request (and the cap check) happens on enter."""
    manager = wrapped(*args, **kwargs)
    runtime = _runtime.active()
    if runtime is None:
        return manager
    try:
        return _TrackedStreamManager(manager, runtime, provider_of(runtime, instance), kwargs)
    except LLMObserveError:
        raise
    except Exception:
        logger.debug("llmobserve: cannot track this message stream", exc_info=True)
        return manager


def _message_targets(module: str) -> tuple[tuple[str, str, str, Callable[..., Any]], ...]:
    return (
        (module, "Messages", "create", sync_wrapper(CREATE)),
        (module, "AsyncMessages", "create", async_wrapper(CREATE)),
        (module, "Messages", "parse", sync_wrapper(PARSE)),
        (module, "AsyncMessages", "parse", async_wrapper(PARSE)),
        (module, "Messages", "stream", stream_wrapper),
        (module, "AsyncMessages", "stream", stream_wrapper),
    )


#: (module, class, method, wrapper). The beta API has the same methods, stream
#: events and usage fields; its tool runner and threads call its ``create``.
TARGETS: tuple[tuple[str, str, str, Callable[..., Any]], ...] = _message_targets(
    "anthropic.resources.messages.messages"
) + _message_targets("anthropic.resources.beta.messages.messages")
